"""Prometheus metrics: behind METRICS_TOKEN, requests by view and status, cache, tasks."""

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY

from accounts.tasks import send_user_email

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests"
METRICS = "/metrics"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0


def requests_counted(view, method, status):
    return value("http_request_duration_seconds_count", view=view, method=method, status=status)


def scrape(client, token=TOKEN):
    return client.get(METRICS, headers={"Authorization": f"Bearer {token}"} if token else {})


def test_metrics_are_off_without_a_token(api_client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(api_client, token="").status_code == 404
    assert scrape(api_client, token="").status_code == 404
    before = requests_counted("health-live", "GET", "200")
    api_client.get(reverse("health-live"))
    assert requests_counted("health-live", "GET", "200") == before


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Token {TOKEN}", TOKEN])
def test_metrics_need_the_token(api_client, metrics_on, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    assert api_client.get(METRICS, headers=headers).status_code == 404


def test_the_scraper_gets_the_exposition_format(api_client, metrics_on):
    response = scrape(api_client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert b"# TYPE http_request_duration_seconds histogram" in response.content


def test_requests_are_counted_by_view_method_and_status(auth_client, api_client, metrics_on):
    before = requests_counted("item-list", "GET", "200"), requests_counted("user-me", "GET", "401")
    auth_client.get(reverse("item-list"))
    auth_client.get(reverse("item-list"))
    api_client.get(reverse("user-me"))
    after = requests_counted("item-list", "GET", "200"), requests_counted("user-me", "GET", "401")
    assert (after[0] - before[0], after[1] - before[1]) == (2, 1)
    assert 'view="item-list"' in scrape(api_client).content.decode()


def test_unknown_methods_and_urls_keep_labels_bounded(api_client, metrics_on):
    before = requests_counted("unmatched", "other", "405") + requests_counted(
        "config.views.api_not_found", "other", "404"
    )
    api_client.generic("BREW", "/api/v1/teapot-12345/")
    after = requests_counted("unmatched", "other", "405") + requests_counted(
        "config.views.api_not_found", "other", "404"
    )
    assert after - before == 1
    assert "teapot" not in scrape(api_client).content.decode()


def test_item_page_cache_hits_and_misses_are_counted(auth_client, metrics_on, settings):
    def counts():
        return tuple(
            value("page_cache_total", resource="items", result=r) for r in ("hit", "miss", "bypass")
        )

    before = counts()
    auth_client.get(reverse("item-list"))  # rendered and stored
    auth_client.get(reverse("item-list"))  # from the cache
    auth_client.get(reverse("item-list"), {"junk": "x"})  # a query that is not cached
    settings.ITEMS_CACHE_TTL = 0
    auth_client.get(reverse("item-list"))  # caching off
    assert tuple(a - b for a, b in zip(counts(), before, strict=True)) == (1, 1, 2)


def test_task_successes_and_failures_are_counted(user, metrics_on):
    name = "accounts.tasks.send_user_email"

    def counts():
        return value("celery_tasks_total", task=name, outcome="success"), value(
            "celery_tasks_total", task=name, outcome="failure"
        )

    before = counts()
    send_user_email.apply(args=[user.pk, "accounts/email/password_reset", {}])
    send_user_email.apply(args=[user.pk, "accounts/email/no-such-template", {}])
    after = counts()
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
