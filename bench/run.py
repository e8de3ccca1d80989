"""
The benchmark: gunicorn with the production settings (2 workers; `bench.settings`, which adds
a diagnostic endpoint) on PostgreSQL + Redis, loaded with wrk. Not run in CI; see "Benchmarks
and reliability" in the README.

    .venv/bin/pip install -r bench/requirements.txt   # matplotlib, for the chart
    .venv/bin/python bench/run.py                     # everything, about 8 minutes
    .venv/bin/python bench/run.py --max-rows 100000   # the load table only, about 5.5 minutes

It creates a database of its own on the local PostgreSQL (`--admin-url`; dropped at the end),
starts a private Redis, and grows the items table in stages: a probe owner's 10,000 items,
then `seed_demo` up to 100,000 rows, then `seed_demo --items 1000000` on top (1.1M rows). At
each stage it measures the probe owner's list latency from one client; at 100k rows the load
table (`load.py`), each row's ratio to `health/live/` runs just before and after it; at the
last stage the CSV export and the seed time. The report
(`report.py`): `bench/results/*.json` and a PNG chart beside them.

Every wrk run is measured and checked by `measure.py`: the CPU milliseconds per request of
gunicorn, PostgreSQL and Redis, and whether its requests did what the scenario's name says
(cached pages served from the cache, uncached ones from the database). A run that did not
fails the bench: the report is still written, with the failures, and the exit status is 1.

    .venv/bin/python bench/run.py --max-rows 100000 --profile uncached_list --profile create

`--profile MODE` (a mode of load.lua) runs that scenario once more with py-spy sampling one
worker (`pyspy.py`) and writes its busiest functions to `profile-<time>-<mode>.txt` in the
results directory, the collapsed stacks beside it.
"""

import argparse
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench import pyspy  # noqa: E402
from bench.load import API, LIVE, MODES, SCENARIOS, SETTINGS, Scenario, run_scenarios, wrk  # noqa: E402
from bench.measure import CACHED, UNCACHED, CheckFailed, Meter  # noqa: E402
from bench.report import save  # noqa: E402
from testing.servers import Gunicorn, issue_tokens, manage, server_env  # noqa: E402
from testing.services import HOST, ThrowawayRedis, throwaway_database  # noqa: E402

PROBE_EMAIL = "bench-probe@example.com"
PROBE_ITEMS = 10_000
LOAD_USERS = 50  # demo users whose tokens the load rotates through
WARM_UP_SECONDS = 2
OWNER_LIST = Scenario("owner list", "uncached_list", UNCACHED)


def log(message):
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def rss_kib(pid, field="VmRSS"):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def worker_rss_mib(server):
    return [round(rss_kib(pid) / 1024, 1) for pid in server.worker_pids()]


