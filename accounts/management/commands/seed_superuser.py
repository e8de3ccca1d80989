from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Create the superuser from DJANGO_SUPERUSER_EMAIL / DJANGO_SUPERUSER_PASSWORD "
        "(or --email / --password). Idempotent: an existing account is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default=settings.DJANGO_SUPERUSER_EMAIL)
        parser.add_argument("--password", default=settings.DJANGO_SUPERUSER_PASSWORD)

    def handle(self, *args, email, password, **options):
        if not email or not password:
            raise CommandError(
                "Set DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD "
                "(or pass --email and --password)."
            )
        existing = User.objects.filter(email__iexact=email).first()
        if existing is not None:
            self.stdout.write(f"Superuser {existing.email} already exists; left unchanged.")
            return
        User.objects.create_superuser(email=email, password=password, email_verified=True)
        self.stdout.write(self.style.SUCCESS(f"Created superuser {email}."))
