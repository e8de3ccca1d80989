"""
What one wrk run cost, and whether it did what its scenario's name says.

CPU per request: the user + system time (`/proc/<pid>/stat`) that three groups of processes
used while wrk ran, divided by the requests wrk completed; wrk's own time is left out.

- `server`: the gunicorn arbiter and its workers.
- `postgres`: the local PostgreSQL server's processes that work for the bench: the backends
  connected to the bench's database (but not the one measuring), the server's background
  processes (WAL writer, checkpointer, autovacuum...) and the postmaster, as
  `pg_stat_activity` and the backends' parent name them. Backends of other databases are left
  out: on a shared server they are other people's work. Not measured (None) if the server
  is not on this machine.
- `redis`: the private redis-server.

The processes are listed before and after the run. A process that exits during it (a database
connection older than `CONN_MAX_AGE` is replaced) keeps the time it had at the last of the
samples taken every 0.2 s; one that starts during it counts from zero. The clock stops when
wrk does: the requests it left in flight (at most one per connection) have begun, and are
neither counted nor finished in the window.

The self-checks compare what the server counted with what the scenario claims: counters read
before the run (after any warm-up) and after it, once the requests left in flight have been
answered (no connection to the server is left open), so none of them counts in the next run.

- The page cache's own counters, `page_cache_total{resource, result=hit|miss|bypass}` from
  `/metrics` (the bench turns metrics on with a `METRICS_TOKEN`), for the scenario's
  resource (`items`, or `users` for the account page): counted in the worker as each page is
  served, added up over the workers (prometheus_client's multiprocess files), exact as soon
  as the requests are answered. An uncached run must bypass the cache at least once per
  request and never hit or miss; a cached run must not bypass it, may miss at most once per
  user (a page the warm-up did not store), and must hit for every other request; any other
  run must not touch it. No run may touch another resource's pages.
- What an outside observer sees: the stored pages (Redis keys `*<resource>:page:*`), which
  an uncached run must not add to, and the rows of the items table, which only `create` may
  change, by at least one row per request.

Every run must also complete requests, all of them 2xx. PostgreSQL's scan counters
(`pg_stat_user_tables`) were the other candidate and are not used: a backend publishes them
at most once a second, an idle one after up to 10 s, so read right after a run they are short
by an unknown amount.
"""

import os
import threading
import time
from pathlib import Path

import psycopg
from prometheus_client.parser import text_string_to_metric_families

from testing.servers import request

PAGE_KEYS = "*:page:*"
PAGE_RESULTS = ("hit", "miss", "bypass")
GROUPS = ("server", "postgres", "redis")
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")

# What a scenario's requests must do to the page cache (see the module docstring).
CACHED, UNCACHED, CREATES, NO_PAGES = "cached", "uncached", "creates", "no pages"


class CheckFailed(Exception):
    """A scenario did not do what its name says: its numbers measure something else."""


def cpu_ticks(pid):
    """utime + stime of a live process, in clock ticks; None once it has gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    return int(fields[11]) + int(fields[12])


def is_postgres(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().startswith("postgres")
    except FileNotFoundError:
        return False


def open_connections(port):
    """TCP connections to `port` on this host that are open (or closed by the client only)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, _, state = line.split()[1:4]
            # ESTABLISHED, SYN_RECV, CLOSE_WAIT (the client left, the server has not yet closed)
            if int(local.rsplit(":", 1)[1], 16) == port and state in ("01", "03", "08"):
                count += 1
    return count


