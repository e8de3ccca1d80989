import random
import time
import uuid
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import reset_queries
from django.utils import timezone

from accounts.models import User
from items.models import Item

DEMO_PASSWORD = "demo-password"  # demo accounts only; named in --help

VERBS = [
    "Draft", "Review", "Plan", "Fix", "Update", "Prepare", "Book", "Order", "Write", "Call",
    "Email", "Schedule", "Check", "Renew", "Organise", "Archive", "Share", "Test", "Pay", "Sign",
]  # fmt: skip
ADJECTIVES = [
    "quarterly", "weekly", "new", "overdue", "shared", "annual", "urgent", "team", "client",
    "draft", "final", "monthly", "personal", "updated", "internal", "public",
]  # fmt: skip
NOUNS = [
    "report", "budget", "invoice", "roadmap", "offsite", "presentation", "contract", "newsletter",
    "backlog", "release notes", "travel plans", "onboarding guide", "sprint review", "dentist",
    "insurance", "tax return", "design brief", "survey", "website copy", "meeting notes",
]  # fmt: skip
SENTENCES = [
    "Ask the team for feedback before Friday.",
    "Numbers are in the shared folder.",
    "Blocked until legal signs off.",
    "Keep it under two pages.",
    "Follow up if there is no answer by Monday.",
    "Use last year's version as a template.",
    "Needs a second pair of eyes.",
    "Low priority, but do not forget it.",
    "Link the related tickets.",
    "Remember to cc finance.",
]
FIRST_NAMES = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia"]
LAST_NAMES = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov"]

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Create demo users (demo1@example.com …, password 'demo-password') and items spread "
        "among them: batched inserts, a progress bar, the same data for the same --seed. "
        "Existing demo users are reused; rerunning with the same seed adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=10, help="demo users to ensure exist")
        parser.add_argument("--items", type=int, default=1000, help="items to create in all")
        parser.add_argument(
            "--owner",
            metavar="EMAIL",
            help="give every item to this existing user instead (no demo users are made)",
        )
        parser.add_argument("--seed", type=int, default=None, help="for reproducible data")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--deleted-ratio",
            type=float,
            default=0.05,
            help="share of the items created already soft-deleted (default 0.05)",
        )

    def handle(self, *args, users, items, owner, seed, batch_size, deleted_ratio, **options):
        if users < 0 or items < 0 or batch_size < 1 or not 0 <= deleted_ratio <= 1:
            raise CommandError(
                "--users and --items must be >= 0, --batch-size >= 1, "
                "--deleted-ratio between 0 and 1."
            )
        if items and not users and not owner:
            raise CommandError("--items needs at least one user (--users or --owner).")
        # Separate streams, so the items do not depend on how many users existed already.
        user_rng = random.Random(f"{seed}:users" if seed is not None else None)
        item_rng = random.Random(f"{seed}:items" if seed is not None else None)

        started = time.monotonic()
        if owner:
            owners = [self.existing_user(owner)]
            whose = owners[0].email
        else:
            owners = self.ensure_users(users, user_rng)
            whose = f"{len(owners)} demo users"
        before = Item.all_objects.count()
        self.create_items(items, owners, item_rng, batch_size, deleted_ratio)
        created = Item.all_objects.count() - before
        self.stdout.write(
            self.style.SUCCESS(
                f"{whose}, {created} new items in {time.monotonic() - started:.1f}s."
            )
        )

    @staticmethod
    def existing_user(email):
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user {email} to own the items.")
        return user

    def ensure_users(self, count, rng):
        emails = [f"demo{n}@example.com" for n in range(1, count + 1)]
        # One query, however many users: no `IN` list to outgrow a database's limits.
        existing = {
            user.email: user
            for user in User.objects.filter(
                email__startswith="demo", email__endswith="@example.com"
            )
        }
        password = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow on purpose
        new = []
        for email in emails:
            # Drawn for every email, so a user's data does not depend on who existed before.
            pk = uuid.UUID(int=rng.getrandbits(128), version=4)
            full_name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if email not in existing:
                new.append(
                    User(
                        id=pk,
                        email=email,
                        full_name=full_name,
                        password=password,
                        email_verified=True,
                    )
                )
        User.objects.bulk_create(new, batch_size=1000)
        existing.update((user.email, user) for user in new)
        return [existing[email] for email in emails]

    def create_items(self, total, owners, rng, batch_size, deleted_ratio):
        now = timezone.now()
        done = 0
        self.progress(done, total)
        while done < total:
            batch = [
                self.demo_item(rng, rng.choice(owners), now, deleted_ratio)
                for _ in range(min(batch_size, total - done))
            ]
            # ignore_conflicts: a rerun with the same seed draws the same ids.
            Item.objects.bulk_create(batch, ignore_conflicts=True)
            # With DEBUG on, Django keeps the SQL of recent queries, whole batches of rows.
            reset_queries()
            done += len(batch)
            self.progress(done, total)
        self.stdout.write("")

    @classmethod
    def demo_item(cls, rng, owner, now, deleted_ratio):
        """An item created some time in the past year, soft-deleted since by its owner."""
        created_at = now - timedelta(days=365 * rng.random())
        item = Item(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            owner=owner,
            title=cls.title(rng),
            description=" ".join(rng.sample(SENTENCES, rng.randint(0, 3))),
            created_at=created_at,
        )
        if rng.random() < deleted_ratio:
            item.deleted_at = created_at + (now - created_at) * rng.random()
            item.deleted_by = owner
        return item

    @staticmethod
    def title(rng):
        title = f"{rng.choice(VERBS)} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        return f"{title} #{rng.randint(1, 999)}" if rng.random() < 0.3 else title

    def progress(self, done, total):
        share = done / total if total else 1
        filled = int(BAR_WIDTH * share)
        self.stdout.write(
            f"\rItems [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:4.0%} {done}/{total}",
            ending="",
        )
        self.stdout.flush()
