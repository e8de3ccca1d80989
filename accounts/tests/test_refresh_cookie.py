"""
Cookie mode (`JWT_REFRESH_COOKIE`): the refresh token in an HttpOnly cookie, used only from
allowed origins with a JSON body; body mode unchanged. The browser-level proof (HttpOnly,
CORS, a page reload) is in `reliability/test_browser_spa.py`.
"""

import pytest
from django.core.checks import Tags, run_checks
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.checks import check_refresh_cookie
from accounts.cookies import REFRESH_COOKIE
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tokens import RefreshToken

pytestmark = pytest.mark.django_db

TOKEN = reverse("auth-token")
REFRESH = reverse("auth-token-refresh")
LOGOUT = reverse("auth-logout")
LOGOUT_EVERYWHERE = reverse("auth-logout-all")
ME = reverse("user-me")
CHANGE_PASSWORD = reverse("user-me-password")
SPA = "https://app.example.com"
OWN_ORIGIN = "http://testserver"  # the test client's host: the API's own origin
EVIL = "https://evil.example.net"


@pytest.fixture
def cookie_mode(settings):
    settings.JWT_REFRESH_COOKIE = True
    settings.JWT_REFRESH_COOKIE_SECURE = True
    settings.JWT_REFRESH_COOKIE_SAMESITE = "Lax"
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    settings.CORS_ALLOW_CREDENTIALS = True
    return settings


