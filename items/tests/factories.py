import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from items.models import Item


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    owner = factory.SubFactory(UserFactory)
    title = factory.Faker("sentence", nb_words=4)
    description = factory.Faker("paragraph")

    class Params:
        # `ItemFactory(deleted=True)`: already in the trash, deleted by its owner.
        deleted = factory.Trait(
            deleted_at=factory.LazyFunction(timezone.now),
            deleted_by=factory.SelfAttribute("owner"),
        )
