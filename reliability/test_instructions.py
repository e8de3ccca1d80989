"""
bench/instructions.py counts what it says: the same requests take the same number of
instructions run after run, a Redis round trip and a cached page more than `health/live/`;
`--cpu` times the same requests. valgrind is needed (`apt-get install valgrind`): mandatory
in CI, skipped elsewhere without it.
"""

import json
import shutil
import subprocess
import sys

from testing.image import ROOT
from testing.services import postgres_admin_url, require_service


def run_bench(*args):
    argv = [sys.executable, "bench/instructions.py", *args, "--admin-url", postgres_admin_url()]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_counts_repeat_and_order_the_scenarios():
    if shutil.which("valgrind") is None:
        require_service("valgrind", "not on PATH (apt-get install valgrind)")
    table = run_bench("live", "round_trip", "cached_list", "live", "--requests", "20")
    (live, round_trip, cached, live_again) = table

    assert [row[0] for row in table] == ["live", "round_trip", "cached_list", "live"]
    assert abs(live[1] - live_again[1]) <= live[1] * 0.005
    # The one MGET costs instructions of its own, and a cached page does more than it.
    assert live[1] < round_trip[1] < cached[1]


def test_cpu_times_the_same_requests():
    table = run_bench("live", "cached_list", "--cpu", "--requests", "20")

    assert [row[0] for row in table] == ["live", "cached_list"]
    assert all(cost > 0 for _, cost in table)
