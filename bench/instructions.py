"""
Instructions per request of the application process, counted by callgrind: a figure that
does not move with what else the machine is doing, for comparing two versions of the code.

    apt-get install valgrind
    .venv/bin/python bench/instructions.py                  # every scenario, about 3 minutes
    .venv/bin/python bench/instructions.py live cached_list --requests 50
    .venv/bin/python bench/instructions.py live round_trip cached_list --cpu --requests 3000

The scenarios are `bench/load.lua`'s, sent by an in-process WSGI client (no gunicorn, no
socket to the client) to the production settings on a throwaway PostgreSQL database and a
private Redis: 5 users with 20 items each, uncached requests with a query string of their
own. Each scenario runs in a process of its own under `valgrind --tool=callgrind`, counting
nothing until its requests start (after a warm-up) and nothing after they end, so Django's
start-up is left out. What the count leaves out: gunicorn, the kernel's side of the socket
calls, and the PostgreSQL and Redis servers (`run.py`'s CPU milliseconds include them).
Python's hash seed is fixed, so two runs of the same code agree to within half a percent.

`round_trip` is the load table's diagnostic scenario (`bench.views`): `health/live/` plus the
one `MGET` a cached page reads, the floor of a cached page, whose exact revocation needs that
round trip. The requests go to `bench.settings` (the production settings, with that endpoint
in the URLs). `--cpu` runs the same requests without valgrind and reports the CPU time
(user + system) per request instead: what the instruction count leaves out, the kernel's
side of the sockets and the cost of waiting on Redis, is in it, and so is the machine's noise.
"""

import argparse
import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import MODES, SETTINGS  # noqa: E402
from testing.servers import issue_tokens, manage, server_env  # noqa: E402
from testing.services import HOST, ThrowawayRedis, throwaway_database  # noqa: E402

API = "/api/v1"
USERS = 5
ITEMS_PER_USER = 20
WARM_UP = 20
COLLECTED = re.compile(r"Collected : (\d+)")


