"""
JSON log lines (`LOG_FORMAT=json`): one object per line, for the server, gunicorn and the worker.

Fields are picked from an allowlist rather than copied from the record: libraries attach
things to records that must not reach a log (Django's `request`, with its query string and
headers; Celery's task arguments). Every line has `time`, `level`, `logger`, `message`,
`request_id` and `task_id`; request lines add `method`, `path`, `status_code`, `duration_ms`
and `user_id`; errors add `exc_info`.
"""

from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter

# Set by config.middleware on its request line.
REQUEST_FIELDS = ("method", "path", "status_code", "duration_ms", "user_id")


class JsonLogFormatter(JsonFormatter):
    def add_fields(self, log_data, record, message_dict):
        log_data.update(
            time=datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            level=record.levelname,
            logger=record.name,
            message=record.message,
            request_id=getattr(record, "request_id", "-"),
            task_id=getattr(record, "task_id", None),
        )
        log_data.update(
            (field, getattr(record, field)) for field in REQUEST_FIELDS if hasattr(record, field)
        )
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            log_data.update(gunicorn_access_fields(record.args))
        for field in ("exc_info", "stack_info"):
            if message_dict.get(field):
                log_data[field] = message_dict[field]


def gunicorn_access_fields(atoms):
    """Gunicorn's access-log atoms as fields: the path only (`U`), never the query string."""
    request_id = atoms.get("{x-request-id}o", "-")
    return {
        "method": atoms.get("m"),
        "path": atoms.get("U"),
        "status_code": int(atoms["s"]) if str(atoms.get("s", "")).isdigit() else atoms.get("s"),
        "duration_ms": atoms.get("M"),
        "request_id": request_id if request_id not in ("", "-") else "-",
    }