def sign_in(client, user):
    response = client.post(TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.data
    return response


def refresh(client, origin=SPA, **kwargs):
    """What an SPA sends: a JSON body (here empty), its Origin, the cookie from the jar."""
    return client.post(REFRESH, {}, headers={"Origin": origin}, **kwargs)


def cookie(client):
    return client.cookies[REFRESH_COOKIE].value


def is_blacklisted(token):
    return BlacklistedToken.objects.filter(token__token=token).exists()


# --- Body mode, the default ---------------------------------------------------------------------


def test_body_mode_sets_no_cookie_and_ignores_one(api_client, user):
    response = sign_in(api_client, user)
    assert set(response.data) == {"access", "refresh"}
    assert REFRESH_COOKIE not in response.cookies
    api_client.cookies[REFRESH_COOKIE] = response.data["refresh"]
    ignored = refresh(api_client)
    assert ignored.status_code == 400
    assert "refresh" in ignored.data


def test_body_mode_sends_no_credentials_header(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    response = api_client.options(
        REFRESH, headers={"Origin": SPA, "Access-Control-Request-Method": "POST"}
    )
    assert response["Access-Control-Allow-Origin"] == SPA
    assert "Access-Control-Allow-Credentials" not in response


# --- Signing in ----------------------------------------------------------------------------------


def test_sign_in_sets_the_refresh_token_as_an_httponly_cookie(api_client, user, cookie_mode):
    response = sign_in(api_client, user)
    assert set(response.data) == {"access"}
    morsel = response.cookies[REFRESH_COOKIE]
    assert morsel["httponly"] is True
    assert morsel["secure"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/api/v1/auth/"
    assert int(morsel["max-age"]) == jwt_settings.REFRESH_TOKEN_LIFETIME.total_seconds()
    assert RefreshToken(morsel.value)["user_id"] == str(user.pk)
    me = APIClient().get(ME, headers={"Authorization": f"Bearer {response.data['access']}"})
    assert me.status_code == 200


@pytest.mark.parametrize("samesite", ["Strict", "None"])
def test_cookie_attributes_follow_the_settings(api_client, user, cookie_mode, samesite):
    cookie_mode.JWT_REFRESH_COOKIE_SAMESITE = samesite
    cookie_mode.JWT_REFRESH_COOKIE_SECURE = False
    morsel = sign_in(api_client, user).cookies[REFRESH_COOKIE]
    assert morsel["samesite"] == samesite
    assert morsel["secure"] == ""


def test_allowed_origins_get_credentials_and_others_nothing(api_client, cookie_mode):
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = api_client.options(REFRESH, headers={"Origin": SPA, **preflight})
    assert allowed["Access-Control-Allow-Origin"] == SPA
    assert allowed["Access-Control-Allow-Credentials"] == "true"
    refused = api_client.options(REFRESH, headers={"Origin": EVIL, **preflight})
    assert "Access-Control-Allow-Origin" not in refused
    assert "Access-Control-Allow-Credentials" not in refused


# --- Refreshing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", [SPA, OWN_ORIGIN])
def test_refresh_from_the_cookie_alone_rotates_it(api_client, user, cookie_mode, origin):
    sign_in(api_client, user)
    first = cookie(api_client)
    response = refresh(api_client, origin)
    assert response.status_code == 200, response.data
    assert set(response.data) == {"access"}
    assert response.cookies[REFRESH_COOKIE]["httponly"] is True
    second = cookie(api_client)
    assert second != first
    assert is_blacklisted(first)
    api_client.cookies[REFRESH_COOKIE] = first
    assert refresh(api_client).status_code == 401
    api_client.cookies[REFRESH_COOKIE] = second
    assert refresh(api_client).status_code == 200


def test_a_body_token_still_works_and_its_successor_goes_to_the_cookie(
    api_client, user, cookie_mode
):
    old = str(RefreshToken.for_user(user))
    response = api_client.post(REFRESH, {"refresh": old})  # no Origin, no cookie: a script
    assert response.status_code == 200
    assert set(response.data) == {"access"}
    assert response.cookies[REFRESH_COOKIE].value != old
    assert is_blacklisted(old)


def test_a_body_token_wins_over_the_cookie(api_client, user, other_user, cookie_mode):
    sign_in(api_client, user)
    cookie_token = cookie(api_client)
    body_token = str(RefreshToken.for_user(other_user))
    response = api_client.post(REFRESH, {"refresh": body_token}, headers={"Origin": EVIL})
    assert response.status_code == 200
    assert is_blacklisted(body_token)
    assert not is_blacklisted(cookie_token)


def test_no_cookie_and_no_body_token_is_400(api_client, cookie_mode):
    response = refresh(api_client)
    assert response.status_code == 400
    assert "refresh" in response.data


def test_a_blacklisted_cookie_is_refused(api_client, user, cookie_mode):
    sign_in(api_client, user)
    RefreshToken(cookie(api_client)).blacklist()
    response = refresh(api_client)
    assert response.status_code == 401
    assert response.data["code"] == "token_not_valid"


def test_password_change_ends_the_cookie(api_client, user, cookie_mode):
    access = sign_in(api_client, user).data["access"]
    changed = APIClient().post(
        CHANGE_PASSWORD,
        {"current_password": DEFAULT_PASSWORD, "new_password": "another-long-passphrase-42"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert changed.status_code == 204
    assert refresh(api_client).status_code == 401


# --- CSRF: origin and body type ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},  # sandboxed frames, file:// pages
        {"Origin": "http://app.example.com"},  # the SPA's host over another scheme
        {"Origin": "https://app.example.com.evil.example.net"},
        {},  # no Origin at all
    ],
)
def test_a_cookie_refresh_from_elsewhere_is_403(api_client, user, cookie_mode, headers):
    sign_in(api_client, user)
    token = cookie(api_client)
    response = api_client.post(REFRESH, {}, headers=headers)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "allowed origin" in response.data["detail"]
    assert REFRESH_COOKIE not in response.cookies
    assert not is_blacklisted(token)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "application/x-www-form-urlencoded"),  # an empty cross-site <form>
        ("refresh=x", "application/x-www-form-urlencoded"),
        ("", "multipart/form-data; boundary=x"),
        ('{"x": "y"}', "text/plain"),  # a <form enctype="text/plain"> mimicking JSON
        ("{}", None),
    ],
)
def test_a_cookie_request_without_a_json_body_is_403(
    api_client, user, cookie_mode, body, content_type
):
    access = sign_in(api_client, user).data["access"]
    bearer = {"Authorization": f"Bearer {access}"}
    for url in (REFRESH, LOGOUT):
        response = api_client.generic(
            "POST", url, body, content_type, headers={"Origin": SPA, **bearer}
        )
        assert response.status_code == 403, (url, response.content)
        assert response["Content-Type"] == "application/json"
    assert not is_blacklisted(cookie(api_client))


def test_json_with_a_charset_is_json(api_client, user, cookie_mode):
    sign_in(api_client, user)
    response = api_client.generic(
        "POST", REFRESH, "{}", "application/json; charset=utf-8", headers={"Origin": SPA}
    )
    assert response.status_code == 200


# --- Logging out ---------------------------------------------------------------------------------


