"""
The admin's sign-in form: throttled per client address like `auth/token/`, in the same
budget, also while Redis is down.
"""

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = reverse("admin:login")
TOKEN = reverse("auth-token")
RATE = 5  # THROTTLE_LOGIN_RATE's default: 5/min


def admin_login(client, email, password="wrong", **extra):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password}, **extra)


def api_login(client, email, password="wrong", **extra):
    return client.post(
        TOKEN, {"email": email, "password": password}, content_type="application/json", **extra
    )


def assert_throttled_page(response):
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Too many sign-in attempts" in page
    assert f"Try again in {response['Retry-After']} second" in page


def test_admin_sign_in_attempts_are_throttled(client, superuser):
    for _ in range(RATE):
        response = admin_login(client, superuser.email)
        assert response.status_code == 200  # the form again, with its error
        assert "Please enter the correct email" in response.content.decode()
    # Refused even with the right password: the attempt is not even checked.
    refused = admin_login(client, superuser.email, DEFAULT_PASSWORD)
    assert_throttled_page(refused)
    assert "_auth_user_id" not in client.session


def test_showing_the_form_is_free(client, superuser):
    for _ in range(3 * RATE):
        assert client.get(ADMIN_LOGIN).status_code == 200
    for _ in range(RATE):
        assert admin_login(client, superuser.email).status_code == 200  # the GETs spent nothing
    assert admin_login(client, superuser.email).status_code == 429
    assert client.get(ADMIN_LOGIN).status_code == 200  # the form is still shown


def test_a_successful_sign_in_goes_through(client, superuser):
    response = admin_login(client, superuser.email, DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def assert_one_budget(client, superuser):
    """Alternating between the admin and the API: together they get one rate, not two."""
    attempts = [(admin_login if n % 2 else api_login)(client, superuser.email) for n in range(RATE)]
    assert [response.status_code for response in attempts] == [401, 200, 401, 200, 401]
    assert_throttled_page(admin_login(client, superuser.email, DEFAULT_PASSWORD))
    assert api_login(client, superuser.email, DEFAULT_PASSWORD).status_code == 429


def test_the_admin_and_the_api_share_one_budget(client, superuser):
    assert_one_budget(client, superuser)


def test_the_api_budget_spent_first_also_closes_the_admin(client, superuser):
    for _ in range(RATE):
        api_login(client, superuser.email)
    assert_throttled_page(admin_login(client, superuser.email, DEFAULT_PASSWORD))


def test_the_budget_is_per_client_address_not_per_forwarded_header(client, superuser):
    for n in range(RATE):
        admin_login(client, superuser.email, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    # A forged X-Forwarded-For does not make a new client (NUM_PROXIES is 0)...
    assert admin_login(client, superuser.email, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429
    # ...another connecting address does.
    other = admin_login(client, superuser.email, DEFAULT_PASSWORD, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, superuser, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for _ in range(RATE):
        admin_login(client, superuser.email, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert (
        admin_login(client, superuser.email, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    )
    fresh = admin_login(
        client, superuser.email, DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.2"
    )
    assert fresh.status_code == 302


def test_one_budget_in_redis_and_while_redis_is_down(redis_caches, superuser):
    redis = redis_caches
    assert_one_budget(Client(), superuser)
    prefix = caches["default"].make_key("throttle_login_").encode()
    assert any(key.startswith(prefix) for key in redis.client().scan_iter())

    redis.stop()
    # Each process now counts on its own, from zero: still one budget, still enforced.
    assert_one_budget(Client(), superuser)
