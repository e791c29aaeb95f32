from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal.models import ApiKey, User


class Command(BaseCommand):
    help = (
        "Create an API key for a user and print it. The key is shown only this once; the "
        "portal keeps just its hash."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user the key acts as.")
        parser.add_argument(
            "--read-only", action="store_true", help="The key may only list and read."
        )
        parser.add_argument("--name", default="command line", help="What the key is for.")

    def handle(self, *args, username, read_only, name, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"There is no user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"The user {username!r} is disabled.")
        try:
            api_key, token = ApiKey.objects.issue(user=user, name=name, read_only=read_only)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        access = "read-only" if read_only else "read-write"
        self.stderr.write(f"Created {access} key {api_key.prefix}… for {username}; keep it safe:")
        # Alone on stdout, so scripts can capture it: KEY=$(manage.py create_api_key alice)
        self.stdout.write(token)
