"""Queueing a sync on commit (with the real Redis broker), and the management commands."""

import logging

import pytest
from django.core.management import CommandError, call_command

from auth_config import services as auth_services
from auth_config.models import IpAuthEntry
from firewall import services
from firewall.models import SwitchNode, SyncRun, UnblockRequest
from tests.factories import IpAuthEntryFactory

from .conftest import open_block

pytestmark = pytest.mark.django_db


def test_unblock_queues_a_sync_on_commit(
    node, staff_user, broker, django_capture_on_commit_callbacks
):
    block = open_block(node, "198.51.100.7")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.request_unblock(user=staff_user, blocked_ips=[block])
    assert broker.llen("celery") == 0  # nothing before the commit
    for callback in callbacks:
        callback()
    assert broker.llen("celery") == 1
    assert b"firewall.tasks.sync_switches" in broker.lindex("celery", 0)

    # Repeating an unblock that is already open queues nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        services.request_unblock(user=staff_user, blocked_ips=[block])
    assert broker.llen("celery") == 1


def test_an_ip_auth_change_marks_reloads_and_queues_a_sync(
    node, customer_user, broker, django_capture_on_commit_callbacks
):
    SwitchNode.objects.update(address_reload_pending=False)
    with django_capture_on_commit_callbacks(execute=True):
        auth_services.create_ip_auth_entries(user=customer_user, hosts=["198.51.100.7"], fields={})
    assert SwitchNode.objects.get().address_reload_pending is True
    assert broker.llen("celery") == 1


def test_a_sip_user_change_queues_a_sync_without_an_address_reload(
    node, customer_user, broker, django_capture_on_commit_callbacks
):
    # SIP users are read by the switch on every call; its address table does not hold them.
    SwitchNode.objects.update(address_reload_pending=False)
    with django_capture_on_commit_callbacks(execute=True):
        auth_services.create_sip_user(user=customer_user, fields={"username": "office-pbx"})
    assert SwitchNode.objects.get().address_reload_pending is False
    assert broker.llen("celery") == 1


def test_authorising_a_range_lifts_the_unauthorised_blocks_inside_it_and_no_others(
    node, customer_user, broker, django_capture_on_commit_callbacks
):
    inside = open_block(node, "198.51.100.7")
    outside = open_block(node, "203.0.113.5")
    for_other_reasons = open_block(node, "198.51.100.8", reason="auth_failures")
    # Authorised earlier without passing through the services (as by a restore): lifting it
    # is the next sync's job, not this save's.
    IpAuthEntryFactory(customer=customer_user.customer, host="203.0.113.5")
    with django_capture_on_commit_callbacks(execute=True):
        auth_services.create_ip_auth_entries(
            user=customer_user, hosts=["198.51.100.0/24", "pbx.example.com"], fields={}
        )
    assert inside.unblocks.get().requested_by is None
    assert not outside.unblocks.exists()
    assert not for_other_reasons.unblocks.exists()


def test_an_ingress_or_disabled_entry_lifts_nothing(
    node, customer_user, broker, django_capture_on_commit_callbacks
):
    block = open_block(node, "198.51.100.7")
    with django_capture_on_commit_callbacks(execute=True):
        [entry] = auth_services.create_ip_auth_entries(
            user=customer_user, hosts=["198.51.100.7"], fields={"enabled": False}
        )
        auth_services.update_ip_auth_entry(
            user=customer_user, entry=entry, fields={"direction": "ingress", "enabled": True}
        )
    assert not block.unblocks.exists()
    with django_capture_on_commit_callbacks(execute=True):
        auth_services.update_ip_auth_entry(
            user=customer_user, entry=entry, fields={"direction": "egress"}
        )
    assert block.unblocks.exists()


def test_saving_works_when_the_broker_is_down(
    node, customer_user, staff_user, broker_down, caplog, django_capture_on_commit_callbacks
):
    block = open_block(node, "198.51.100.7")
    caplog.set_level(logging.WARNING, logger="firewall.services")
    with django_capture_on_commit_callbacks(execute=True):
        auth_services.create_ip_auth_entries(user=customer_user, hosts=["203.0.113.5"], fields={})
        services.request_unblock(user=staff_user, blocked_ips=[block])
    assert IpAuthEntry.objects.filter(host="203.0.113.5").exists()
    assert UnblockRequest.objects.filter(blocked_ip=block).exists()
    assert "scheduled run will carry the change" in caplog.text
    assert services.queue_sync() is False


def test_add_switch_command(db):
    buffer = _Buffer()
    call_command("add_switch", "sw1", "http://127.0.0.1:5071/RPC", stdout=buffer)
    assert "Added switch node sw1" in buffer.text
    assert SwitchNode.objects.get().rpc_url == "http://127.0.0.1:5071/RPC"
    with pytest.raises(CommandError, match="name: .*already exists"):
        call_command("add_switch", "sw1", "http://127.0.0.1:5072/RPC", stdout=_Buffer())
    with pytest.raises(CommandError, match="rpc_url"):
        call_command("add_switch", "sw2", "nonsense", stdout=_Buffer())


def test_sync_switches_command_prints_each_node(switch, node):
    switch.ban("198.51.100.7")
    buffer = _Buffer()
    call_command("sync_switches", stdout=buffer)
    assert "sw1: OK: 1 banned, 1 new, 0 cleared, 0 unblocks applied, 0 failed" in buffer.text
    switch.down = True
    buffer = _Buffer()
    call_command("sync_switches", stdout=buffer)
    assert "sw1: Failed: htable.dump: cannot connect" in buffer.text
    assert SyncRun.objects.count() == 2


def test_sync_switches_command_without_nodes(db):
    buffer = _Buffer()
    call_command("sync_switches", stdout=buffer)
    assert "No enabled switch nodes" in buffer.text


class _Buffer:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_a_burst_of_changes_queues_one_run_until_it_starts(node, staff_user, broker):
    from django.utils import timezone

    assert services.queue_sync() is True
    assert services.queue_sync() is True
    assert broker.llen("celery") == 1  # the queued run has not started: it sees both

    block = open_block(node, "198.51.100.7")
    [request] = services.request_unblock(user=staff_user, blocked_ips=[block])
    node.refresh_from_db()
    label, detail, eta = services.unblock_status(request, node=node)
    assert eta == request.requested_at + services.QUEUED_RUN_GRACE  # that run carries it

    SwitchNode.objects.update(last_attempt_at=timezone.now())  # the run has started
    assert services.queue_sync() is True
    assert broker.llen("celery") == 2
    assert services.queue_sync(force=True) is True  # "Sync now" always queues
    assert broker.llen("celery") == 3
