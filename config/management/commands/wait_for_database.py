import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections


class Command(BaseCommand):
    help = (
        "Wait until the database accepts connections, retrying for at most --timeout seconds; "
        "exit non-zero if it never does. The container entrypoint runs it before migrating."
    )
    # The database may not be up yet; `migrate` runs the system checks right after.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60, help="seconds in all (60)")
        parser.add_argument("--interval", type=float, default=1, help="seconds between tries")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, timeout, interval, database, **options):
        connection = connections[database]
        if connection.vendor == "postgresql":
            # One unanswered try (a host that drops packets) must not outlast the deadline.
            db_options = connection.settings_dict.setdefault("OPTIONS", {})
            db_options.setdefault("connect_timeout", max(1, min(5, int(timeout))))
        deadline = time.monotonic() + timeout
        attempts = 0
        while True:
            attempts += 1
            try:
                connection.ensure_connection()
            except OperationalError as exc:
                reason = " ".join(str(exc).split())
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CommandError(
                        f"Database '{database}' still unreachable after {timeout:g}s "
                        f"({attempts} attempts): {reason}"
                    ) from exc
                self.stderr.write(f"Database '{database}' not ready ({reason}); retrying.")
                time.sleep(min(interval, remaining))
            else:
                connection.close()
                self.stdout.write(self.style.SUCCESS(f"Database '{database}' is ready."))
                return
