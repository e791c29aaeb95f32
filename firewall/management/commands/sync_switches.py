from django.core.management.base import BaseCommand

from firewall import services
from firewall.models import SyncOutcome


class Command(BaseCommand):
    help = "Sync every enabled switch node now and print what was done on each."

    def handle(self, *args, **options):
        runs = [run for run in services.sync_all() if run is not None]
        if not runs:
            self.stdout.write("No enabled switch nodes; add one with `manage.py add_switch`.")
            return
        for run in runs:
            style = self.style.SUCCESS if run.outcome == SyncOutcome.OK else self.style.WARNING
            self.stdout.write(style(run.summary))
