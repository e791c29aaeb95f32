from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from firewall import services


class Command(BaseCommand):
    help = "Register a switch node by name and its Kamailio JSON-RPC URL."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A short name for the node, e.g. sw1.")
        parser.add_argument("rpc_url", help="JSON-RPC over HTTP, e.g. http://127.0.0.1:5071/RPC")

    def handle(self, *args, name, rpc_url, **options):
        try:
            node = services.register_node(name, rpc_url)
        except ValidationError as exc:
            problems = [f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()]
            raise CommandError("; ".join(problems)) from None
        self.stdout.write(self.style.SUCCESS(f"Added switch node {node.name} at {node.rpc_url}."))
