from celery import shared_task

from . import services


@shared_task(name="firewall.tasks.sync_switches", ignore_result=True)
def sync_switches():
    """Bring every enabled switch node in line with the database (beat, and after changes)."""
    return [run.summary for run in services.sync_all() if run is not None]
