"""The load driver: wrk running `load.lua` against the server, one scenario at a time."""

import functools
import json
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import NamedTuple

from bench.measure import CACHED, CREATES, NO_PAGES, UNCACHED
from testing.services import HOST

API = "/api/v1"
SCRIPT = Path(__file__).with_name("load.lua")


class Scenario(NamedTuple):
    name: str  # in the report
    mode: str  # of load.lua
    expect: str  # what its requests do to the page cache, checked after the run (bench.measure)
    resource: str = "items"  # whose page cache: `items`, or `users` for the account page


SCENARIOS = [
    Scenario("health/live/", "live", NO_PAGES),
    Scenario("cached list", "cached_list", CACHED),
    Scenario("uncached list", "uncached_list", UNCACHED),
    Scenario("cached detail", "cached_detail", CACHED),
    Scenario("uncached detail", "uncached_detail", UNCACHED),
    Scenario("create", "create", CREATES),
    # The account, a page stored under the user's authentication-cache version.
    Scenario("users/me/", "me", CACHED, "users"),
    # Not an endpoint of the project: `health/live/` plus a cached page's one Redis round
    # trip (bench.views), the floor of a cached page. Its server runs on `SETTINGS`.
    Scenario("round trip (diagnostic)", "round_trip", NO_PAGES),
]
LIVE = SCENARIOS[0]
MODES = [scenario.mode for scenario in SCENARIOS]
# The production settings with the diagnostic endpoint in the URLs.
SETTINGS = "bench.settings"


def run_scenarios(meter, port, users, *, scenarios=SCENARIOS, seconds, warm_up, connections,
                  bracket=None, log=print):  # fmt: skip
    """
    Each scenario for `seconds`, measured and checked by `meter` (bench.measure.Meter); a
    cached one after `warm_up` seconds that store every user's page. Returns {name: result}.

    With `bracket` (a scenario, `LIVE`), every other scenario runs between two runs of it of
    half the time each, kept in its result as `bracket` (`before`, `after`). Its ratio to
    them then holds while the machine's speed drifts: on a shared machine it moved by up to
    29 % within one table, so a ratio to a row measured minutes earlier moved as much.
    """

    def run(scenario, seconds):
        load = functools.partial(
            wrk, port, scenario.mode, users, seconds=seconds, connections=connections
        )
        return meter.run(scenario, load, users=len(users))

    table = {}
    for scenario in scenarios:
        if scenario.expect == CACHED:
            wrk(port, scenario.mode, users, seconds=warm_up, connections=connections)
        if bracket is None or scenario == bracket:
            table[scenario.name] = result = run(scenario, seconds)
        else:
            before = run(bracket, max(1, seconds // 2))
            table[scenario.name] = result = run(scenario, seconds)
            result["bracket"] = {"before": before, "after": run(bracket, max(1, seconds // 2))}
        log(f"{scenario.name}: {result}")
    return table


def wrk(port, mode, users, *, seconds, connections, threads=1):
    """
    Loads one scenario for `seconds`; requests rotate through the `users` (`issue_tokens`'
    `{access, id}`, with `item`, one of the user's items, for the detail). Returns
    throughput, latency and error counts.
    """
    with tempfile.NamedTemporaryFile("w", prefix="bench-users-", suffix=".txt") as lines:
        for user in users:
            lines.write(f"{user['access']} {user.get('item', '-')} {user['id']}\n")
        lines.flush()
        argv = [
            "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(SCRIPT), f"http://{HOST}:{port}{API}/health/live/",
            "--", mode, HOST, API, lines.name, uuid.uuid4().hex,
        ]  # fmt: skip
        output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRKJSON"))
    result = json.loads(line.removeprefix("WRKJSON"))
    return {
        "rps": round(result["requests"] / (result["duration_us"] / 1e6), 1),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "mean_ms": round(result["mean_us"] / 1000, 2),
        "requests": result["requests"],
        "non_2xx": result["non_2xx"],
        "socket_errors": result["socket_errors"],
    }
