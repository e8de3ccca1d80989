import re

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from testing.api import client_for

# Emails go out after the transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)

CHANGE = reverse("user-me-email")
CONFIRM = reverse("auth-email-confirm")
ME = reverse("user-me")
TOKEN = reverse("auth-token")
REFRESH = reverse("auth-token-refresh")
NEW = "new-address@example.com"


def request_change(client, new_email=NEW, password=DEFAULT_PASSWORD):
    return client.post(CHANGE, {"new_email": new_email, "current_password": password})


def mails_to(address):
    return [message for message in mail.outbox if message.to == [address]]


def link_token(message):
    match = re.search(r"/confirm-email\?token=([\w:.\-]+)", message.body)
    assert match, message.body
    return match.group(1)


def confirm(token):
    return APIClient().post(CONFIRM, {"token": token})


def sign_in(email, password=DEFAULT_PASSWORD):
    return APIClient().post(TOKEN, {"email": email, "password": password})


def test_request_mails_a_link_to_the_new_address_and_a_notice_to_the_old(
    auth_client, user, settings
):
    settings.FRONTEND_URL = "https://app.example.com"
    old_email = user.email
    response = request_change(auth_client)
    assert response.status_code == 202
    (confirmation,) = mails_to(NEW)
    assert "https://app.example.com/confirm-email?token=" in confirmation.body
    assert "https://app.example.com/confirm-email?token=" in confirmation.alternatives[0][0]
    (notice,) = mails_to(old_email)
    assert NEW in notice.body
    assert "confirm-email" not in notice.body  # the old address cannot confirm for the new one
    user.refresh_from_db()
    assert user.email == old_email  # nothing changes before the confirmation


def test_confirming_moves_the_account_and_verifies_the_address(auth_client, user):
    old_email = user.email
    request_change(auth_client)
    response = confirm(link_token(mails_to(NEW)[0]))
    assert response.status_code == 200
    assert (response.data["email"], response.data["email_verified"]) == (NEW, True)
    user.refresh_from_db()
    assert (user.email, user.email_verified) == (NEW, True)
    assert sign_in(NEW).status_code == 200
    assert sign_in(old_email).status_code == 401


def test_confirming_ends_every_token_of_the_user(user):
    pair = sign_in(user.email).data
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    request_change(client)
    assert confirm(link_token(mails_to(NEW)[0])).status_code == 200
    assert client.get(ME).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401
    fresh = sign_in(NEW).data
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
    assert client.get(ME).status_code == 200


def test_an_address_of_another_account_gets_no_link_and_the_same_answer(auth_client, user):
    taken = UserFactory(email="taken@example.com")
    free = request_change(auth_client, NEW)
    mail.outbox.clear()
    busy = request_change(auth_client, taken.email.upper())
    assert free.status_code == busy.status_code == 202
    assert free.data == busy.data
    assert mails_to(taken.email) == [] and mails_to(taken.email.upper()) == []
    assert len(mails_to(user.email)) == 1  # the owner is told all the same


def test_a_wrong_password_is_400_and_sends_nothing(auth_client, user):
    response = request_change(auth_client, password="not-the-password")
    assert response.status_code == 400
    assert "current_password" in response.data
    assert mail.outbox == []


@pytest.mark.parametrize(
    "new_email", ["not-an-email", "new@exam\u00adple.com", "new\u200b@example.com", ""]
)
def test_an_invalid_new_address_is_400(auth_client, new_email):
    assert request_change(auth_client, new_email).status_code == 400
    assert mail.outbox == []


def test_the_current_address_is_400(auth_client, user):
    assert request_change(auth_client, user.email.upper()).status_code == 400


def test_the_request_requires_authentication(api_client):
    assert request_change(api_client).status_code == 401


def test_a_link_works_once(auth_client):
    request_change(auth_client)
    token = link_token(mails_to(NEW)[0])
    assert confirm(token).status_code == 200
    assert confirm(token).status_code == 400


def test_a_newer_request_supersedes_the_older_link(auth_client, user):
    request_change(auth_client, "first@example.com")
    first = link_token(mails_to("first@example.com")[0])
    request_change(auth_client, "second@example.com")
    second = link_token(mails_to("second@example.com")[0])
    assert confirm(first).status_code == 400
    assert confirm(second).status_code == 200
    user.refresh_from_db()
    assert user.email == "second@example.com"


def test_a_password_change_cancels_a_pending_change(auth_client, user):
    """The notice tells the owner to change the password; that must stop the takeover."""
    request_change(auth_client)
    token = link_token(mails_to(NEW)[0])
    changed = auth_client.post(
        reverse("user-me-password"),
        {"current_password": DEFAULT_PASSWORD, "new_password": "another-long-passphrase-42"},
    )
    assert changed.status_code == 204
    assert confirm(token).status_code == 400


def test_an_expired_link_is_400(auth_client, settings):
    request_change(auth_client)
    token = link_token(mails_to(NEW)[0])
    settings.ACCOUNT_EMAIL_LINK_TIMEOUT = -1
    assert confirm(token).status_code == 400


def test_an_address_taken_meanwhile_is_400(auth_client, user):
    request_change(auth_client)
    token = link_token(mails_to(NEW)[0])
    UserFactory(email=NEW.upper())
    response = confirm(token)
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email != NEW


@pytest.mark.parametrize("token", ["garbage", "", "a" * 3000, "eyJ1c2VyIjoieCJ9:abc:def"])
def test_a_bad_token_is_400(token):
    assert confirm(token).status_code == 400


def test_a_verification_link_is_no_confirmation_link(settings):
    """Tokens are signed per purpose: one kind cannot stand in for the other."""
    APIClient().post(
        reverse("auth-register"),
        {"email": "signup@example.com", "password": "another-long-passphrase-42"},
    )
    body = mails_to("signup@example.com")[0].body
    token = re.search(r"verify-email\?token=([\w:.\-]+)", body).group(1)
    assert confirm(token).status_code == 400


def test_the_email_change_is_throttled_per_user_with_the_password_change(user, settings):
    client = client_for(user)
    wrong = {"current_password": "wrong-password", "new_password": "another-long-passphrase-42"}
    for _ in range(5):
        assert client.post(reverse("user-me-password"), wrong).status_code == 400
    for _ in range(5):
        assert request_change(client, password="wrong-password").status_code == 400
    throttled = request_change(client)
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    # Another user, from the same address, still has a budget of their own.
    assert request_change(client_for(UserFactory())).status_code == 202
    assert User.objects.filter(email=NEW).count() == 0
