"""
The benchmark: gunicorn with the production settings (2 workers) on PostgreSQL + Redis,
loaded with wrk. Not run in CI; see "Benchmarks and reliability" in the README.

    .venv/bin/pip install -r bench/requirements.txt   # matplotlib, for the chart
    .venv/bin/python bench/run.py                     # everything, about 5 minutes
    .venv/bin/python bench/run.py --max-rows 100000   # the load table only, about 2.5 minutes

It (re)creates the database `bench` on the local PostgreSQL (`--admin-url`), starts a
private Redis, and grows the items table in stages: a probe owner's 10,000 items, then
`seed_demo` up to 100,000 rows, then `seed_demo --items 1000000` on top (1.1M rows). At each
stage it measures the probe owner's list latency from one client; at 100k rows the load
table; at the last stage the CSV export and the seed time. Results: `bench/results/*.json`
and a PNG chart beside them.
"""

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from reliability.servers import (  # noqa: E402
    HOST,
    Gunicorn,
    ThrowawayRedis,
    manage,
    mint_users,
    production_env,
)

RESULTS = ROOT / "bench" / "results"
API = "/api/v1"
PROBE_EMAIL = "bench-probe@example.com"
PROBE_ITEMS = 10_000
LOAD_USERS = 50  # demo users whose tokens the load rotates through

# The probe owner's items, inserted in batches with the ORM (seed_demo spreads its items
# over demo users; the probe must own exactly PROBE_ITEMS whatever else the table holds).
SEED_PROBE = """
from accounts.models import User
from items.models import Item
owner = User.objects.get(email="%s")
for start in range(0, %d, 5000):
    Item.objects.bulk_create(
        [Item(owner=owner, title=f"Probe item {n}") for n in range(start, min(start + 5000, %d))]
    )
"""

