import re
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tokens import AccessToken, RefreshToken

pytestmark = pytest.mark.django_db
# Emails go out after the transaction commits, so tests that read them need real commits.
mailing = pytest.mark.django_db(transaction=True)

REGISTER = reverse("auth-register")
TOKEN = reverse("auth-token")
REFRESH = reverse("auth-token-refresh")
LOGOUT = reverse("auth-logout")
LOGOUT_EVERYWHERE = reverse("auth-logout-all")
RESET = reverse("auth-password-reset")
RESET_CONFIRM = reverse("auth-password-reset-confirm")
ME = reverse("user-me")
NEW_PASSWORD = "another-long-passphrase-42"


def login(api_client, email, password=DEFAULT_PASSWORD, **extra):
    return api_client.post(TOKEN, {"email": email, "password": password}, **extra)


def bearer(api_client, access):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return api_client


# --- Registration ---------------------------------------------------------------------------


def test_register_creates_user_and_hides_password(api_client):
    response = api_client.post(
        REGISTER, {"email": "New@Example.COM", "password": NEW_PASSWORD, "full_name": "Ada"}
    )
    assert response.status_code == 201, response.data
    assert set(response.data) == {
        "id", "email", "email_verified", "full_name", "is_active", "is_superuser", "date_joined",
    }  # fmt: skip
    assert response.data["is_superuser"] is False
    user = User.objects.get(pk=response.data["id"])
    assert user.check_password(NEW_PASSWORD)
    assert user.email == "New@example.com"  # domain part normalised


