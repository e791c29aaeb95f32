import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal.models import Customer, User


class Command(BaseCommand):
    help = (
        "Create a customer and its first user. The user's password is read from standard input "
        "(first line), so the command can be scripted without a prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The customer's name.")
        parser.add_argument("--user", required=True, help="Login name of the customer's user.")
        parser.add_argument("--email", required=True, help="E-mail address of the user.")
        parser.add_argument("--realm", help="SIP realm (defaults to the SIP_REALM setting).")

    def handle(self, *args, name, user, email, realm=None, **options):
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise CommandError("Give the user's password on standard input.")
        if Customer.objects.filter(name=name).exists():
            raise CommandError(f"A customer named {name!r} already exists.")
        if User.objects.filter(username=user).exists():
            raise CommandError(f"A user named {user!r} already exists.")
        candidate = User(username=user, email=email)
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        with transaction.atomic():
            customer = Customer(name=name)
            if realm:
                customer.sip_realm = realm
            customer.full_clean()
            customer.save()
            candidate.customer = customer
            candidate.set_password(password)
            candidate.full_clean()
            candidate.save()
        self.stdout.write(f"Created customer {customer.name} (id {customer.pk}) with user {user}.")