def environ(method, path, *, token=None, query="", body=b""):
    """A WSGI request as gunicorn would hand it over."""
    request = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": HOST,
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": HOST,
        "HTTP_ACCEPT": "*/*",
        "REMOTE_ADDR": HOST,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)),
    }
    if body:
        request["CONTENT_TYPE"] = "application/json"
    if token:
        request["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return request


def requests_of(mode, users, count):
    """`count` requests of `mode`, spread over `users` like load.lua's."""
    for n in range(count):
        user = users[n % len(users)]
        token, item = user["access"], user.get("item")
        if mode == "live":
            yield environ("GET", f"{API}/health/live/")
        elif mode == "round_trip":
            yield environ("GET", f"{API}/bench/round-trip/{user['id']}/")
        elif mode == "me":
            yield environ("GET", f"{API}/users/me/", token=token)
        elif mode == "cached_list":
            yield environ("GET", f"{API}/items/", token=token)
        elif mode == "uncached_list":
            yield environ("GET", f"{API}/items/", token=token, query=f"nonce={n}")
        elif mode == "cached_detail":
            yield environ("GET", f"{API}/items/{item}/", token=token)
        elif mode == "uncached_detail":
            yield environ("GET", f"{API}/items/{item}/", token=token, query=f"nonce={n}")
        elif mode == "create":
            body = json.dumps({"title": f"bench {n}"}).encode()
            yield environ("POST", f"{API}/items/", token=token, body=body)
        else:
            raise ValueError(f"unknown mode {mode}")


def measure(mode, users, count, *, cpu=False):
    """
    In the child process: warm up, then count `count` requests only, by callgrind or, with
    `cpu`, by the process's CPU time (printed as JSON, microseconds per request).
    """
    import django
    from django.core.handlers.wsgi import WSGIHandler

    django.setup()
    from items.models import Item

    app = WSGIHandler()
    for user in users:
        user["item"] = str(Item.objects.filter(owner_id=user["id"]).values_list("pk").first()[0])

    def call(request):
        statuses = []
        body = app(request, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(body)
        body.close()
        if not statuses[0].startswith("2"):
            sys.exit(f"{mode}: {statuses[0]}")

    # The warm-up's query strings differ from the measured ones: uncached stays uncached.
    for request in requests_of(mode, users, WARM_UP):
        request["QUERY_STRING"] = request["QUERY_STRING"].replace("nonce=", "nonce=warm-")
        call(request)
    measured = list(requests_of(mode, users, count))
    if cpu:
        started = cpu_seconds()
        for request in measured:
            call(request)
        print(json.dumps({"cpu_us": (cpu_seconds() - started) * 1e6 / count}))
        return
    callgrind_control("--instr=on")
    for request in measured:
        call(request)
    callgrind_control("--instr=off")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def callgrind_control(switch):
    subprocess.run(["callgrind_control", switch, str(os.getpid())], check=True, capture_output=True)


def count_instructions(mode, env, users, count):
    """The instructions `count` requests of `mode` took, from callgrind's own summary."""
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as out:
        valgrind = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={out}/callgrind.out",
        ]  # fmt: skip
        result = run_child(valgrind, mode, env, users, count)
    found = COLLECTED.search(result.stderr)
    if found is None:
        raise RuntimeError(f"{mode}: no count from callgrind\n{result.stderr[-3000:]}")
    return int(found.group(1))


def cpu_per_request(mode, env, users, count) -> float:
    """The CPU microseconds a request of `mode` took, on average over `count` of them."""
    result = run_child([], mode, env, users, count, "--cpu")
    return json.loads(result.stdout.strip().splitlines()[-1])["cpu_us"]


def run_child(wrapper, mode, env, users, count, *options):
    argv = [*wrapper, sys.executable, __file__, "--child", mode, "--requests", str(count), *options]
    child_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "PYTHONHASHSEED": "0",
        "BENCH_USERS": json.dumps(users),
    }
    result = subprocess.run(argv, env=child_env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{result.stdout}{result.stderr[-3000:]}")
    return result


def prepare(stack, admin_url):
    """A migrated throwaway database with the users and items, a private Redis, the env."""
    database_url = stack.enter_context(throwaway_database(admin_url, "instructions"))
    redis = ThrowawayRedis().start()
    stack.callback(redis.stop)
    env = server_env(
        database_url=database_url,
        redis_url=redis.url,
        ACCESS_TOKEN_LIFETIME_MINUTES="240",
        DJANGO_LOG_LEVEL="INFO",  # the production default: a line per request
        METRICS_TOKEN="instructions-bench-metrics-token",
        PROMETHEUS_MULTIPROC_DIR=stack.enter_context(tempfile.TemporaryDirectory()),
    )
    manage(env, "migrate", "--no-input")
    emails = [f"instructions{n}@example.com" for n in range(USERS)]
    users = issue_tokens(env, emails)
    for n, user in enumerate(users, start=1):  # --items is the table's size to reach
        manage(
            env, "seed_demo", "--owner", user["email"], "--items", str(n * ITEMS_PER_USER),
            "--deleted-ratio", "0", "--seed", str(n),
        )  # fmt: skip
    return env, users


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("modes", nargs="*", metavar="MODE", help=", ".join(MODES))
    parser.add_argument("--requests", type=int, default=100, help="counted per scenario")
    parser.add_argument("--cpu", action="store_true", help="CPU µs per request, not instructions")
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.child, json.loads(os.environ["BENCH_USERS"]), args.requests, cpu=args.cpu)
        return
    unknown = set(args.modes) - set(MODES)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(MODES)}")
    if not args.cpu and not shutil.which("valgrind"):
        sys.exit("valgrind is needed: apt-get install valgrind")
    unit = "CPU microseconds" if args.cpu else "thousand instructions"
    with ExitStack() as stack:
        env, users = prepare(stack, args.admin_url)
        table = []  # [mode, cost per request], in the order asked (repeats allowed)
        for mode in args.modes or MODES:
            if args.cpu:
                cost = round(cpu_per_request(mode, env, users, args.requests), 1)
            else:
                cost = round(count_instructions(mode, env, users, args.requests) / args.requests)
            table.append([mode, cost])
            shown = cost if args.cpu else cost / 1000
            print(f"{mode:16s} {shown:9,.0f} {unit} per request")
        live = dict(table).get("live")
        for mode, cost in table if live else ():
            print(f"{mode:16s} {live / cost:.2f} of live's rate, by these {unit}")
    print(json.dumps(table))


if __name__ == "__main__":
    main()
