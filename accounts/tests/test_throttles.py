"""
The optional per-user throttle (`THROTTLE_USER_RATE`): every authenticated request counts,
cached pages included; unset, it costs no cache round trip.
"""

import pytest
from django.core.cache import caches
from django.urls import reverse

from accounts.throttles import ResilientUserRateThrottle
from testing.api import client_for

pytestmark = pytest.mark.django_db

ME = reverse("user-me")
ITEMS = reverse("item-list")


@pytest.fixture
def user_rate(monkeypatch):
    """
    THROTTLE_USER_RATE=3/min. DRF copies the rates into its throttle classes at import, so
    the rate is set where the throttles read it.
    """
    monkeypatch.setitem(ResilientUserRateThrottle.THROTTLE_RATES, "user", "3/min")


def statuses(client, urls):
    return [client.get(url).status_code for url in urls]


def test_every_authenticated_request_counts_cached_pages_included(user_rate, auth_client):
    # The second and third list requests are answered from the page cache.
    assert statuses(auth_client, [ITEMS, ITEMS, ME]) == [200, 200, 200]
    refused = auth_client.get(ITEMS)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert auth_client.post(ITEMS, {"title": "x"}).status_code == 429


def test_the_budget_is_per_user(user_rate, auth_client, other_client, user):
    assert statuses(auth_client, [ME] * 4) == [200, 200, 200, 429]
    assert statuses(other_client, [ME] * 3) == [200] * 3
    # Another token of the same user shares the user's budget.
    assert client_for(user).get(ME).status_code == 429


def test_anonymous_requests_are_left_to_the_scoped_throttles(user_rate, auth_client, api_client):
    statuses(auth_client, [ME] * 4)
    assert statuses(api_client, [reverse("health-live")] * 5) == [200] * 5
    assert statuses(api_client, [ITEMS] * 5) == [401] * 5


def test_unset_the_rate_limits_nothing(auth_client):
    assert set(statuses(auth_client, [ITEMS, ME] * 10)) == {200}


def test_the_rate_holds_in_redis_and_while_redis_is_down(user_rate, redis_caches, user):
    redis = redis_caches
    assert statuses(client_for(user), [ME] * 4) == [200, 200, 200, 429]
    assert redis.client().exists(caches["default"].make_key(f"throttle_user_{user.pk}"))

    redis.stop()
    # Each process now counts on its own, from zero: the limit still holds.
    assert statuses(client_for(user), [ME] * 4) == [200, 200, 200, 429]


def redis_commands_during(redis, action):
    """The commands Redis received while `action` ran (MONITOR, on a private server)."""
    marker = "end-of-action"
    with redis.client().monitor() as monitor:
        action()
        redis.client().echo(marker)
        commands = []
        for event in monitor.listen():
            if event["command"] == f"ECHO {marker}":
                return commands
            commands.append(event["command"])


def test_unset_the_throttle_costs_no_cache_round_trip(redis_caches, auth_client):
    redis = redis_caches
    assert auth_client.get(ITEMS).status_code == 200  # now cached

    commands = redis_commands_during(redis, lambda: auth_client.get(ITEMS))
    assert any("items:page:" in command for command in commands)  # a page was read
    assert not [command for command in commands if "throttle" in command]


def test_set_the_throttle_costs_its_round_trips(user_rate, redis_caches, auth_client, user):
    redis = redis_caches
    assert auth_client.get(ITEMS).status_code == 200

    commands = redis_commands_during(redis, lambda: auth_client.get(ITEMS))
    assert [command for command in commands if f"throttle_user_{user.pk}" in command]


@pytest.mark.parametrize("rate_set", [False, True])
def test_the_schema_declares_the_429_when_the_rate_is_set(rate_set, monkeypatch, api_client):
    if rate_set:
        monkeypatch.setitem(ResilientUserRateThrottle.THROTTLE_RATES, "user", "3/min")
    schema = api_client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = schema.json()["paths"]
    authenticated = [paths["/api/v1/items/"]["get"], paths["/api/v1/users/me/"]["patch"]]
    assert all(("429" in operation["responses"]) is rate_set for operation in authenticated)
    assert "429" not in paths["/api/v1/health/live/"]["get"]["responses"]
    assert "429" in paths["/api/v1/auth/token/"]["post"]["responses"]