@pytest.mark.parametrize(
    "email",
    [
        "zero\u200bwidth@example.com",
        "soft@exam\u00adple.com",
        "joiner@exa\u200dmple.com",
        "bom@example.com\ufeff",
        "rtl@exa\u202emple.com",
        "filler@exa\u3164mple.com",
        "selector@exa\ufe0fmple.com",
        "bell@exa\x07mple.com",
        "tab@exa\tmple.com",
    ],
)
def test_register_rejects_invisible_and_control_characters_in_the_email(api_client, email):
    response = api_client.post(REGISTER, {"email": email, "password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "email" in response.data
    assert not User.objects.exists()


def test_register_accepts_an_internationalised_address(api_client):
    response = api_client.post(REGISTER, {"email": "zoe@exämple.com", "password": NEW_PASSWORD})
    assert response.status_code == 201, response.data


def test_register_strips_control_characters_from_the_name(api_client):
    response = api_client.post(
        REGISTER,
        {"email": "ada@example.com", "password": NEW_PASSWORD, "full_name": "Ada\r\nLovelace"},
    )
    assert response.status_code == 201
    assert User.objects.get(email="ada@example.com").full_name == "Ada Lovelace"


def test_register_rejects_duplicate_email_in_another_case(api_client, user):
    response = api_client.post(REGISTER, {"email": user.email.upper(), "password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "email" in response.data
    assert User.objects.filter(email__iexact=user.email).count() == 1


def test_register_that_loses_a_race_is_400(api_client):
    """
    Another sign-up of the address, in another case, commits just after this one found the
    address free (reliability/test_registration_race.py does it with concurrent requests).
    """
    steps = []

    def another_sign_up_commits_after_the_check(execute, sql, params, many, context):
        if steps == ["checked"]:
            steps.append("raced")
            UserFactory(email="RACE@example.com")
        elif not steps and sql.startswith("SELECT") and '"accounts_user"' in sql:
            steps.append("checked")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(another_sign_up_commits_after_the_check):
        response = api_client.post(
            REGISTER, {"email": "race@example.com", "password": NEW_PASSWORD}
        )
    assert steps == ["checked", "raced"]
    assert response.status_code == 400
    assert response.data == {"email": ["A user with this email address already exists."]}
    assert User.objects.filter(email__iexact="race@example.com").count() == 1


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short", "too short"), ("password123", "too common"), ("9182736450112", "entirely numeric")],
)
def test_register_runs_django_password_validators(api_client, password, reason):
    response = api_client.post(REGISTER, {"email": "weak@example.com", "password": password})
    assert response.status_code == 400
    assert reason in " ".join(response.data["password"])
    assert not User.objects.filter(email="weak@example.com").exists()


def test_register_ignores_privilege_fields(api_client):
    response = api_client.post(
        REGISTER,
        {"email": "sneaky@example.com", "password": NEW_PASSWORD, "is_superuser": True,
         "is_active": False, "is_staff": True},
    )  # fmt: skip
    assert response.status_code == 201
    user = User.objects.get(email="sneaky@example.com")
    assert (user.is_superuser, user.is_staff, user.is_active) == (False, False, True)


@pytest.mark.parametrize(
    "body", [{}, {"email": "not-an-email", "password": NEW_PASSWORD}, {"email": "a@example.com"}]
)
def test_register_bad_input_is_400(api_client, body):
    assert api_client.post(REGISTER, body).status_code == 400


# --- Password length -----------------------------------------------------------------------

TOO_LONG = "x" * 1025


def test_register_refuses_a_password_over_1024_characters(api_client):
    response = api_client.post(REGISTER, {"email": "long@example.com", "password": TOO_LONG})
    assert response.status_code == 400
    assert "password" in response.data
    ok = api_client.post(REGISTER, {"email": "long@example.com", "password": "y1" * 512})
    assert ok.status_code == 201  # exactly 1024 is allowed


def test_sign_in_refuses_a_password_over_1024_characters_before_checking_it(api_client, user):
    response = login(api_client, user.email, TOO_LONG)
    assert response.status_code == 400  # not the 401 of a checked password
    assert "password" in response.data


@pytest.mark.parametrize("field", ["current_password", "new_password"])
def test_password_change_refuses_a_password_over_1024_characters(auth_client, user, field):
    body = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD, field: TOO_LONG}
    response = auth_client.post(reverse("user-me-password"), body)
    assert response.status_code == 400
    assert "1024" in str(response.data[field])
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_email_change_refuses_a_password_over_1024_characters(auth_client):
    response = auth_client.post(
        reverse("user-me-email"), {"new_email": "new@example.com", "current_password": TOO_LONG}
    )
    assert response.status_code == 400
    assert "current_password" in response.data


def test_reset_confirm_refuses_a_password_over_1024_characters(api_client, user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    response = api_client.post(
        RESET_CONFIRM, {"uid": uid, "token": token, "new_password": TOO_LONG}
    )
    assert response.status_code == 400
    assert "new_password" in response.data
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_user_management_refuses_a_password_over_1024_characters(superuser_client, user):
    created = superuser_client.post(
        reverse("user-list"), {"email": "long@example.com", "password": TOO_LONG}
    )
    assert created.status_code == 400
    assert "password" in created.data
    updated = superuser_client.patch(reverse("user-detail", args=[user.pk]), {"password": TOO_LONG})
    assert updated.status_code == 400
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_the_admin_refuses_a_password_over_1024_characters(superuser):
    admin = Client()
    admin.force_login(superuser)
    response = admin.post(
        reverse("admin:accounts_user_add"),
        {"email": "long@example.com", "password1": TOO_LONG, "password2": TOO_LONG,
         "usable_password": "true"},
    )  # fmt: skip
    assert response.status_code == 200  # the form again, with the error
    assert "at most 1024 characters" in response.content.decode()
    assert not User.objects.filter(email="long@example.com").exists()


# --- Tokens ---------------------------------------------------------------------------------


def test_login_returns_a_working_pair(api_client, user):
    response = login(api_client, user.email)
    assert response.status_code == 200
    assert set(response.data) == {"access", "refresh"}
    me = bearer(api_client, response.data["access"]).get(ME)
    assert me.status_code == 200
    assert me.data["email"] == user.email


def test_login_email_is_case_insensitive(api_client, user):
    assert login(api_client, user.email.upper()).status_code == 200


def test_unknown_email_and_wrong_password_get_the_same_401(api_client, user):
    wrong_password = login(api_client, user.email, "not-the-password")
    unknown_email = login(api_client, "nobody@example.com")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.data == unknown_email.data


def test_inactive_user_cannot_log_in(api_client):
    user = UserFactory(is_active=False)
    assert login(api_client, user.email).status_code == 401


def test_refresh_rotates_and_blacklists_the_old_token(api_client, user):
    refresh = login(api_client, user.email).data["refresh"]
    rotated = api_client.post(REFRESH, {"refresh": refresh})
    assert rotated.status_code == 200
    assert set(rotated.data) == {"access", "refresh"}
    assert rotated.data["refresh"] != refresh
    assert api_client.post(REFRESH, {"refresh": refresh}).status_code == 401
    assert api_client.post(REFRESH, {"refresh": rotated.data["refresh"]}).status_code == 200


def test_garbage_refresh_token_is_401(api_client):
    assert api_client.post(REFRESH, {"refresh": "not.a.token"}).status_code == 401


def test_expired_access_token_is_401(api_client, user):
    access = AccessToken.for_user(user)
    access.set_exp(from_time=timezone.now() - timedelta(days=1))
    response = bearer(api_client, str(access)).get(ME)
    assert response.status_code == 401
    assert response.data["code"] == "token_not_valid"


def test_a_token_that_expires_after_it_was_accepted_is_then_401(api_client, user, monkeypatch):
    # The process remembers the token as verified; its expiry is still checked every time.
    client = bearer(api_client, str(AccessToken.for_user(user)))
    assert client.get(ME).status_code == 200

    later = timezone.now() + AccessToken.lifetime + timedelta(minutes=1)
    for module in ("accounts.authentication", "rest_framework_simplejwt.tokens"):
        monkeypatch.setattr(f"{module}.aware_utcnow", lambda: later)
    response = client.get(ME)

    assert response.status_code == 401
    assert response.data["code"] == "token_not_valid"


def test_expired_refresh_token_is_401(api_client, user):
    refresh = RefreshToken.for_user(user)
    refresh.set_exp(from_time=timezone.now() - timedelta(days=30))
    assert api_client.post(REFRESH, {"refresh": str(refresh)}).status_code == 401


def test_access_token_cannot_be_used_as_refresh(api_client, user):
    access = login(api_client, user.email).data["access"]
    assert api_client.post(REFRESH, {"refresh": access}).status_code == 401


def test_logout_blacklists_the_refresh_token(api_client, user):
    pair = login(api_client, user.email).data
    response = bearer(api_client, pair["access"]).post(LOGOUT, {"refresh": pair["refresh"]})
    assert response.status_code == 204
    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401


def test_logout_twice_is_400(api_client, user):
    pair = login(api_client, user.email).data
    bearer(api_client, pair["access"])
    assert api_client.post(LOGOUT, {"refresh": pair["refresh"]}).status_code == 204
    assert api_client.post(LOGOUT, {"refresh": pair["refresh"]}).status_code == 400


def test_logout_of_another_users_refresh_token_is_400_and_leaves_it_usable(user, other_user):
    client, _ = _signed_in(user)
    _, victims_refresh = _signed_in(other_user)
    response = client.post(LOGOUT, {"refresh": victims_refresh})
    assert response.status_code == 400
    assert "refresh" in response.data
    assert APIClient().post(REFRESH, {"refresh": victims_refresh}).status_code == 200


def test_logout_requires_authentication(api_client, user):
    refresh = login(api_client, user.email).data["refresh"]
    assert api_client.post(LOGOUT, {"refresh": refresh}).status_code == 401


# --- Revocation -----------------------------------------------------------------------------


def _signed_in(user):
    """A fresh client holding a pair issued to `user` through the API."""
    client = APIClient()
    pair = login(client, user.email).data
    return bearer(client, pair["access"]), pair["refresh"]


def _assert_revoked(client, refresh):
    assert client.get(ME).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": refresh}).status_code == 401


def test_logout_everywhere_ends_every_token_of_every_device(user, other_user):
    client, refresh = _signed_in(user)
    other_device, other_refresh = _signed_in(user)
    someone_else, their_refresh = _signed_in(other_user)
    for session in (client, other_device, someone_else):
        assert session.get(ME).status_code == 200  # the user is now in the auth cache

    assert client.post(LOGOUT_EVERYWHERE).status_code == 204

    _assert_revoked(client, refresh)
    _assert_revoked(other_device, other_refresh)
    assert BlacklistedToken.objects.filter(token__token__in=[refresh, other_refresh]).count() == 2
    assert someone_else.get(ME).status_code == 200
    assert APIClient().post(REFRESH, {"refresh": their_refresh}).status_code == 200


def test_logout_everywhere_leaves_the_next_sign_in_working(user):
    client, _ = _signed_in(user)
    assert client.post(LOGOUT_EVERYWHERE).status_code == 204
    # Within the same second: the revocation is exact, not rounded to seconds.
    fresh, refresh = _signed_in(user)
    assert fresh.get(ME).status_code == 200
    assert APIClient().post(REFRESH, {"refresh": refresh}).status_code == 200


def test_logout_everywhere_requires_authentication(api_client, user):
    _, refresh = _signed_in(user)
    assert api_client.post(LOGOUT_EVERYWHERE).status_code == 401
    assert api_client.post(REFRESH, {"refresh": refresh}).status_code == 200


def test_logout_everywhere_with_an_ended_token_is_401(user):
    client, _ = _signed_in(user)
    assert client.post(LOGOUT_EVERYWHERE).status_code == 204
    assert client.post(LOGOUT_EVERYWHERE).status_code == 401


def test_password_change_ends_all_tokens(user):
    client, refresh = _signed_in(user)
    other_session, other_refresh = _signed_in(user)
    response = client.post(
        reverse("user-me-password"),
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 204
    _assert_revoked(client, refresh)
    _assert_revoked(other_session, other_refresh)


@mailing
def test_password_reset_ends_all_tokens(api_client, user):
    client, refresh = _signed_in(user)
    api_client.post(RESET, {"email": user.email})
    uid, token = _reset_link_params(mail.outbox[-1].body)
    confirm = api_client.post(
        RESET_CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    )
    assert confirm.status_code == 204
    _assert_revoked(client, refresh)


def test_deactivation_ends_all_tokens(user, superuser_client):
    client, refresh = _signed_in(user)
    response = superuser_client.patch(reverse("user-detail", args=[user.pk]), {"is_active": False})
    assert response.status_code == 200
    _assert_revoked(client, refresh)


def test_reactivation_does_not_revive_tokens(user, superuser_client):
    client, refresh = _signed_in(user)
    url = reverse("user-detail", args=[user.pk])
    superuser_client.patch(url, {"is_active": False})
    superuser_client.patch(url, {"is_active": True})
    _assert_revoked(client, refresh)
    fresh, _ = _signed_in(user)
    assert fresh.get(ME).status_code == 200


def test_admin_reactivation_does_not_revive_tokens(user, superuser):
    client, refresh = _signed_in(user)
    admin = Client()
    admin.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    form = {
        "email": user.email,
        "full_name": user.full_name,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    assert admin.post(url, form).status_code == 302  # deactivated
    assert admin.post(url, {**form, "is_active": "on"}).status_code == 302
    _assert_revoked(client, refresh)


def test_admin_deactivation_ends_refresh_tokens(user, superuser):
    _, refresh = _signed_in(user)
    admin = Client()
    admin.force_login(superuser)
    response = admin.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "email": user.email,
            "full_name": user.full_name,
            "is_staff": "",
            "is_superuser": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert not user.is_active
    assert APIClient().post(REFRESH, {"refresh": refresh}).status_code == 401


def test_deleted_user_tokens_are_401_not_500(user):
    client, refresh = _signed_in(user)
    user.delete()
    _assert_revoked(client, refresh)


def test_self_deletion_ends_tokens(user):
    client, refresh = _signed_in(user)
    assert client.delete(ME).status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    _assert_revoked(client, refresh)


def test_new_login_after_password_change_works(api_client, user):
    client, _ = _signed_in(user)
    client.post(
        reverse("user-me-password"),
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    )
    # Within the same second as the change: revocation is exact, not rounded to seconds.
    pair = login(api_client, user.email, NEW_PASSWORD).data
    assert bearer(APIClient(), pair["access"]).get(ME).status_code == 200
    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}).status_code == 200


def test_password_change_through_the_admin_ends_all_tokens(user, superuser):
    client, refresh = _signed_in(user)
    admin = Client()
    admin.force_login(superuser)
    response = admin.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    _assert_revoked(client, refresh)


# --- Throttling -----------------------------------------------------------------------------


def test_login_is_throttled_with_retry_after(api_client, user):
    statuses = [login(api_client, user.email, "wrong").status_code for _ in range(5)]
    assert statuses == [401] * 5
    throttled = login(api_client, user.email)
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0


def test_forged_forwarded_for_does_not_reset_the_throttle(api_client, user):
    for n in range(5):
        login(api_client, user.email, "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = login(api_client, user.email, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


def test_throttle_is_per_client_address(api_client, user):
    for _ in range(5):
        login(api_client, user.email, "wrong", REMOTE_ADDR="192.0.2.1")
    assert login(api_client, user.email, REMOTE_ADDR="192.0.2.1").status_code == 429
    assert login(api_client, user.email, REMOTE_ADDR="192.0.2.2").status_code == 200


def test_trusted_proxy_count_uses_forwarded_address(api_client, user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for _ in range(5):
        login(api_client, user.email, "wrong", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert login(api_client, user.email, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert login(api_client, user.email, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200


def test_registration_and_reset_are_throttled(api_client):
    codes = [api_client.post(RESET, {"email": f"x{n}@example.com"}).status_code for n in range(6)]
    assert codes == [202] * 5 + [429]


# --- Password reset -------------------------------------------------------------------------


def _reset_link_params(body):
    match = re.search(r"/reset-password\?uid=([\w-]+)&token=([\w-]+)", body)
    assert match, body
    return match.group(1), match.group(2)


@mailing
def test_reset_email_keeps_the_users_name_out_of_its_first_lines(api_client):
    user = UserFactory(full_name="Mallory Your account is locked call 555 0100")
    api_client.post(RESET, {"email": user.email})
    (message,) = mail.outbox
    assert "Mallory" not in message.subject + "".join(message.body.splitlines()[:4])


@mailing
def test_reset_sends_email_with_frontend_link(api_client, user, settings):
    settings.FRONTEND_URL = "https://app.example.com"
    response = api_client.post(RESET, {"email": user.email.upper()})
    assert response.status_code == 202
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "https://app.example.com/reset-password?uid=" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "https://app.example.com/reset-password?uid=" in html


@mailing
def test_reset_answers_the_same_for_unknown_email(api_client, user):
    known = api_client.post(RESET, {"email": user.email})
    unknown = api_client.post(RESET, {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.data == unknown.data
    assert len(mail.outbox) == 1


@mailing
def test_reset_confirm_sets_password_and_token_works_once(api_client, user):
    api_client.post(RESET, {"email": user.email})
    uid, token = _reset_link_params(mail.outbox[0].body)
    body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    assert api_client.post(RESET_CONFIRM, body).status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    reused = api_client.post(RESET_CONFIRM, {**body, "new_password": "yet-another-passphrase-7"})
    assert reused.status_code == 400
    assert "token" in reused.data


@pytest.mark.parametrize(
    ("uid", "token"),
    [("garbage", "garbage"), ("", "x"), ("MTIz", "abc-def"), ("!!!", "???")],
)
def test_reset_confirm_bad_link_is_400(api_client, uid, token):
    response = api_client.post(
        RESET_CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400


@mailing
def test_reset_confirm_weak_password_is_400_and_keeps_old(api_client, user):
    api_client.post(RESET, {"email": user.email})
    uid, token = _reset_link_params(mail.outbox[0].body)
    response = api_client.post(RESET_CONFIRM, {"uid": uid, "token": token, "new_password": "123"})
    assert response.status_code == 400
    assert "new_password" in response.data
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@mailing
def test_reset_token_expires(api_client, user, settings):
    api_client.post(RESET, {"email": user.email})
    uid, token = _reset_link_params(mail.outbox[0].body)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every token issued so far is now too old
    response = api_client.post(
        RESET_CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400


@mailing
def test_inactive_user_gets_no_reset_email(api_client):
    user = UserFactory(is_active=False)
    assert api_client.post(RESET, {"email": user.email}).status_code == 202
    assert mail.outbox == []


def test_throttle_holds_when_redis_is_down(api_client, user, settings):
    # Nothing listens on port 1: every Redis call fails at once with a connection error.
    settings.CACHES = {
        **settings.CACHES,
        "strict": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    statuses = [login(api_client, user.email, "wrong").status_code for _ in range(5)]
    assert statuses == [401] * 5
    assert login(api_client, user.email).status_code == 429
