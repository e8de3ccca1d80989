"""
bench/instructions.py counts what it says: the same requests take the same number of
instructions run after run, and a cached page more than `health/live/`. valgrind is needed
(`apt-get install valgrind`): mandatory in CI, skipped elsewhere without it.
"""

import json
import shutil
import subprocess
import sys

from testing.image import ROOT
from testing.services import postgres_admin_url, require_service


def test_counts_repeat_and_order_the_scenarios():
    if shutil.which("valgrind") is None:
        require_service("valgrind", "not on PATH (apt-get install valgrind)")
    argv = [
        sys.executable, "bench/instructions.py", "live", "cached_list", "live",
        "--requests", "5", "--admin-url", postgres_admin_url(),
    ]  # fmt: skip
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    (live, cached, live_again) = json.loads(result.stdout.strip().splitlines()[-1])

    assert [live[0], cached[0], live_again[0]] == ["live", "cached_list", "live"]
    assert abs(live[1] - live_again[1]) <= live[1] * 0.005
    assert cached[1] > live[1] * 1.05
