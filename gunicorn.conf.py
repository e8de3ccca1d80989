"""
Gunicorn settings for the container (`gunicorn --config gunicorn.conf.py`), from the environment.

- `WEB_CONCURRENCY` worker processes. Default: 2 x CPUs + 1 (the CPUs this container may
  use) when `REDIS_URL` is set, else 1, because an in-process cache is exact only within
  one process (`manage.py check` warns about more workers without Redis).
- `GUNICORN_THREADS` threads per worker (default 2). Every thread may hold a persistent
  database connection: budget instances x workers x threads below PostgreSQL's
  `max_connections`.
- `GUNICORN_TIMEOUT` (30 s) before a stuck worker is killed; `GUNICORN_GRACEFUL_TIMEOUT`
  (25 s) for in-flight requests to finish on SIGTERM, inside compose's 30 s stop grace.
- `LOG_FORMAT=json`: gunicorn's own lines (access and errors) as JSON objects too, like the
  application's (config/log.py).
- `GUNICORN_ACCESS_LOG=true`: gunicorn's access line too. Off by default: the application
  already writes one line per request (config/middleware.py) with the same method, path,
  status and duration, plus the request id and the user; a second line per request was
  a tenth of a trivial request's time and doubled the log volume.
- `METRICS_TOKEN`: Prometheus metrics on; every worker process then records into a fresh
  directory (`PROMETHEUS_MULTIPROC_DIR`, created here unless set), which `/metrics` adds up.
- `GUNICORN_REUSE_PORT` (true): each worker listens on a socket of its own (`SO_REUSEPORT`)
  and the kernel spreads new connections over them. With the one shared socket, whichever
  worker wakes first takes a connection, so the few long keep-alive connections of a load
  balancer's pool can all land on one worker while the others idle: the same cached page ran
  at 666 or 1,627 req/s depending on that draw. The price: connections still waiting in a
  dying worker's queue are reset (a stuck worker killed after `GUNICORN_TIMEOUT`), and a
  second server started by the same user on the same port shares it instead of failing to
  start (containers, each with its own network, cannot meet that).
- `PORT` (8000) to listen on, all interfaces. `FORWARDED_ALLOW_IPS` and `GUNICORN_CMD_ARGS`
  are read by gunicorn itself.
"""

import math
import os
import tempfile
from pathlib import Path

import environ

env = environ.Env()


def available_cpus():
    """CPUs this process may use: its affinity mask, capped by a cgroup v2 CPU quota."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cpus or 1


def default_workers():
    return 2 * available_cpus() + 1 if os.environ.get("REDIS_URL") else 1


wsgi_app = "config.wsgi:application"
bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
reuse_port = env.bool("GUNICORN_REUSE_PORT", default=True)

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers())
threads = int(os.environ.get("GUNICORN_THREADS", "2"))

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# Idle keep-alive connections from a load balancer in front; most keep theirs for 60 s.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))

# The heartbeat file on a memory filesystem: a slow container disk cannot stall workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Errors to stderr; the access log, when on, to stdout. The path only (%(U)s), never the query
# string, so no token in a URL reaches the log; the request id joins the line to the
# application's.
accesslog = "-" if env.bool("GUNICORN_ACCESS_LOG", default=False) else None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
if os.environ.get("LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "config.log.JsonLogFormatter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
            },
        },
        "root": {"handlers": ["stdout"], "level": "WARNING"},
        "loggers": {
            "gunicorn.error": {"handlers": ["stdout"], "propagate": False},
            "gunicorn.access": {"handlers": ["stdout"], "propagate": False},
        },
    }

# Instances are scaled and restarted by the orchestrator, not through gunicorn's control socket.
control_socket_disable = True


def on_starting(server):
    """
    Prometheus' multiprocess mode (config/metrics.py): chosen before the workers start, in a
    directory emptied first, since values left by a previous run would be added again.
    """
    if not os.environ.get("METRICS_TOKEN"):
        return
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
            prefix="prometheus-", dir=worker_tmp_dir
        )


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
