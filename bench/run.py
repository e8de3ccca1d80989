"""
The benchmark: gunicorn with the production settings (2 workers) on PostgreSQL + Redis,
loaded with wrk. Not run in CI; see "Benchmarks and reliability" in the README.

    .venv/bin/pip install -r bench/requirements.txt   # matplotlib, for the chart
    .venv/bin/python bench/run.py                     # everything, about 5 minutes
    .venv/bin/python bench/run.py --max-rows 100000   # the load table only, about 2.5 minutes

It creates a database of its own on the local PostgreSQL (`--admin-url`; dropped at the end),
starts a private Redis, and grows the items table in stages: a probe owner's 10,000 items,
then `seed_demo` up to 100,000 rows, then `seed_demo --items 1000000` on top (1.1M rows). At
each stage it measures the probe owner's list latency from one client; at 100k rows the load
table (`load.py`); at the last stage the CSV export and the seed time. The report
(`report.py`): `bench/results/*.json` and a PNG chart beside them.
"""

import argparse
import os
import platform
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

from bench.load import API, SCENARIOS, wrk  # noqa: E402
from bench.report import save  # noqa: E402
from testing.servers import Gunicorn, issue_tokens, manage, server_env  # noqa: E402
from testing.services import HOST, ThrowawayRedis, throwaway_database  # noqa: E402

PROBE_EMAIL = "bench-probe@example.com"
PROBE_ITEMS = 10_000
LOAD_USERS = 50  # demo users whose tokens the load rotates through


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

    def run(self):
        try:
            with ExitStack() as stack:
                self.database_url = stack.enter_context(
                    throwaway_database(self.args.admin_url, "bench")
                )
                redis = ThrowawayRedis().start()
                stack.callback(redis.stop)
                self.env = server_env(
                    database_url=self.database_url,
                    redis_url=redis.url,
                    ACCESS_TOKEN_LIFETIME_MINUTES="240",
                    # The production defaults: an application and an access line per request,
                    # written to the log file like any container's stdout would be.
                    DJANGO_LOG_LEVEL="INFO",
                    GUNICORN_LOG_LEVEL="info",
                )
                log("migrate")
                manage(self.env, "migrate", "--no-input")
                log_path = Path(tempfile.mkdtemp(prefix="bench-")) / "gunicorn.log"
                log(f"gunicorn log: {log_path}")
                self.server = Gunicorn(self.env, log_path, workers=2, threads=2).start()
                stack.callback(self.server.stop)
                self.stages()
        finally:
            self.results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
            save(self.results, self.args.results)

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
        port, token = self.server.port, [self.probe["access"]]
        wrk(port, "uncached_list", token, seconds=2, connections=1)  # warm-up
        result = wrk(port, "uncached_list", token, seconds=self.args.seconds, connections=1)
        result["table_rows"] = rows
        self.results["owner_list"].append(result)
        log(f"owner list at {rows} rows: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")

    def load_table(self):
        emails = [f"demo{n}@example.com" for n in range(1, LOAD_USERS + 1)]
        users = issue_tokens(self.env, emails)
        tokens = [user["access"] for user in users]
        items = []
        with psycopg.connect(self.database_url) as db:
            for user in users:
                row = db.execute(
                    "SELECT id FROM items_item WHERE owner_id = %s AND deleted_at IS NULL LIMIT 1",
                    [user["id"]],
                ).fetchone()
                items.append(str(row[0]))
        port, connections, table = self.server.port, self.args.connections, {}
        for name, mode in SCENARIOS:
            if mode.startswith("cached"):
                # Every user's page (or item) is in the cache before the clock starts.
                wrk(port, mode, tokens, items, seconds=2, connections=connections)
            result = wrk(
                port, mode, tokens, items, seconds=self.args.seconds, connections=connections
            )
            table[name] = result
            log(f"{name}: {result}")
        base = table["health/live/"]["rps"]
        for result in table.values():
            result["ratio_to_live"] = round(result["rps"] / base, 2)
        self.results["load"] = table
        self.results["rss_per_worker_mib"] = worker_rss_mib(self.server)
        log(f"RSS per worker: {self.results['rss_per_worker_mib']} MiB")

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--max-rows", type=int, default=1_000_000, choices=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--seconds", type=int, default=15, help="per scenario")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--results",
        type=Path,
        default=ROOT / "bench" / "results",
        help="where the report goes (a trial run: bench/results/tmp, which git ignores)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    Bench(args).run()


if __name__ == "__main__":
    main()
