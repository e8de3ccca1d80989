import json

from django.core.management.base import BaseCommand, CommandError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Print access tokens for these users as one JSON line, [{email, id, access}], without "
        "the throttled login: for load tests, scripts and trying the API from a shell."
    )

    def add_arguments(self, parser):
        parser.add_argument("emails", nargs="+", metavar="EMAIL")
        parser.add_argument(
            "--create",
            action="store_true",
            help="create missing users, with an unusable password (they use these tokens)",
        )
        parser.add_argument(
            "--superuser", action="store_true", help="with --create: create superusers"
        )

    def handle(self, *args, emails, create, superuser, **options):
        if superuser and not create:
            raise CommandError("--superuser only applies to users made with --create.")
        issued = []
        for email in emails:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                if not create:
                    raise CommandError(f"No user {email}; --create makes missing users.")
                manager = User.objects
                user = (manager.create_superuser if superuser else manager.create_user)(email)
            access = RefreshToken.for_user(user).access_token
            issued.append({"email": user.email, "id": str(user.pk), "access": str(access)})
        self.stdout.write(json.dumps(issued))
