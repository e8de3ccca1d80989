"""`LOG_FORMAT=json`: one JSON object per line, with an allowlist of fields."""

import json
import logging
import runpy
import sys
import uuid

import pytest
from django.urls import reverse

from config.log import JsonLogFormatter
from config.middleware import RequestIdLogFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_records(caplog):
    """The records of a request, formatted as the JSON console handler formats them."""
    caplog.set_level(logging.DEBUG)
    request_ids, formatter = RequestIdLogFilter(), JsonLogFormatter()

    def formatted(logger=None):
        records = [r for r in caplog.records if logger is None or r.name == logger]
        for record in records:
            request_ids.filter(record)
        return [json.loads(formatter.format(record)) for record in records]

    return formatted


def test_the_request_line_has_every_field(user, auth_client, json_records):
    auth_client.get(reverse("user-me"), headers={"X-Request-ID": "req-json"})
    (line,) = json_records("config.request")
    assert line == {
        "time": line["time"],
        "level": "INFO",
        "logger": "config.request",
        "message": line["message"],
        "request_id": "req-json",
        "task_id": None,
        "method": "GET",
        "path": "/api/v1/users/me/",
        "status_code": 200,
        "duration_ms": line["duration_ms"],
        "user_id": str(user.pk),
    }
    assert line["time"].endswith("+00:00") and line["duration_ms"] >= 0


def test_what_libraries_attach_to_records_is_left_out(api_client, json_records):
    # Django's own 4xx line carries the request (and so the query string) on the record.
    api_client.get("/api/v1/nope/?token=query-secret", headers={"X-Request-ID": "req-404"})
    (line,) = json_records("django.request")
    assert line["request_id"] == "req-404"
    assert "request" not in line and "query-secret" not in json.dumps(line)


def test_extra_data_of_other_libraries_is_dropped():
    record = logging.LogRecord("celery.app.trace", logging.INFO, __file__, 1, "done", (), None)
    record.data = {"args": ["someone@example.com"], "kwargs": {"password": "hunter2"}}
    line = json.loads(JsonLogFormatter().format(record))
    assert "data" not in line and "hunter2" not in json.dumps(line)


def test_errors_carry_their_traceback_in_one_line():
    try:
        raise RuntimeError("kaboom")
    except RuntimeError:
        record = logging.LogRecord(
            "config.tests", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    formatted = JsonLogFormatter().format(record)
    assert "\n" not in formatted
    assert "RuntimeError: kaboom" in json.loads(formatted)["exc_info"]


def test_gunicorn_access_lines_carry_the_request_fields():
    atoms = {"m": "GET", "U": "/api/v1/items/", "s": "200", "M": 12, "{x-request-id}o": "abc"}
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, '"%(m)s %(U)s" %(s)s', (atoms,), None
    )
    line = json.loads(JsonLogFormatter().format(record))
    assert {k: line[k] for k in ("method", "path", "status_code", "duration_ms", "request_id")} == {
        "method": "GET",
        "path": "/api/v1/items/",
        "status_code": 200,
        "duration_ms": 12,
        "request_id": "abc",
    }


def test_the_console_handler_uses_the_json_formatter_when_asked(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    logging_settings = runpy.run_path("config/settings.py")["LOGGING"]
    assert logging_settings["handlers"]["console"]["formatter"] == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(Exception, match="LOG_FORMAT"):
        runpy.run_path("config/settings.py")


def test_gunicorn_logs_json_when_asked(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    config = runpy.run_path("gunicorn.conf.py")["logconfig_dict"]
    assert config["formatters"]["json"]["()"] == "config.log.JsonLogFormatter"
    assert {"gunicorn.error", "gunicorn.access"} <= config["loggers"].keys()
    monkeypatch.delenv("LOG_FORMAT")
    assert "logconfig_dict" not in runpy.run_path("gunicorn.conf.py")


def test_uuids_serialise(json_records):
    logging.getLogger("config.tests").info("x", extra={"user_id": uuid.UUID(int=1)})
    assert json_records("config.tests")[0]["user_id"] == str(uuid.UUID(int=1))