def test_logout_from_the_cookie_blacklists_and_clears_it(api_client, user, cookie_mode):
    access = sign_in(api_client, user).data["access"]
    token = cookie(api_client)
    response = api_client.post(
        LOGOUT, {}, headers={"Origin": SPA, "Authorization": f"Bearer {access}"}
    )
    assert response.status_code == 204
    cleared = response.cookies[REFRESH_COOKIE]
    assert cleared.value == ""
    assert cleared["max-age"] == 0
    assert (cleared["path"], cleared["secure"], cleared["samesite"]) == (
        "/api/v1/auth/", True, "Lax",
    )  # fmt: skip
    assert is_blacklisted(token)
    api_client.cookies[REFRESH_COOKIE] = token
    assert refresh(api_client).status_code == 401


def test_logout_with_a_body_token_in_cookie_mode(api_client, user, cookie_mode):
    access = sign_in(api_client, user).data["access"]
    token = cookie(api_client)
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert bearer.post(LOGOUT, {"refresh": token}).status_code == 204
    assert is_blacklisted(token)


def test_logout_from_another_origin_is_403_and_keeps_the_token(api_client, user, cookie_mode):
    access = sign_in(api_client, user).data["access"]
    response = api_client.post(
        LOGOUT, {}, headers={"Origin": EVIL, "Authorization": f"Bearer {access}"}
    )
    assert response.status_code == 403
    assert not is_blacklisted(cookie(api_client))


def test_logout_still_needs_an_access_token(api_client, user, cookie_mode):
    sign_in(api_client, user)
    assert api_client.post(LOGOUT, {}, headers={"Origin": SPA}).status_code == 401
    assert not is_blacklisted(cookie(api_client))


def test_logout_everywhere_ends_and_clears_the_cookie(api_client, user, cookie_mode):
    access = sign_in(api_client, user).data["access"]
    token = cookie(api_client)
    # The access token authenticates it, not the cookie: no JSON body or Origin is needed.
    response = api_client.post(LOGOUT_EVERYWHERE, headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 204
    cleared = response.cookies[REFRESH_COOKIE]
    assert (cleared.value, cleared["max-age"], cleared["path"]) == ("", 0, "/api/v1/auth/")
    assert is_blacklisted(token)
    api_client.cookies[REFRESH_COOKIE] = token
    assert refresh(api_client).status_code == 401


def test_logout_everywhere_ends_the_cookies_of_other_browsers(user, cookie_mode):
    this_browser, other_browser = APIClient(), APIClient()
    access = sign_in(this_browser, user).data["access"]
    sign_in(other_browser, user)
    response = APIClient().post(LOGOUT_EVERYWHERE, headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 204
    assert refresh(other_browser).status_code == 401


def test_logout_everywhere_still_needs_an_access_token(api_client, user, cookie_mode):
    sign_in(api_client, user)
    response = api_client.post(LOGOUT_EVERYWHERE, {}, headers={"Origin": SPA})
    assert response.status_code == 401
    assert REFRESH_COOKIE not in response.cookies
    assert refresh(api_client).status_code == 200


# --- System checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"JWT_REFRESH_COOKIE": False, "JWT_REFRESH_COOKIE_SAMESITE": "Bogus"}, []),
        ({"JWT_REFRESH_COOKIE_SAMESITE": "Bogus"}, ["accounts.E001"]),
        ({"JWT_REFRESH_COOKIE_SAMESITE": "None"}, []),
        ({"JWT_REFRESH_COOKIE_SAMESITE": "None", "DEBUG": True}, []),
        (
            {"JWT_REFRESH_COOKIE_SAMESITE": "None", "JWT_REFRESH_COOKIE_SECURE": False},
            ["accounts.W001"],
        ),
        ({"CORS_ALLOWED_ORIGINS": []}, ["accounts.W002"]),
        ({"CORS_ALLOWED_ORIGINS": [], "DEBUG": True}, []),
    ],
)
def test_unsafe_cookie_settings_are_reported(cookie_mode, changes, expected):
    cookie_mode.DEBUG = False
    for name, value in changes.items():
        setattr(cookie_mode, name, value)
    assert [message.id for message in check_refresh_cookie(None)] == expected


def test_the_cookie_check_is_registered(cookie_mode):
    cookie_mode.JWT_REFRESH_COOKIE_SAMESITE = "Bogus"
    assert "accounts.E001" in [message.id for message in run_checks(tags=[Tags.security])]
