import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from testing.api import client_for

# Emails go out after the transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)

REGISTER = reverse("auth-register")
VERIFY = reverse("auth-verify-email")
RESEND = reverse("auth-verify-email-resend")
TOKEN = reverse("auth-token")
ME = reverse("user-me")
EMAIL = "signup@example.com"
PASSWORD = "another-long-passphrase-42"


def register(email=EMAIL, **extra):
    return APIClient().post(REGISTER, {"email": email, "password": PASSWORD, **extra})


def link_token(message):
    match = re.search(r"/verify-email\?token=([\w:.\-]+)", message.body)
    assert match, message.body
    return match.group(1)


def verify(token):
    return APIClient().post(VERIFY, {"token": token})


def sign_in(email=EMAIL, password=PASSWORD):
    return APIClient().post(TOKEN, {"email": email, "password": password})


def test_sign_up_mails_a_verification_link(settings):
    settings.FRONTEND_URL = "https://app.example.com"
    response = register(full_name="Mallory\nYour account is locked, call +1 555 0100")
    assert response.status_code == 201
    assert response.data["email_verified"] is False
    (message,) = mail.outbox
    assert message.to == [EMAIL]
    assert "https://app.example.com/verify-email?token=" in message.body
    assert "https://app.example.com/verify-email?token=" in message.alternatives[0][0]
    # What the user typed stays out of the subject and the preview lines.
    assert "Mallory" not in message.subject + "".join(message.body.splitlines()[:4])


def test_following_the_link_verifies_the_address():
    register()
    response = verify(link_token(mail.outbox[0]))
    assert response.status_code == 204
    assert User.objects.get(email=EMAIL).email_verified
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {sign_in().data['access']}")
    assert client.get(ME).data["email_verified"] is True


def test_following_the_link_twice_is_harmless():
    register()
    token = link_token(mail.outbox[0])
    assert verify(token).status_code == 204
    assert verify(token).status_code == 204


@pytest.mark.parametrize("token", ["garbage", "", "x:y:z", "a" * 3000])
def test_a_bad_token_is_400(token):
    assert verify(token).status_code == 400


def test_an_expired_link_is_400(settings):
    register()
    token = link_token(mail.outbox[0])
    settings.ACCOUNT_EMAIL_LINK_TIMEOUT = -1
    assert verify(token).status_code == 400
    assert not User.objects.get(email=EMAIL).email_verified


def test_a_link_for_an_address_the_account_no_longer_has_is_400():
    register()
    token = link_token(mail.outbox[0])
    User.objects.filter(email=EMAIL).update(email="moved@example.com")
    assert verify(token).status_code == 400
    assert not User.objects.get(email="moved@example.com").email_verified


def test_resend_answers_the_same_for_every_address():
    UserFactory(email="verified@example.com", email_verified=True)
    UserFactory(email="inactive@example.com", is_active=False)
    UserFactory(email="pending@example.com")
    answers = [
        APIClient().post(RESEND, {"email": email})
        for email in ["pending@example.com", "verified@example.com", "inactive@example.com",
                      "nobody@example.com"]
    ]  # fmt: skip
    assert {answer.status_code for answer in answers} == {202}
    assert len({str(answer.data) for answer in answers}) == 1
    assert [message.to for message in mail.outbox] == [["pending@example.com"]]
    assert verify(link_token(mail.outbox[0])).status_code == 204


def test_resend_finds_the_address_in_any_case():
    UserFactory(email="pending@example.com")
    APIClient().post(RESEND, {"email": "PENDING@example.com"})
    assert [message.to for message in mail.outbox] == [["pending@example.com"]]


def test_resend_is_throttled():
    client = APIClient()
    codes = [client.post(RESEND, {"email": f"x{n}@example.com"}).status_code for n in range(6)]
    assert codes == [202] * 5 + [429]


def test_optional_verification_lets_an_unverified_user_sign_in(settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    register()
    assert sign_in().status_code == 200


def test_mandatory_verification_refuses_sign_in_until_verified(settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    register()
    refused = sign_in()
    assert refused.status_code == 401
    assert refused.data["code"] == "email_not_verified"
    assert User.objects.get(email=EMAIL).last_login is None  # not a login
    # A wrong password does not learn that the address is unverified.
    wrong = sign_in(password="not-the-password")
    assert wrong.status_code == 401
    assert wrong.data.get("code") != "email_not_verified"
    verify(link_token(mail.outbox[0]))
    assert sign_in().status_code == 200


def test_no_verification_sends_nothing(settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    register()
    UserFactory(email="pending@example.com")
    APIClient().post(RESEND, {"email": "pending@example.com"})
    assert mail.outbox == []
    assert sign_in().status_code == 200


def test_a_superuser_sees_and_sets_verification(superuser):
    user = UserFactory()
    client = client_for(superuser)
    url = reverse("user-detail", args=[user.pk])
    assert client.get(url).data["email_verified"] is False
    assert client.patch(url, {"email_verified": True}).data["email_verified"] is True
    user.refresh_from_db()
    assert user.email_verified


def test_a_user_cannot_verify_themselves_through_the_profile(user):
    client_for(user).patch(ME, {"email_verified": True})
    user.refresh_from_db()
    assert not user.email_verified


def test_the_admin_shows_and_sets_verification(superuser, client):
    user = UserFactory()
    client.force_login(superuser)
    listing = client.get(reverse("admin:accounts_user_changelist"), {"email_verified__exact": 0})
    assert user.email in listing.content.decode()
    response = client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "email": user.email,
            "email_verified": "on",
            "full_name": user.full_name,
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert user.email_verified


def test_the_seeded_superuser_is_verified(settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    call_command("seed_superuser", email="root@example.com", password=PASSWORD, stdout=StringIO())
    assert User.objects.get(email="root@example.com").email_verified
    assert sign_in("root@example.com").status_code == 200
