"""
The benchmark checks itself (bench/measure.py): each scenario of the load table, run with wrk
for a second against a production server on a small database, passes its self-checks, and a
scenario whose requests do not do what its name says fails them. wrk is needed (`apt-get
install wrk`): mandatory in CI, skipped elsewhere without it.
"""

import secrets
import shutil

import pytest

from bench.load import LIVE, SCENARIOS, SETTINGS, Scenario, run_scenarios
from bench.measure import CACHED, GROUPS, NO_PAGES, UNCACHED, Meter
from testing.servers import issue_tokens, server_env
from testing.services import require_service

USERS = 3


@pytest.fixture(scope="module")
def bench(module_database_url, module_redis, start_server, tmp_path_factory):
    """run(scenarios): each scenario for 1 s over 2 connections, as bench/run.py runs them."""
    if shutil.which("wrk") is None:
        require_service("wrk", "not on PATH (apt-get install wrk)")
    metrics_token = secrets.token_urlsafe(16)
    env = server_env(
        database_url=module_database_url,
        redis_url=module_redis.url,
        METRICS_TOKEN=metrics_token,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path_factory.mktemp("metrics")),
        DJANGO_SETTINGS_MODULE=SETTINGS,
    )
    server = start_server(env, workers=2, threads=2)
    users = issue_tokens(env, [f"bench{n}@example.com" for n in range(USERS)])
    for user in users:
        response = server.request(
            "POST", "/api/v1/items/", body={"title": "bench"}, token=user["access"]
        )
        assert response.status == 201, response
        user["item"] = response.json()["id"]
    meter = Meter(
        server=server,
        redis=module_redis,
        database_url=module_database_url,
        metrics_token=metrics_token,
    )

    def run(scenarios, bracket=None):
        return run_scenarios(
            meter, server.port, users, scenarios=scenarios, seconds=1, warm_up=1,
            connections=2, bracket=bracket, log=lambda message: None,
        )  # fmt: skip

    yield run
    meter.close()


def test_every_scenario_does_what_its_name_says(bench):
    table = bench(SCENARIOS)

    assert {name: result["check"] for name, result in table.items()} == {
        scenario.name: "ok" for scenario in SCENARIOS
    }, table
    for name, result in table.items():
        assert result["requests"] > 0, name
        assert result["cpu_ms_per_request"] > 0, name
        assert set(result["cpu_ms_per_request_by_group"]) == set(GROUPS), name
    for name in ("uncached list", "uncached detail", "create"):  # they query PostgreSQL
        assert table[name]["cpu_ms_per_request_by_group"]["postgres"] > 0, table[name]
    uncached, cached = table["uncached list"]["counters"], table["cached list"]["counters"]
    assert uncached["bypass"] >= table["uncached list"]["requests"]
    assert uncached["page_keys"] == 0
    assert cached["hit"] >= table["cached list"]["requests"] - USERS
    assert table["users/me/"]["counters"]["hit"] >= table["users/me/"]["requests"] - USERS
    assert table["create"]["counters"]["items"] >= table["create"]["requests"]


def test_a_scenario_that_does_not_do_what_it_says_fails_its_check(bench):
    table = bench(
        [
            # "Uncached" requests whose query string repeats (here: none): stored, then hits.
            Scenario("uncached list, repeated query", "cached_list", UNCACHED),
            # "Cached" requests with a query the cache never stores: every one a bypass.
            Scenario("cached detail, unknown parameter", "uncached_detail", CACHED),
            # A read that claims to write nothing, yet the rows grow.
            Scenario("users/me/, but creating", "create", NO_PAGES),
            # The account's pages counted as items' pages.
            Scenario("users/me/, as items", "me", CACHED),
        ]
    )

    repeated = table["uncached list, repeated query"]
    assert any("bypassed the page cache" in failure for failure in repeated["check"]), repeated
    assert any("the page cache served" in failure for failure in repeated["check"]), repeated
    assert repeated["counters"]["hit"] > 0, repeated
    unknown = table["cached detail, unknown parameter"]
    assert any("were served from the cache" in failure for failure in unknown["check"]), unknown
    assert unknown["counters"]["bypass"] >= unknown["requests"], unknown
    creating = table["users/me/, but creating"]
    assert any("the items table changed" in failure for failure in creating["check"]), creating
    misnamed = table["users/me/, as items"]
    assert any("another resource's page cache" in f for f in misnamed["check"]), misnamed
    assert misnamed["counters"]["other_resources"] >= misnamed["requests"], misnamed


def test_the_round_trip_sends_one_mget_per_request_between_two_live_runs(bench, module_redis):
    (round_trip,) = [scenario for scenario in SCENARIOS if scenario.mode == "round_trip"]
    redis = module_redis.client()

    def mgets():
        return redis.info("commandstats").get("cmdstat_mget", {}).get("calls", 0)

    before = mgets()
    result = bench([round_trip], bracket=LIVE)[round_trip.name]

    # One per answered request, and one per request wrk left in flight (at most 2); the
    # health/live/ runs around it send none.
    assert result["requests"] <= mgets() - before <= result["requests"] + 2, result
    assert result["check"] == "ok", result
    bracket = result["bracket"]
    assert list(bracket) == ["before", "after"], result
    assert all(live["check"] == "ok" and live["requests"] > 0 for live in bracket.values())
