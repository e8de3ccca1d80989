import json
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


# --- issue_tokens ---------------------------------------------------------------------------


def issue_tokens(*args):
    out = StringIO()
    call_command("issue_tokens", *args, stdout=out)
    return json.loads(out.getvalue())


def test_issue_tokens_for_existing_users_authenticate_them(api_client):
    user = UserFactory(email="Known@Example.com")

    (issued,) = issue_tokens("known@example.com")

    assert issued["email"] == "Known@Example.com"
    assert issued["id"] == str(user.pk)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued['access']}")
    response = api_client.get("/api/v1/users/me/")
    assert (response.status_code, response.json()["id"]) == (200, str(user.pk))


def test_issue_tokens_refuses_an_unknown_user_without_create():
    with pytest.raises(CommandError, match=r"No user ghost@example\.com"):
        issue_tokens("ghost@example.com")

    assert not User.objects.exists()


def test_issue_tokens_creates_missing_users_without_a_usable_password(api_client):
    issued = issue_tokens("--create", "--superuser", "a@example.com", "b@example.com")

    assert [row["email"] for row in issued] == ["a@example.com", "b@example.com"]
    for row in issued:
        user = User.objects.get(pk=row["id"])
        assert user.is_superuser and user.is_staff and user.email_verified
        assert not user.has_usable_password()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued[0]['access']}")
    assert api_client.get("/api/v1/users/").status_code == 200


def test_issue_tokens_leaves_an_existing_user_as_it_is():
    user = UserFactory(email="plain@example.com")

    issue_tokens("--create", "--superuser", "plain@example.com")

    user.refresh_from_db()
    assert not user.is_superuser and user.has_usable_password()


def test_issue_tokens_gives_created_users_the_password(api_client):
    issue_tokens("--create", "--password", SECRET, "a@example.com", "b@example.com")

    for email in ("a@example.com", "b@example.com"):
        response = api_client.post("/api/v1/auth/token/", {"email": email, "password": SECRET})
        assert response.status_code == 200


@pytest.mark.parametrize("option", [["--superuser"], ["--password", SECRET]])
def test_issue_tokens_options_for_new_users_need_create(option):
    with pytest.raises(CommandError, match="only apply with --create"):
        issue_tokens(*option, "a@example.com")