class Bench:
    def __init__(self, args):
        self.args = args
        self.results = {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "cpus": len(os.sched_getaffinity(0)),
                "python": platform.python_version(),
                "kernel": platform.release(),
            },
            "settings": {
                "workers": 2,
                "threads": 2,
                "wrk_connections": args.connections,
                "seconds_per_scenario": args.seconds,
            },
            "owner_list": [],
        }
        self.failures = []
        self.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

    def run(self):
        try:
            with ExitStack() as stack:
                self.database_url = stack.enter_context(
                    throwaway_database(self.args.admin_url, "bench")
                )
                redis = ThrowawayRedis().start()
                stack.callback(redis.stop)
                metrics_dir = tempfile.mkdtemp(prefix="bench-metrics-")
                stack.callback(shutil.rmtree, metrics_dir, ignore_errors=True)
                metrics_token = secrets.token_urlsafe(24)
                self.env = server_env(
                    database_url=self.database_url,
                    redis_url=redis.url,
                    ACCESS_TOKEN_LIFETIME_MINUTES="240",
                    # The production defaults: the application's line per request (gunicorn's
                    # access line is off), written to the log file as a container's stdout.
                    DJANGO_LOG_LEVEL="INFO",
                    GUNICORN_LOG_LEVEL="info",
                    # Metrics on, as a scraped deployment runs: the page cache's counters
                    # are what the self-checks read (bench/measure.py).
                    METRICS_TOKEN=metrics_token,
                    PROMETHEUS_MULTIPROC_DIR=metrics_dir,
                    DJANGO_SETTINGS_MODULE=SETTINGS,
                )
                log("migrate")
                manage(self.env, "migrate", "--no-input")
                log_path = Path(tempfile.mkdtemp(prefix="bench-")) / "gunicorn.log"
                log(f"gunicorn log: {log_path}")
                self.server = Gunicorn(self.env, log_path, workers=2, threads=2).start()
                stack.callback(self.server.stop)
                self.meter = Meter(
                    server=self.server, redis=redis, database_url=self.database_url,
                    metrics_token=metrics_token,
                )  # fmt: skip
                stack.callback(self.meter.close)
                self.stages()
        finally:
            self.results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
            self.results["failed_checks"] = self.failures
            save(self.results, self.args.results, stamp=self.stamp)
        if self.failures:
            raise CheckFailed(
                "the bench does not measure what it says:\n"
                + "\n".join(f"  {failure}" for failure in self.failures)
            )

    def record_check(self, name, result):
        if result["check"] != "ok":
            self.failures += [f"{name}: {failure}" for failure in result["check"]]

    def stages(self):
        (self.probe,) = issue_tokens(self.env, [PROBE_EMAIL])
        log(f"stage 1: the probe owner's {PROBE_ITEMS} items")
        manage(
            self.env, "seed_demo", "--owner", PROBE_EMAIL, "--items", str(PROBE_ITEMS),
            "--deleted-ratio", "0", "--seed", "0",
        )  # fmt: skip
        self.owner_list()
        if self.args.max_rows >= 100_000:
            log("stage 2: seed_demo up to 100k rows")
            self.seed(100_000 - PROBE_ITEMS, seed=1)
            self.owner_list()
            self.load_table()
        if self.args.max_rows >= 1_000_000:
            log("stage 3: seed_demo --items 1000000 on top")
            self.results["seed_demo_1m_seconds"] = self.seed(1_000_000, seed=2)
            self.owner_list()
            self.export()

    def analyze(self):
        with psycopg.connect(self.database_url, autocommit=True) as db:
            db.execute("VACUUM ANALYZE items_item")
            return db.execute("SELECT count(*) FROM items_item").fetchone()[0]

    def seed(self, items, *, seed):
        started = time.monotonic()
        manage(
            self.env, "seed_demo", "--users", "1000", "--items", str(items), "--seed", str(seed),
            timeout=3600,
        )  # fmt: skip
        elapsed = round(time.monotonic() - started, 1)
        log(f"seed_demo --items {items}: {elapsed}s")
        return elapsed

    def owner_list(self):
        """The probe owner's first page, never from the cache, one client after another."""
        rows = self.analyze()
        port, probe = self.server.port, [self.probe]
        wrk(port, "uncached_list", probe, seconds=WARM_UP_SECONDS, connections=1)
        result = self.meter.run(
            OWNER_LIST,
            lambda: wrk(port, "uncached_list", probe, seconds=self.args.seconds, connections=1),
            users=1,
        )
        result["table_rows"] = rows
        self.results["owner_list"].append(result)
        self.record_check(f"owner list at {rows} rows", result)
        log(
            f"owner list at {rows} rows: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms,"
            f" {result['cpu_ms_per_request']} CPU ms/request, check: {result['check']}"
        )

    def load_table(self):
        emails = [f"demo{n}@example.com" for n in range(1, LOAD_USERS + 1)]
        users = issue_tokens(self.env, emails)
        with psycopg.connect(self.database_url) as db:
            for user in users:
                row = db.execute(
                    "SELECT id FROM items_item WHERE owner_id = %s AND deleted_at IS NULL LIMIT 1",
                    [user["id"]],
                ).fetchone()
                user["item"] = str(row[0])
        port, connections = self.server.port, self.args.connections
        table = run_scenarios(
            self.meter, port, users, seconds=self.args.seconds, warm_up=WARM_UP_SECONDS,
            connections=connections, bracket=LIVE, log=log,
        )  # fmt: skip
        for name, result in table.items():
            self.record_check(name, result)
            for when, live in result.get("bracket", {}).items():
                self.record_check(f"{LIVE.name} {when} {name}", live)
            result["ratio_to_live"], result["cpu_ratio_to_live"] = ratios_to_live(result)
        self.results["load"] = table
        self.results["rss_per_worker_mib"] = worker_rss_mib(self.server)
        log(f"RSS per worker: {self.results['rss_per_worker_mib']} MiB")
        for scenario in SCENARIOS:
            if scenario.mode in self.args.profile:
                self.profile(scenario, users)

    def profile(self, scenario, users):
        """The scenario once more, with py-spy on the first worker; its summary to a file."""
        seconds = self.args.seconds
        base = self.args.results / f"profile-{self.stamp}-{scenario.mode}"
        raw_path = base.with_suffix(".collapsed")
        self.args.results.mkdir(parents=True, exist_ok=True)
        if scenario.expect == CACHED:  # the create scenario has made the pages stale
            wrk(self.server.port, scenario.mode, users, seconds=WARM_UP_SECONDS,
                connections=self.args.connections)  # fmt: skip
        pid = self.server.worker_pids()[0]
        spy = pyspy.record(pid, raw_path)
        time.sleep(pyspy.ATTACH_SECONDS)
        result = wrk(
            self.server.port, scenario.mode, users, seconds=seconds,
            connections=self.args.connections,
        )  # fmt: skip
        worked, said = pyspy.finish(spy)
        if not worked:  # the measured runs stand; say why the profile is missing
            base.with_suffix(".txt").write_text(said + "\n")
            log(f"profile of {scenario.name} failed: {said}")
            return
        header = (
            f"{scenario.name}: one of the 2 workers (pid {pid}) sampled while wrk ran for"
            f" {seconds} s ({result['rps']} req/s with the sampling; not in the table)\n"
            f"{said}\n\n"
        )
        base.with_suffix(".txt").write_text(header + pyspy.summary(raw_path))
        log(f"profile of {scenario.name}: {base.with_suffix('.txt')}")

    def export(self):
        """Every live item as CSV, as a superuser; the serving worker's peak memory growth."""
        (admin,) = issue_tokens(self.env, ["bench-admin@example.com"], superuser=True)
        pids = self.server.worker_pids()
        before = {}
        for pid in pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets the peak (VmHWM)
            before[pid] = rss_kib(pid)
        started = time.monotonic()
        curl = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
             "-H", f"Authorization: Bearer {admin['access']}", "-H", f"Host: {HOST}",
             f"http://{HOST}:{self.server.port}{API}/items/export/"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        status, size = curl.stdout.split()
        with psycopg.connect(self.database_url) as db:
            rows = db.execute(
                "SELECT count(*) FROM items_item WHERE deleted_at IS NULL"
            ).fetchone()[0]
        growth = max(rss_kib(pid, "VmHWM") - before[pid] for pid in pids)
        self.results["export"] = {
            "status": int(status),
            "rows": rows,
            "bytes": int(size),
            "seconds": round(elapsed, 1),
            "rows_per_second": round(rows / elapsed),
            "peak_rss_growth_mib": round(growth / 1024, 1),
        }
        self.results["rss_per_worker_after_export_mib"] = worker_rss_mib(self.server)
        log(f"export: {self.results['export']}")


def ratios_to_live(result) -> tuple:
    """
    A row's rate and its CPU per request as ratios to `health/live/`'s, measured just before
    and just after it (its `bracket`): the mean of the two, so a steady drift cancels out.
    """
    if "bracket" not in result:
        return 1.0, 1.0  # the health/live/ row itself
    lives = result["bracket"].values()
    live_rps = sum(live["rps"] for live in lives) / len(lives)
    live_cpu = sum(live["cpu_ms_per_request"] for live in lives) / len(lives)
    return round(result["rps"] / live_rps, 2), round(live_cpu / result["cpu_ms_per_request"], 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--max-rows", type=int, default=1_000_000, choices=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--seconds", type=int, default=15, help="per scenario")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        choices=MODES,
        metavar="MODE",
        help="profile this load table scenario with py-spy (repeatable): " + ", ".join(MODES),
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=ROOT / "bench" / "results",
        help="where the report goes (a trial run: bench/results/tmp, which git ignores)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    if args.profile:
        pyspy.py_spy()  # installed, before minutes of seeding
    try:
        Bench(args).run()
    except CheckFailed as failed:
        sys.exit(f"FAILED: {failed}")


if __name__ == "__main__":
    main()
