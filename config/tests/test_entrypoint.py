"""
The image's start-up, run for real without Docker: the build context is copied as `COPY . .`
would, static files are collected by the Dockerfile's own RUN step, and its ENTRYPOINT + CMD
run against a throwaway PostgreSQL database, then gunicorn is probed as the HEALTHCHECK does
and through the API, and stopped as `docker stop` would.

PostgreSQL is mandatory in CI (`CI` set); elsewhere these tests are skipped when no server
answers, so the test command still passes on a machine that has only Python.
"""

import http.client
import json
import re
import signal
import subprocess
import time
import urllib.parse
import uuid

import celery
import psycopg
import pytest

from testing.image import (
    copy_build_context,
    dockerfile_exec_form,
    dockerfile_values,
    in_image,
    production_env,
    run,
)
from testing.services import free_port

# Seconds for wait + migrate + seed + gunicorn to answer. A bound against a hung start-up, not a
# speed target: about 10 s on a quiet 2-core machine, but past 25 s there under a full test
# load; how fast the image starts is not what these tests check.
START_TIMEOUT = 120
HOST = "api.example.test"
SUPERUSER_EMAIL = "root@example.test"
SUPERUSER_PASSWORD = "Entry-p0int-Secret!"


@pytest.fixture(scope="module")
def image_root(tmp_path_factory):
    """The image's /app: the build context, with the Dockerfile's collectstatic step run."""
    root = tmp_path_factory.mktemp("image") / "app"
    copy_build_context(root)
    (collectstatic,) = [step for step in dockerfile_values("RUN") if "collectstatic" in step]
    result = run(["bash", "-c", collectstatic], production_env(), cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def start(image_root, env, log_path, *command):
    """ENTRYPOINT [+ CMD, unless a command is given], like `docker run`."""
    argv = in_image(dockerfile_exec_form("ENTRYPOINT"), image_root)
    argv += list(command) or dockerfile_exec_form("CMD")
    log = open(log_path, "w")  # noqa: SIM115  (closed with the process, in stop())
    process = subprocess.Popen(argv, cwd=image_root, env=env, stdout=log, stderr=log)
    process.log = log
    return process


def stop(process, timeout=30):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # what `docker stop` sends first
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log.close()
    return process.returncode


def healthcheck(image_root, env):
    return run(dockerfile_exec_form("HEALTHCHECK"), env, cwd=image_root, timeout=10).returncode


def wait_until_healthy(process, image_root, env, log_path):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the container exited ({process.returncode}):\n{log_path.read_text()}")
        if healthcheck(image_root, env) == 0:
            return
        time.sleep(0.3)
    pytest.fail(f"not healthy after {START_TIMEOUT}s:\n{log_path.read_text()}")


def send(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": HOST, **(headers or {})}
    if body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


@pytest.fixture
def container_env(database_url):
    return production_env(
        DATABASE_URL=database_url,
        PORT=str(free_port()),
        DJANGO_ALLOWED_HOSTS=f"{HOST},localhost",
        DJANGO_SUPERUSER_EMAIL=SUPERUSER_EMAIL,
        DJANGO_SUPERUSER_PASSWORD=SUPERUSER_PASSWORD,
        DATABASE_WAIT_TIMEOUT="10",
        # Two workers without REDIS_URL: start-up must warn that their caches would diverge.
        WEB_CONCURRENCY="2",
    )


def test_the_container_migrates_seeds_serves_and_stops_gracefully(
    image_root, container_env, database_url, tmp_path
):
    env, port = container_env, int(container_env["PORT"])
    log_path = tmp_path / "container.log"
    process = start(image_root, env, log_path)
    try:
        wait_until_healthy(process, image_root, env, log_path)
        https = {"X-Forwarded-Proto": "https"}  # as the TLS-terminating proxy forwards it

        response, body = send(port, "GET", "/api/v1/health/live/")
        assert (response.status, json.loads(body)) == (200, {"status": "ok"})
        response, body = send(port, "GET", "/api/v1/health/ready/", headers=https)
        assert response.status == 200, body

        # Plain HTTP is sent to HTTPS; HTTPS answers carry HSTS.
        response, _ = send(port, "GET", "/api/v1/users/me/")
        assert (response.status, response.getheader("Location")) == (
            301,
            f"https://{HOST}/api/v1/users/me/",
        )

        # The seeded superuser signs in with the password from the environment.
        credentials = {"email": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD}
        response, body = send(port, "POST", "/api/v1/auth/token/", credentials, https)
        assert response.status == 200, body
        assert response.getheader("Strict-Transport-Security").startswith("max-age=")
        tokens = json.loads(body)

        request_id = f"e2e-{uuid.uuid4().hex}"
        response, body = send(
            port,
            "GET",
            "/api/v1/users/me/",
            headers={
                **https,
                "Authorization": f"Bearer {tokens['access']}",
                "X-Request-ID": request_id,
                "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",  # a browser
            },
        )
        assert response.status == 200, body
        assert response.getheader("X-Request-ID") == request_id
        # JSON only in production, even for a browser: no browsable API.
        assert response.getheader("Content-Type") == "application/json"
        me = json.loads(body)
        assert (me["email"], me["is_superuser"]) == (SUPERUSER_EMAIL, True)

        # Static files: collected at build, hashed, compressed, served by whitenoise.
        manifest = json.loads((image_root / "staticfiles" / "staticfiles.json").read_text())
        css = manifest["paths"]["admin/css/base.css"]
        response, _ = send(
            port, "GET", f"/static/{css}", headers={**https, "Accept-Encoding": "gzip"}
        )
        assert response.status == 200
        assert response.getheader("Content-Encoding") == "gzip"
        assert "immutable" in response.getheader("Cache-Control")
        response, body = send(port, "GET", "/admin/login/", headers=https)
        assert response.status == 200
        assert f"/static/{css}".encode() in body
    finally:
        returncode = stop(process)
    output = log_path.read_text()

    assert returncode == 0, output  # SIGTERM: in-flight work finished, clean exit
    assert "Handling signal: term" in output
    assert healthcheck(image_root, env) == 1  # nothing answers any more

    # Start-up: waited for, migrated, seeded, warned about two workers without Redis.
    assert "Database 'default' is ready." in output
    assert "Applying accounts.0001_initial... OK" in output
    assert f"Created superuser {SUPERUSER_EMAIL}." in output
    assert "config.W001" in output
    with psycopg.connect(database_url) as db:
        row = db.execute(
            "SELECT is_superuser, is_staff FROM accounts_user WHERE email = %s",
            [SUPERUSER_EMAIL],
        ).fetchone()
    assert row == (True, True)

    # One line for the request, the application's, with its id (gunicorn's access line is
    # off unless GUNICORN_ACCESS_LOG asks for it).
    lines = [line for line in output.splitlines() if request_id in line]
    app_line = f"[{request_id}] config.request GET /api/v1/users/me/ 200"
    assert len(lines) == 1, lines
    assert app_line in lines[0] and f"user={me['id']}" in lines[0], lines
    for secret in (SUPERUSER_PASSWORD, tokens["access"], tokens["refresh"]):
        assert secret not in output

    # A restart on the same database: nothing left to migrate, the superuser left unchanged;
    # a command given to the container runs after the same preparation.
    again = start(
        image_root, env, tmp_path / "again.log", "python", "manage.py", "migrate", "--check"
    )
    assert again.wait(timeout=START_TIMEOUT) == 0, (tmp_path / "again.log").read_text()
    stop(again)
    second_output = (tmp_path / "again.log").read_text()
    assert "No migrations to apply." in second_output
    assert f"Superuser {SUPERUSER_EMAIL} already exists; left unchanged." in second_output


def test_migrations_can_be_left_to_a_release_step(image_root, container_env, tmp_path):
    env = {**container_env, "DJANGO_MIGRATE": "false"}
    env.pop("DJANGO_SUPERUSER_EMAIL")
    log_path = tmp_path / "container.log"
    process = start(image_root, env, log_path, "python", "manage.py", "showmigrations", "accounts")
    assert process.wait(timeout=START_TIMEOUT) == 0, log_path.read_text()
    stop(process)
    output = log_path.read_text()
    assert "Database 'default' is ready." in output
    assert "[ ] 0001_initial" in output  # the given command ran, on an unmigrated database
    assert "Applying" not in output
    assert "superuser" not in output.lower()


def test_celery_containers_wait_for_the_database_but_neither_migrate_nor_seed(
    image_root, container_env, tmp_path
):
    log_path = tmp_path / "worker.log"
    process = start(image_root, container_env, log_path, "celery", "--version")
    assert process.wait(timeout=START_TIMEOUT) == 0, log_path.read_text()
    stop(process)
    output = log_path.read_text()
    assert "Database 'default' is ready." in output
    assert celery.__version__ in output  # the given command ran
    assert "Applying" not in output and "Operations to perform" not in output
    assert "superuser" not in output.lower()


def test_an_unreachable_database_stops_start_up_after_the_bounded_wait(image_root, tmp_path):
    env = production_env(
        DATABASE_URL=f"postgres://app:pw@127.0.0.1:{free_port()}/app",
        DATABASE_WAIT_TIMEOUT="2",
        PORT=str(free_port()),
    )
    log_path = tmp_path / "container.log"
    started = time.monotonic()
    process = start(image_root, env, log_path)
    returncode = process.wait(timeout=START_TIMEOUT)
    stop(process)
    output = log_path.read_text()
    assert returncode != 0
    # Well short of the default 60 s wait: the 2 s given was the one applied (the rest is
    # Python start-up, several seconds on a loaded machine).
    assert time.monotonic() - started < 30
    assert "still unreachable after 2s" in output
    assert "Booting" not in output  # gunicorn never started


def test_a_missing_secret_stops_the_container_before_it_serves(image_root, tmp_path):
    env = production_env(DJANGO_SECRET_KEY="", PORT=str(free_port()))
    log_path = tmp_path / "container.log"
    process = start(image_root, env, log_path)
    returncode = process.wait(timeout=START_TIMEOUT)
    stop(process)
    output = log_path.read_text()
    assert returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false" in output
    assert "Booting" not in output


def admin_sign_in(port, headers):
    """One attempt at the admin's form, with the CSRF cookie and token of a fresh GET."""
    response, body = send(port, "GET", "/admin/login/", headers=headers)
    assert response.status == 200, body
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": SUPERUSER_EMAIL, "password": "wrong"}
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            "/admin/login/",
            body=form,
            headers={
                **headers,
                "Host": HOST,
                "Cookie": cookie,
                "Referer": f"https://{HOST}/admin/login/",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def test_the_image_refuses_sign_in_floods_at_the_admin_and_the_api_alike(
    image_root, container_env, tmp_path
):
    env, port = container_env, int(container_env["PORT"])
    log_path = tmp_path / "container.log"
    process = start(image_root, env, log_path)
    try:
        wait_until_healthy(process, image_root, env, log_path)
        https = {"X-Forwarded-Proto": "https"}
        credentials = {"email": SUPERUSER_EMAIL, "password": "wrong"}
        # Two workers without Redis count apart, so at most 2 x 5 attempts get through (the
        # pigeonhole bound), whichever form and worker each reaches; the rest are refused.
        statuses = []
        for n in range(11):
            if n % 2:
                response, body = admin_sign_in(port, https)
            else:
                response, body = send(port, "POST", "/api/v1/auth/token/", credentials, https)
            statuses.append(response.status)
        assert 429 in statuses and set(statuses) <= {200, 401, 429}, statuses
        admin_statuses = []
        while 429 not in admin_statuses:
            response, body = admin_sign_in(port, https)
            admin_statuses.append(response.status)
            assert len(admin_statuses) <= 11, admin_statuses
        # The refusal is a readable page, styled by the collected (hashed) admin CSS.
        assert response.getheader("Content-Type").startswith("text/html")
        assert int(response.getheader("Retry-After")) > 0
        assert b"Too many sign-in attempts" in body
        assert b"/static/admin/css/login." in body
    finally:
        stop(process)
