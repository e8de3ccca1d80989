"""A test run that is killed (a CI timeout, SIGKILL) leaves none of the servers it started."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTS_A_REDIS = """
import sys
from testing.services import ThrowawayRedis
print(ThrowawayRedis().start().process.pid, flush=True)
sys.stdin.read()
"""


def running(pid) -> bool:
    """Alive and not a zombie (an orphan's parent, pid 1 in a container, may never reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_killed_test_process_takes_its_redis_server_with_it():
    test_run = subprocess.Popen(
        [sys.executable, "-c", STARTS_A_REDIS], cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    redis_pid = int(test_run.stdout.readline())
    assert running(redis_pid)

    os.kill(test_run.pid, signal.SIGKILL)
    test_run.wait()

    deadline = time.monotonic() + 10
    while running(redis_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(redis_pid)
