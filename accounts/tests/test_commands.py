from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = "seeded-superuser-passphrase"


def seed(**kwargs):
    out = StringIO()
    call_command("seed_superuser", stdout=out, **kwargs)
    return out.getvalue()


def test_seed_superuser_from_environment(settings):
    settings.DJANGO_SUPERUSER_EMAIL = "root@example.com"
    settings.DJANGO_SUPERUSER_PASSWORD = SECRET
    output = seed()
    user = User.objects.get(email="root@example.com")
    assert user.is_superuser and user.is_staff and user.check_password(SECRET)
    assert user.email_verified
    assert SECRET not in output


def test_seed_superuser_from_flags():
    output = seed(email="flag@example.com", password=SECRET)
    assert User.objects.get(email="flag@example.com").is_superuser
    assert SECRET not in output


def test_seed_superuser_is_idempotent():
    seed(email="root@example.com", password=SECRET)
    output = seed(email="ROOT@example.com", password="something-else-entirely")
    assert "already exists" in output
    assert User.objects.filter(email__iexact="root@example.com").count() == 1
    assert User.objects.get(email="root@example.com").check_password(SECRET)


def test_seed_superuser_leaves_an_existing_account_alone():
    user = UserFactory(email="taken@example.com")
    seed(email="taken@example.com", password=SECRET)
    user.refresh_from_db()
    assert not user.is_superuser


@pytest.mark.parametrize(("email", "password"), [("", SECRET), ("root@example.com", ""), ("", "")])
def test_seed_superuser_fails_clearly_without_credentials(settings, email, password):
    settings.DJANGO_SUPERUSER_EMAIL = ""
    settings.DJANGO_SUPERUSER_PASSWORD = ""
    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_EMAIL"):
        seed(email=email, password=password)
    assert not User.objects.exists()
