"""
Services a test may disturb because it started them itself: a private redis-server, a private
PostgreSQL cluster, a database of its own on a shared server. Everything listens on 127.0.0.1
and is stopped or dropped by whoever started it.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from glob import glob
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

HOST = "127.0.0.1"


class ServiceStartError(RuntimeError):
    """A binary or server a test needs is missing or did not start (the test skips or fails)."""


def require_service(name, error):
    """Tests needing a missing service are skipped, except in CI (`CI` set), where they fail."""
    import pytest

    message = f"{name} is not available: {error}"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{message} (mandatory in CI)")
    pytest.skip(message)


def start_required(name, start):
    """`start()`'s result, or the rule for a missing service when it raises ServiceStartError."""
    try:
        return start()
    except ServiceStartError as exc:
        require_service(name, exc)


def dying_with_us(argv) -> list:
    """
    `argv` run so that the child gets SIGTERM when this process dies, even by SIGKILL (a CI
    timeout): util-linux's `setpriv --pdeathsig`, which sets it and executes `argv` in the same
    process. Linux counts the death of the *thread* that started the child: start it from one
    that outlives it, such as the main thread. Without `setpriv` (not Linux), `argv` as is.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *argv] if setpriv else list(argv)


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# --- Redis ------------------------------------------------------------------------------------


class ThrowawayRedis:
    """A private, unpersisted redis-server: pausing, flushing or killing it disturbs nobody."""

    def __init__(self):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise ServiceStartError("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            dying_with_us([self.binary, "--port", str(self.port), "--bind", HOST, "--save", "",
                           "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]),
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
        self.stop()
        raise ServiceStartError(f"redis-server on port {self.port} did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# --- PostgreSQL -------------------------------------------------------------------------------


def postgres_admin_url():
    """The server DATABASE_URL names when it is PostgreSQL, else the local default (trust)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        parts = urlsplit(url)
        return urlunsplit(("postgres", parts.netloc, "/postgres", "", ""))
    return f"postgres://postgres@{HOST}:5432/postgres"


def check_postgres(admin_url):
    """Raises ServiceStartError unless the server at `admin_url` answers."""
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        raise ServiceStartError(f"PostgreSQL at {urlsplit(admin_url).netloc}: {exc}") from exc


@contextmanager
def throwaway_database(admin_url, prefix):
    """
    The URL of a new database named `<prefix>_<random>`; dropped afterwards even if a server
    still holds connections to it.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def postgres_binaries():
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServiceStartError("PostgreSQL's initdb is not installed")


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
            raise ServiceStartError(f"{argv[0]} failed: {result.stdout}{result.stderr}")
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
