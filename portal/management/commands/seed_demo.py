from django.core.management.base import BaseCommand
from django.db import transaction

from auth_config import services
from auth_config.models import Direction, IpAuthEntry, Protocol, SipUser
from portal.models import Customer, User

DEMO_PASSWORD = "demo-portal-2026"


class Command(BaseCommand):
    help = "Create a demo customer, a demo operator admin and sample entries (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            customer, _ = Customer.objects.get_or_create(name="Demo Telecom")
            other, _ = Customer.objects.get_or_create(name="Other Carrier")
            demo = self._user("demo", customer=customer)
            self._user("admin", staff=True)
            self._user("other", customer=other)
            if not IpAuthEntry.objects.filter(customer=customer).exists():
                services.create_ip_auth_entries(
                    user=demo,
                    hosts=["198.51.100.10", "203.0.113.0/28"],
                    fields={"direction": Direction.EGRESS, "channels": 30, "flow_speed": 5},
                )
                services.create_ip_auth_entries(
                    user=demo,
                    hosts=["pbx.demo-telecom.example"],
                    fields={
                        "direction": Direction.INGRESS,
                        "protocol": Protocol.TLS,
                        "manufacturer": "Asterisk",
                        "version": "20",
                    },
                )
            if not SipUser.objects.filter(customer=customer).exists():
                services.create_sip_user(
                    user=demo,
                    fields={"username": "demo-office", "whitelist": ["198.51.100.0/24"]},
                    password="office-line-password-1",
                )
        self.stdout.write(
            f"Demo logins (password for each: {DEMO_PASSWORD}):\n"
            "  demo   customer user of Demo Telecom\n"
            "  other  customer user of Other Carrier\n"
            "  admin  operator admin (staff)"
        )

    def _user(self, username, customer=None, staff=False):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"customer": customer, "is_staff": staff, "is_superuser": staff},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user
