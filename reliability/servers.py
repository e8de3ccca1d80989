"""
Real processes for the reliability tests and the benchmark: gunicorn with the production
settings, a throwaway Redis and a throwaway PostgreSQL cluster, and users with tokens.

Standard library and psycopg only, so `bench/run.py` can use them outside pytest. Everything
listens on 127.0.0.1 and is stopped by whoever started it.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from glob import glob
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
START_TIMEOUT = 30


class ServiceUnavailable(RuntimeError):
    """A binary or server the caller needs is missing (tests skip or fail on it)."""


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def production_env(*, database_url, redis_url=None, **overrides):
    """
    The documented production settings (`DJANGO_DEBUG=false`, a secret, allowed hosts), for
    plain HTTP on 127.0.0.1: no HTTPS redirect, no proxy, email kept local.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "reliability-" + os.urandom(24).hex(),
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "NUM_PROXIES": "0",
        "EMAIL_URL": "consolemail://",
        "DATABASE_URL": database_url,
        "DJANGO_LOG_LEVEL": "WARNING",
        "GUNICORN_LOG_LEVEL": "warning",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def manage(env, *args, timeout=120, stdin=None):
    """Runs `manage.py` with `env`; returns stdout, raising with the output on failure."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


# Creates (or reuses) users and prints `[{email, id, access}]`. The password is hashed once
# and shared: hashing is slow on purpose, and no test here logs in with it.
MINT_USERS = """
import json, sys
from django.contrib.auth.hashers import make_password
from accounts.models import User
from accounts.tokens import RefreshToken

spec = json.loads(sys.stdin.read())
password = make_password(spec["password"])
out = []
for email in spec["emails"]:
    user, _ = User.objects.get_or_create(
        email=email,
        defaults={"password": password, "is_superuser": spec["superuser"],
                  "is_staff": spec["superuser"], "email_verified": True},
    )
    out.append({"email": email, "id": str(user.pk),
                "access": str(RefreshToken.for_user(user).access_token)})
print("MINTED" + json.dumps(out))
"""


def mint_users(env, emails, *, superuser=False, password="Reliability-passw0rd!"):
    """Users with access tokens, minted directly (the login endpoint is throttled)."""
    spec = json.dumps({"emails": list(emails), "superuser": superuser, "password": password})
    output = manage(env, "shell", "-c", MINT_USERS, stdin=spec)
    line = next(line for line in output.splitlines() if line.startswith("MINTED"))
    return json.loads(line.removeprefix("MINTED"))


class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status, self.headers, self.body, self.elapsed = status, headers, body, elapsed

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def request(port, method, path, *, body=None, token=None, headers=None, timeout=15):
    """One request on a fresh connection (so successive requests may reach other workers)."""
    headers = {"Host": HOST, **(headers or {})}
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = HTTPConnection(HOST, port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return Response(
            response.status, dict(response.getheaders()), data, time.monotonic() - started
        )
    finally:
        connection.close()


class Gunicorn:
    """gunicorn with the project's `gunicorn.conf.py` and the given environment."""

    def __init__(self, env, log_path, *, workers=2, threads=2):
        self.port = free_port()
        self.env = {
            **env,
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_THREADS": str(threads),
        }
        self.log_path = Path(log_path)
        self.process = None

    def start(self, timeout=START_TIMEOUT):
        log = open(self.log_path, "w")  # noqa: SIM115  (the child keeps its own descriptor)
        with log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                 "--bind", f"{HOST}:{self.port}"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()}")
            try:
                if request(self.port, "GET", "/api/v1/health/live/", timeout=2).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer in {timeout}s:\n{self.log()}")

    def worker_pids(self):
        """The worker processes (children of the gunicorn arbiter)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def request(self, method, path, **kwargs):
        return request(self.port, method, path, **kwargs)

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class CeleryWorker:
    """`celery -A config worker` with the given environment, in a process group of its own."""

    def __init__(self, env, log_path, *, concurrency=1):
        self.env = env
        self.log_path = Path(log_path)
        self.concurrency = concurrency
        self.process = None

    def start(self, timeout=START_TIMEOUT):
        log = open(self.log_path, "a")  # noqa: SIM115  (the child keeps its own descriptor)
        with log:
            self.process = subprocess.Popen(
                # --quiet: no start-up banner, which is not a log line (LOG_FORMAT=json).
                [sys.executable, "-m", "celery", "--quiet", "-A", "config", "worker", "-l", "INFO",
                 "--concurrency", str(self.concurrency), "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--hostname", f"reliability-{os.getpid()}-{id(self)}@%h"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{self.log()}")
            if " ready." in self.log():
                return self
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the worker was not ready in {timeout}s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self):
        """SIGKILL to the main process and its pool at once: nothing gets to clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class SmtpSink:
    """
    A local SMTP server (aiosmtpd) keeping the messages it accepts. It can be stopped and
    started again on the same port, or made to hang before answering a message's data, as a
    stuck server does: a message it never answered was never delivered.
    """

    def __init__(self):
        self.port = free_port()
        self.messages = []
        self.holding = False
        self.held = 0
        self.controller = None

    def start(self):
        import asyncio

        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                if sink.holding:
                    sink.held += 1
                    await asyncio.sleep(3600)  # cancelled when the sink stops
                sink.messages.append(envelope)
                return "250 Message accepted for delivery"

        self.controller = Controller(Handler(), hostname=HOST, port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def messages_to(self, address):
        return [message for message in self.messages if address in message.rcpt_tos]


class ThrowawayRedis:
    """A private, unpersisted redis-server: pausing or killing it disturbs nobody else."""

    def __init__(self):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise ServiceUnavailable("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.wait_ready()
        return self

    def client(self, timeout=5):
        import redis

        return redis.Redis(host=HOST, port=self.port, socket_timeout=timeout)

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.client(timeout=1).ping():
                    return
            except Exception:
                time.sleep(0.05)
        raise ServiceUnavailable(f"redis-server on port {self.port} did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def postgres_binaries():
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServiceUnavailable("PostgreSQL's initdb is not installed")


class ThrowawayPostgres:
    """
    A PostgreSQL cluster of its own in a temporary directory (trust auth, 127.0.0.1 only),
    so a test can stop and start the database server without touching the shared one.
    initdb refuses to run as root: as root the cluster belongs to the `postgres` user.
    """

    def __init__(self):
        self.bin = postgres_binaries()
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="throwaway-pg-"))
        self.data = self.directory / "data"
        self.url = f"postgres://postgres@{HOST}:{self.port}/postgres"
        self.as_user = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.directory, "postgres")

    def _run(self, *argv, timeout=60):
        result = subprocess.run(
            [*self.as_user, *argv], capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise ServiceUnavailable(f"{argv[0]} failed: {result.stdout}{result.stderr}")
        return result

    def init(self):
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8",
        )  # fmt: skip
        return self

    def start(self):
        options = (
            f"-p {self.port} -c listen_addresses={HOST} -k {self.directory} -c fsync=off "
            "-c max_connections=50"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.directory / "server.log"), "-w", "-t", "30", "start",
        )  # fmt: skip
        return self

    def stop(self, mode="fast"):
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self):
        status = subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def destroy(self):
        if self.data.exists() and self.running():
            self.stop(mode="immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
