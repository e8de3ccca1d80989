"""
Background work for real: gunicorn and a Celery worker on a private Redis broker, mailing
through a local SMTP server (aiosmtpd) that the tests stop, start and hang.

- With the mail server down, a password-reset request still answers 202 as fast as usual
  (nothing in the request talks to it), and the mail arrives once the server is back.
- A worker killed (SIGKILL, pool and all) in the middle of sending loses nothing: the broker
  hands the unacknowledged task to the next worker after the visibility timeout, set short
  here (production keeps an hour, see the README).
- With the broker down, the request still answers; the lost task is logged.

Everything logs JSON (`LOG_FORMAT=json`): every line the server and the worker write is
checked to be one JSON object, and the worker's lines name the task and the request.
"""

import json
import time

import pytest

from testing.servers import CeleryWorker, SmtpSink, issue_tokens, request, server_env
from testing.services import free_port

# Redelivery waits for the visibility timeout and a worker's restore scan (at its start).
VISIBILITY_TIMEOUT = 3
DELIVERY_TIMEOUT = 60
METRICS_TOKEN = "reliability-metrics-token"
# A usable password: a password reset is sent only to accounts that have one.
PASSWORD = "Reliability-passw0rd!"


@pytest.fixture(scope="module")
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def env(module_database_url, module_redis, smtp_sink):
    return server_env(
        database_url=module_database_url,
        redis_url=module_redis.url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_sink.port}",
        EMAIL_TIMEOUT="5",
        THROTTLE_PASSWORD_RESET_RATE="1000/min",
        DJANGO_LOG_LEVEL="INFO",
        GUNICORN_LOG_LEVEL="info",
        LOG_FORMAT="json",
        METRICS_TOKEN=METRICS_TOKEN,
    )


@pytest.fixture(scope="module")
def server(env, start_server):
    return start_server(env)


