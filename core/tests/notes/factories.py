import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory

from .models import Note


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    owner = factory.SubFactory(UserFactory)
    slug = factory.Sequence(lambda n: f"note-{n}")
    title = factory.Faker("sentence", nb_words=3)

    class Params:
        deleted = factory.Trait(
            deleted_at=factory.LazyFunction(timezone.now),
            deleted_by=factory.SelfAttribute("owner"),
        )
