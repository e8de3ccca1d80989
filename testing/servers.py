"""
The production server as it runs for real: gunicorn with `gunicorn.conf.py` and the production
settings, `manage.py` commands in the same environment, plain HTTP requests to it.
"""

import json
import os
import signal
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

from .image import ROOT, production_env
from .services import HOST, dying_with_us, free_port

START_TIMEOUT = 30


def server_env(*, database_url, redis_url=None, **overrides):
    """
    The production environment (`production_env`) for plain HTTP on 127.0.0.1: no HTTPS
    redirect or HSTS, no proxy in front, email kept local, warnings only in the log.
    """
    local = {
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "NUM_PROXIES": "0",
        "EMAIL_URL": "consolemail://",
        "DJANGO_LOG_LEVEL": "WARNING",
        "GUNICORN_LOG_LEVEL": "warning",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
    }
    return production_env(**{**local, **overrides})


def manage(env, *args, timeout=120):
    """Runs `manage.py` with `env`; returns stdout, raising with the output on failure."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def issue_tokens(env, emails, *, superuser=False, password=None):
    """
    `[{email, id, access}]` for these users, created if missing (`manage.py issue_tokens`):
    directly, since the login endpoint is throttled.
    """
    args = ["issue_tokens", "--create", *(["--superuser"] if superuser else [])]
    args += [*(["--password", password] if password else []), *emails]
    output = manage(env, *args)
    # Log lines (which start with a timestamp) may share stdout with the JSON.
    (line,) = [line for line in output.splitlines() if line.startswith("[")]
    return json.loads(line)


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
                dying_with_us([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                               "--bind", f"{HOST}:{self.port}"]),
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
                dying_with_us(
                    [sys.executable, "-m", "celery", "--quiet", "-A", "config", "worker", "-l",
                     "INFO", "--concurrency", str(self.concurrency), "--without-gossip",
                     "--without-mingle", "--without-heartbeat",
                     "--hostname", f"reliability-{os.getpid()}-{id(self)}@%h"]
                ),
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