# wrk script: each request takes the next token (and item) from the list, so the load is
# spread over LOAD_USERS users; `mode` picks what is sent. done() prints one JSON line.
LUA = """
local tokens = {%(tokens)s}
local items = {%(items)s}
local mode = "%(mode)s"
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local n = (counter + thread_id * 7) %% #tokens + 1
  local headers = {["Host"] = "%(host)s", ["Authorization"] = "Bearer " .. tokens[n]}
  if mode == "live" then
    return wrk.format("GET", "%(api)s/health/live/", {["Host"] = "%(host)s"})
  elseif mode == "me" then
    return wrk.format("GET", "%(api)s/users/me/", headers)
  elseif mode == "cached_list" then
    return wrk.format("GET", "%(api)s/items/", headers)
  elseif mode == "uncached_list" then
    return wrk.format("GET", "%(api)s/items/?nonce=" .. thread_id .. "-" .. counter, headers)
  elseif mode == "cached_detail" then
    return wrk.format("GET", "%(api)s/items/" .. items[n] .. "/", headers)
  elseif mode == "create" then
    headers["Content-Type"] = "application/json"
    local body = '{"title": "bench ' .. thread_id .. "-" .. counter .. '"}'
    return wrk.format("POST", "%(api)s/items/", headers, body)
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRKJSON{"requests": %%d, "duration_us": %%d, "non_2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d, "mean_us": %%d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""

SCENARIOS = [
    ("health/live/", "live"),
    ("cached list", "cached_list"),
    ("uncached list", "uncached_list"),
    ("cached detail", "cached_detail"),
    ("create", "create"),
    # Not a target: the cost of authentication alone (JWT, the user's row, no cache), the
    # floor under every authenticated endpoint above.
    ("users/me/ (auth only)", "me"),
]


def log(message):
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def wrk(port, mode, tokens, items, *, seconds, connections, threads=1):
    script = LUA % {
        "tokens": ", ".join(f'"{t}"' for t in tokens),
        "items": ", ".join(f'"{i}"' for i in items),
        "mode": mode,
        "host": HOST,
        "api": API,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    argv = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", file.name, f"http://{HOST}:{port}{API}/health/live/",
    ]  # fmt: skip
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    Path(file.name).unlink()
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
                "cpus": len(__import__("os").sched_getaffinity(0)),
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
        parts = urlsplit(args.admin_url)
        self.database_url = urlunsplit((parts.scheme, parts.netloc, "/bench", "", ""))

    def run(self):
        redis = ThrowawayRedis().start()
        server = None
        try:
            self.create_database()
            env = production_env(
                database_url=self.database_url,
                redis_url=redis.url,
                ACCESS_TOKEN_LIFETIME_MINUTES="240",
                # The production defaults: an application and an access line per request.
                DJANGO_LOG_LEVEL="INFO",
                GUNICORN_LOG_LEVEL="info",
            )
            self.env = env
            log("migrate")
            manage(env, "migrate", "--no-input")
            log_path = Path(tempfile.mkdtemp(prefix="bench-")) / "gunicorn.log"
            log(f"gunicorn log: {log_path}")
            server = Gunicorn(env, log_path, workers=2, threads=2).start()
            self.server = server
            # Access lines go to the log file like any container's stdout would.
            self.probe = mint_users(env, [PROBE_EMAIL])[0]
            log(f"stage 1: the probe owner's {PROBE_ITEMS} items")
            manage(env, "shell", "-c", SEED_PROBE % (PROBE_EMAIL, PROBE_ITEMS, PROBE_ITEMS))
            self.analyze()
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
        finally:
            if server:
                server.stop()
            redis.stop()
            self.results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
            self.save()

    def create_database(self):
        with psycopg.connect(self.args.admin_url, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS bench WITH (FORCE)")
            admin.execute(sql.SQL("CREATE DATABASE bench"))

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
        wrk(port, "uncached_list", token, [""], seconds=2, connections=1)  # warm-up
        result = wrk(
            port, "uncached_list", token, [""], seconds=self.args.seconds, connections=1,
        )  # fmt: skip
        result["table_rows"] = rows
        self.results["owner_list"].append(result)
        log(f"owner list at {rows} rows: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")

    def load_table(self):
        users = mint_users(self.env, [f"demo{n}@example.com" for n in range(1, LOAD_USERS + 1)])
        tokens = [user["access"] for user in users]
        items = []
        with psycopg.connect(self.database_url) as db:
            for user in users:
                row = db.execute(
                    "SELECT id FROM items_item WHERE owner_id = %s AND deleted_at IS NULL LIMIT 1",
                    [user["id"]],
                ).fetchone()
                items.append(str(row[0]))
        port, table = self.server.port, {}
        for name, mode in SCENARIOS:
            if mode.startswith("cached"):
                # Every user's page (or item) is in the cache before the clock starts.
                wrk(port, mode, tokens, items, seconds=2, connections=self.args.connections)
            result = wrk(
                port, mode, tokens, items,
                seconds=self.args.seconds, connections=self.args.connections,
            )  # fmt: skip
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
        admin = mint_users(self.env, ["bench-admin@example.com"], superuser=True)[0]
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

    def save(self):
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        for path in (RESULTS / f"bench-{stamp}.json", RESULTS / "latest.json"):
            path.write_text(json.dumps(self.results, indent=2) + "\n")
        print_table(self.results)
        try:
            chart(self.results, RESULTS / "latest.png")
            shutil.copy(RESULTS / "latest.png", RESULTS / f"bench-{stamp}.png")
        except ImportError:
            log("matplotlib is not installed (pip install -r bench/requirements.txt): no chart")


def print_table(results):
    if "load" in results:
        print("\n| endpoint | req/s | p50 ms | p99 ms | x health/live/ | non-2xx |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, r in results["load"].items():
            print(
                f"| {name} | {r['rps']:.0f} | {r['p50_ms']} | {r['p99_ms']} | "
                f"{r['ratio_to_live']:.2f} | {r['non_2xx']} |"
            )
    print("\n| table rows | owner-list p50 ms | p99 ms |")
    print("|---:|---:|---:|")
    for r in results["owner_list"]:
        print(f"| {r['table_rows']:,} | {r['p50_ms']} | {r['p99_ms']} |")
    for key in ("export", "rss_per_worker_mib", "seed_demo_1m_seconds"):
        if key in results:
            print(f"{key}: {results[key]}")


def chart(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    if "load" in results:
        names = list(results["load"])
        rps = [results["load"][n]["rps"] for n in names]
        bars = left.bar(names, rps, color="#4c72b0")
        for bar, name in zip(bars, names, strict=True):
            ratio = results["load"][name]["ratio_to_live"]
            left.annotate(
                f"{ratio:.2f}x", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center", va="bottom",
            )  # fmt: skip
        left.set_ylabel("requests/s")
        left.set_title("Throughput, 2 gunicorn workers (x health/live/)")
        left.tick_params(axis="x", rotation=20)
    rows = [r["table_rows"] for r in results["owner_list"]]
    right.plot(rows, [r["p50_ms"] for r in results["owner_list"]], "o-", label="p50")
    right.plot(rows, [r["p99_ms"] for r in results["owner_list"]], "s--", label="p99")
    right.set_xscale("log")
    right.set_xlabel("rows in the items table")
    right.set_ylabel("ms")
    right.set_title("One owner's list (10k items), uncached, one client")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--max-rows", type=int, default=1_000_000, choices=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--seconds", type=int, default=15, help="per scenario")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    Bench(args).run()


if __name__ == "__main__":
    main()