@pytest.fixture
def start_worker(tmp_path):
    workers = []

    def start(env):
        env = {**env, "METRICS_WORKER_PORT": str(free_port())}
        worker = CeleryWorker(env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.kill()


def wait_for(condition, timeout=DELIVERY_TIMEOUT, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def json_lines(log):
    """Every line of a log, each of which must be one JSON object."""
    lines = []
    for line in log.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON log line: {line!r}")
        assert isinstance(lines[-1], dict), line
    return lines


def metric(port, name, labels):
    """A sample's value from a `/metrics` endpoint on 127.0.0.1, 0 when absent."""
    from prometheus_client.parser import text_string_to_metric_families

    response = request(port, "GET", "/metrics", token=METRICS_TOKEN)
    assert response.status == 200, response
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                return sample.value
    return 0


def reset(server, email, request_id=None):
    headers = {"X-Request-ID": request_id} if request_id else None
    response = server.request(
        "POST", "/api/v1/auth/password-reset/", body={"email": email}, headers=headers
    )
    assert response.status == 202, response
    return response


def test_mail_server_down_the_request_still_answers_at_once_and_the_mail_follows(
    env, server, smtp_sink, start_worker
):
    worker = start_worker(env)
    (user,) = issue_tokens(env, ["down@example.com"], password=PASSWORD)
    for n in range(10):  # every gunicorn worker and thread has its broker connection
        reset(server, f"warm-up{n}@example.com")
    # The usual time: unknown addresses while everything is up (the same work, by design).
    baseline = sorted(reset(server, f"nobody{n}@example.com").elapsed for n in range(5))[2]

    smtp_sink.stop()
    # Nothing in the request talks to the mail server, which would cost each of these its
    # timeout. The best of three and the margin absorb a loaded machine's stalls.
    elapsed = min(reset(server, user["email"], request_id="smtp-down").elapsed for _ in range(3))
    assert elapsed < 3 * baseline + 0.5, (elapsed, baseline)
    assert wait_for(lambda: "Retry in" in worker.log(), timeout=20), worker.log()

    smtp_sink.start()
    # Each of the three requests' mails, once.
    assert wait_for(lambda: len(smtp_sink.messages_to(user["email"])) == 3), worker.log()
    for message in smtp_sink.messages_to(user["email"]):
        assert b"/reset-password?uid=" in message.original_content

    # The worker's lines about these tasks carry the task id and the id of the request.
    task_lines = [line for line in json_lines(worker.log()) if line["task_id"]]
    assert {line["request_id"] for line in task_lines} >= {"smtp-down"}, task_lines
    sent = [
        line for line in task_lines if line["message"] == "Email accounts/email/password_reset sent"
    ]
    assert len(sent) == 3 and all(line["request_id"] == "smtp-down" for line in sent), sent
    # The server's: the application's request line and gunicorn's access line.
    server_lines = json_lines(server.log())
    for logger in ("config.request", "gunicorn.access"):
        (line, *_) = [
            line for line in server_lines
            if line["logger"] == logger and line["request_id"] == "smtp-down"
        ]  # fmt: skip
        assert line["method"] == "POST" and line["path"] == "/api/v1/auth/password-reset/"
        assert line["status_code"] == 202 and line["duration_ms"] >= 0
        assert {"time", "level", "message"} <= line.keys()
    assert user["email"] not in server.log()

    # Metrics, added up over gunicorn's two worker processes and the Celery pool's.
    resets = {"view": "auth-password-reset", "method": "POST", "status": "202"}
    assert metric(server.port, "http_request_duration_seconds_count", resets) == 18
    task = {"task": "accounts.tasks.send_password_reset_email"}
    worker_port = int(worker.env["METRICS_WORKER_PORT"])
    assert metric(worker_port, "celery_tasks_total", {**task, "outcome": "success"}) == 18
    assert metric(worker_port, "celery_tasks_total", {**task, "outcome": "retry"}) >= 1
    assert request(worker_port, "GET", "/metrics").status == 404


def test_a_worker_killed_while_sending_loses_nothing(env, server, smtp_sink, start_worker):
    env = {**env, "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    (user,) = issue_tokens(env, ["killed@example.com"], password=PASSWORD)
    smtp_sink.holding, smtp_sink.held = True, 0
    worker = start_worker(env)
    reset(server, user["email"])
    # The worker is in the middle of the SMTP conversation, waiting for the server's answer.
    assert wait_for(lambda: smtp_sink.held == 1, timeout=20), worker.log()

    worker.kill()
    smtp_sink.holding = False
    assert smtp_sink.messages_to(user["email"]) == []

    # A worker scans for expired unacknowledged tasks when it starts, then only every 100 s
    # or so (kombu's restore interval times its throttle): start the next one after the
    # visibility timeout, as a restarted container would be.
    time.sleep(VISIBILITY_TIMEOUT + 1)
    successor = start_worker(env)
    assert wait_for(lambda: smtp_sink.messages_to(user["email"])), successor.log()
    time.sleep(1)  # and only once
    assert len(smtp_sink.messages_to(user["email"])) == 1
    json_lines(worker.log() + successor.log())


def test_broker_down_the_request_still_answers(env, start_server):
    # Nothing listens there: every attempt to queue is refused.
    env = {**env, "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
    server = start_server(env)
    (user,) = issue_tokens(env, ["no-broker@example.com"], password=PASSWORD)
    response = reset(server, user["email"], request_id="broker-down")
    # The publish gives up after its retries (about a second); the mail is lost, and logged.
    assert response.elapsed < 5, response.elapsed
    logged = "Error calling enqueue(accounts.tasks.send_password_reset_email) in on_commit()"
    assert wait_for(lambda: logged in server.log(), timeout=10), server.log()
    (line,) = [line for line in json_lines(server.log()) if line["message"].startswith(logged)]
    assert (line["level"], line["request_id"]) == ("ERROR", "broker-down")
    assert "Connection refused" in line["exc_info"]