class Sampler(threading.Thread):
    """Every 0.2 s, the latest CPU ticks of the given processes, so one that exits keeps them."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.last = {pid: cpu_ticks(pid) for pid in pids}
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(0.2):
            self.sample()

    def sample(self):
        for pid in self.last:
            ticks = cpu_ticks(pid)
            if ticks is not None:
                self.last[pid] = ticks

    def stop(self):
        self.stopped.set()
        self.join()
        self.sample()


class Meter:
    """The counters and CPU time of the bench's server, PostgreSQL and Redis, around a run."""

    def __init__(self, *, server, redis, database_url, metrics_token):
        self.server, self.redis = server, redis
        self.metrics_token = metrics_token
        self.db = psycopg.connect(database_url, autocommit=True)

    def close(self):
        self.db.close()

    # --- counters -------------------------------------------------------------------------

    def counters(self, resource):
        """
        `resource`'s page cache counters and stored pages, the items table's rows, and
        `other_resources`: what every other resource's page cache counted and stored.
        """
        counts = dict.fromkeys([*PAGE_RESULTS, "page_keys", "other_resources"], 0)
        response = request(
            self.server.port, "GET", "/metrics", token=self.metrics_token, timeout=30
        )
        if response.status != 200:
            raise CheckFailed(f"/metrics answered {response.status}: is METRICS_TOKEN set?")
        for family in text_string_to_metric_families(response.body.decode()):
            for sample in family.samples:
                labels = sample.labels
                if sample.name != "page_cache_total":
                    continue
                own = labels.get("resource") == resource
                counts[labels["result"] if own else "other_resources"] += int(sample.value)
        with self.redis.client() as client:
            for key in client.scan_iter(match=PAGE_KEYS, count=1000):
                own = f":{resource}:page:".encode() in key
                counts["page_keys" if own else "other_resources"] += 1
        counts["items"] = self.db.execute("SELECT count(*) FROM items_item").fetchone()[0]
        return counts

    def settle(self, timeout=30):
        """
        Waits for the requests wrk left in flight (a connection's last one, sent but not
        answered when it stopped) to be answered, so the next run does not count them: until
        no connection to the server is open or waiting to be accepted.
        """
        deadline = time.monotonic() + timeout
        while open_connections(self.server.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    # --- CPU ------------------------------------------------------------------------------

    def processes(self):
        """{group: [pid]} of the processes whose CPU time a run is charged."""
        master = self.server.process.pid
        postgres = None
        rows = self.db.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND"
            " (datname = current_database() OR backend_type <> 'client backend')"
        ).fetchall()
        own = self.db.info.backend_pid
        if is_postgres(own):  # the server is local: its processes are ours to read
            postgres = [pid for (pid,) in rows]
            postmaster = int(Path(f"/proc/{own}/stat").read_text().rsplit(")", 1)[1].split()[1])
            postgres.append(postmaster)
        return {
            "server": [master, *self.server.worker_pids()],
            # None when the PostgreSQL server runs elsewhere: its CPU time is not measured
            "postgres": postgres,
            "redis": [self.redis.process.pid],
        }

    def run(self, scenario, load, *, users):
        """
        `load()` (a wrk run returning its result) measured and checked: the result with the CPU
        milliseconds per request (in all and by group), the counters' deltas and the check.
        """
        self.settle()  # what a warm-up left in flight
        before = self.counters(scenario.resource)
        pids = self.processes()
        sampler = Sampler([pid for group in pids.values() for pid in group or ()])
        start = dict(sampler.last)
        sampler.start()
        result = load()
        after_pids = self.processes()
        sampler.stop()
        cpu_ms = {}
        for group in GROUPS:
            if pids[group] is None:
                cpu_ms[group] = None
                continue
            ticks = 0
            for pid in set(pids[group]) | set(after_pids[group]):
                end = cpu_ticks(pid)
                if end is None:  # exited during the run: its last sample
                    end = sampler.last.get(pid) or 0
                ticks += end - (start.get(pid) or 0)
            cpu_ms[group] = ticks * TICK_MS
        self.settle()
        after = self.counters(scenario.resource)
        requests = result["requests"]
        per_request = {
            group: None if ms is None else round(ms / max(requests, 1), 3)
            for group, ms in cpu_ms.items()
        }
        measured = [ms for ms in cpu_ms.values() if ms is not None]
        result["cpu_ms_per_request"] = round(sum(measured) / max(requests, 1), 2)
        result["cpu_ms_per_request_by_group"] = per_request
        result["counters"] = {key: after[key] - before[key] for key in before}
        result["expect"] = scenario.expect
        failures = check(scenario.expect, result, users=users)
        result["check"] = failures or "ok"
        return result


def check(expect, result, *, users):
    """What is wrong with a run of a scenario that claims `expect`: [] when nothing is."""
    requests, delta = result["requests"], result["counters"]
    hit, miss, bypass = (delta[key] for key in PAGE_RESULTS)
    failures = []
    if requests == 0:
        failures.append("no request completed")
    if result["non_2xx"]:
        failures.append(f"{result['non_2xx']} of {requests} responses were not 2xx")
    if expect == UNCACHED:
        if bypass < requests:
            failures.append(f"only {bypass} of {requests} requests bypassed the page cache")
        if hit or miss:
            failures.append(f"the page cache served {hit} pages and rendered {miss} to store")
        if delta["page_keys"] > 0:
            failures.append(f"{delta['page_keys']} new pages were stored in Redis")
    elif expect == CACHED:
        if bypass:
            failures.append(f"{bypass} requests bypassed the page cache")
        if miss > users:
            failures.append(f"{miss} pages missed the cache, more than one per user ({users})")
        if hit < requests - users:
            failures.append(f"only {hit} of {requests} requests were served from the cache")
    elif hit or miss or bypass:
        failures.append(f"the page cache was used: {hit} hits, {miss} misses, {bypass} bypasses")
    if delta["other_resources"]:
        failures.append(
            f"another resource's page cache was used {delta['other_resources']} times"
            " (hits, misses, bypasses and stored pages)"
        )
    if expect == CREATES:
        if delta["items"] < requests:
            failures.append(f"{delta['items']} rows were created by {requests} requests")
    elif delta["items"]:
        failures.append(f"the items table changed by {delta['items']} rows")
    return failures
