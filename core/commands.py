"""Management commands every soft-deleted resource can declare in a few lines."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from .services import PURGE_BATCH_SIZE, purge_deleted, purgeable


class PurgeDeletedCommand(BaseCommand):
    """
    `manage.py purge_deleted_<rows> --older-than DAYS [--dry-run] [--batch-size N]`.

    A resource declares `class Command(PurgeDeletedCommand): model = Note` in its
    `management/commands/purge_deleted_notes.py`.
    """

    model = None

    @property
    def help(self):
        plural = self.model._meta.verbose_name_plural
        return f"Permanently delete {plural} that have been in the trash for more than DAYS days."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be purged, delete nothing"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=PURGE_BATCH_SIZE,
            help="rows per DELETE, so no transaction holds locks on the whole trash",
        )

    def handle(self, *args, older_than, dry_run, batch_size, **options):
        if older_than < 0 or batch_size < 1:
            raise CommandError("--older-than must be >= 0 and --batch-size >= 1.")
        cutoff = timezone.now() - timedelta(days=older_than)
        name = self.model._meta.verbose_name

        if dry_run:
            count = purgeable(model=self.model, cutoff=cutoff).count()
            self.stdout.write(
                f"Would purge {count} {name}(s) deleted before {cutoff:%Y-%m-%d %H:%M} UTC."
            )
            return

        purged = purge_deleted(model=self.model, deleted_before=cutoff, batch_size=batch_size)
        self.stdout.write(
            self.style.SUCCESS(
                f"Purged {purged} {name}(s) deleted before {cutoff:%Y-%m-%d %H:%M} UTC."
            )
        )
