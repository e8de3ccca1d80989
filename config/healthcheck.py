"""
The container's HEALTHCHECK: `python -m config.healthcheck` exits 0 when the local server
answers `/api/v1/health/live/` with 200, 1 otherwise.

Standard library only, and Django is not imported: a probe every few seconds must stay cheap.
Django rejects a `Host` that is not in `DJANGO_ALLOWED_HOSTS`, so the probe names the first
allowed host instead of `127.0.0.1`; the health paths are exempt from the HTTPS redirect.
"""

import http.client
import os
import sys

LIVE_PATH = "/api/v1/health/live/"


def probe_host(allowed_hosts):
    """A `Host` header that `ALLOWED_HOSTS` (given as the env's comma-separated list) accepts."""
    for host in (h.strip() for h in allowed_hosts.split(",")):
        if host and host != "*":
            # ".example.com" matches example.com and every subdomain.
            return host.lstrip(".")
    return "localhost"


def main():
    port = int(os.environ.get("PORT", "8000"))
    host = probe_host(os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", LIVE_PATH, headers={"Host": host})
        status = connection.getresponse().status
    except OSError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"unhealthy: {LIVE_PATH} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
