import json

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.tokens import RefreshToken


class Command(BaseCommand):
    help = (
        "Print access tokens for these users as one JSON line, [{email, id, access}], without "
        "the throttled login: for load tests, scripts and trying the API from a shell."
    )

    def add_arguments(self, parser):
        parser.add_argument("emails", nargs="+", metavar="EMAIL")
        parser.add_argument("--create", action="store_true", help="create missing users")
        parser.add_argument(
            "--superuser", action="store_true", help="with --create: create superusers"
        )
        parser.add_argument(
            "--password",
            help="with --create: the new users' password (default: none usable, they have "
            "only these tokens); their email counts as verified",
        )

    def handle(self, *args, emails, create, superuser, password, **options):
        if (superuser or password) and not create:
            raise CommandError("--superuser and --password only apply with --create.")
        # Hashed once for every new user: hashing is slow on purpose.
        password_hash = make_password(password) if password else None
        issued = []
        for email in emails:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                if not create:
                    raise CommandError(f"No user {email}; --create makes missing users.")
                user = User(
                    email=User.objects.normalize_email(email),
                    password=password_hash or make_password(None),
                    email_verified=True,
                    is_staff=superuser,
                    is_superuser=superuser,
                )
                user.save()
            access = RefreshToken.for_user(user).access_token
            issued.append({"email": user.email, "id": str(user.pk), "access": str(access)})
        self.stdout.write(json.dumps(issued))
