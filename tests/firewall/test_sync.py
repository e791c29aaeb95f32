"""The sync state machine (design section 6) with the switch faked at firewall.switch_client."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from auth_config import services as auth_services
from firewall import services, switch_client
from firewall.models import (
    BlockedIp,
    SwitchNode,
    SyncOutcome,
    SyncRun,
    UnblockRequest,
    UnblockState,
)
from tests.factories import CustomerFactory, IpAuthEntryFactory, SipUserFactory, StaffFactory

from .conftest import FakeSwitch, open_block

pytestmark = pytest.mark.django_db


def state_of(request):
    request.refresh_from_db()
    return request.state


def test_new_bans_become_episodes_owned_by_the_matching_customer(switch, node):
    exact, ranged, whitelisted = CustomerFactory(), CustomerFactory(), CustomerFactory()
    IpAuthEntryFactory(customer=exact, host="198.51.100.7")
    IpAuthEntryFactory(customer=ranged, host="203.0.113.0/24")
    IpAuthEntryFactory(customer=ranged, host="198.51.100.9", enabled=False)
    SipUserFactory(customer=whitelisted, whitelist=["192.0.2.0/28"])
    for ip in ["198.51.100.7", "203.0.113.40", "192.0.2.3", "198.51.100.9", "2001:db8::1"]:
        switch.ban(ip)

    run = services.sync_node(node)

    assert run.outcome == SyncOutcome.OK
    assert (run.seen, run.new, run.cleared) == (5, 5, 0)
    owners = dict(BlockedIp.objects.open().values_list("ip", "customer_id"))
    assert owners == {
        "198.51.100.7": exact.pk,
        "203.0.113.40": ranged.pk,
        "192.0.2.3": whitelisted.pk,
        "198.51.100.9": None,  # its only entry is disabled
        "2001:db8::1": None,
    }


def test_still_banned_ip_keeps_its_episode_and_a_missing_one_is_cleared(switch, node):
    switch.ban("198.51.100.7")
    switch.ban("198.51.100.8", "flood")
    services.sync_node(node)
    first = BlockedIp.objects.get(ip="198.51.100.7")

    del switch.bans["198.51.100.8"]
    run = services.sync_node(node)

    assert (run.seen, run.new, run.cleared) == (1, 0, 1)
    still = BlockedIp.objects.get(ip="198.51.100.7")
    assert still.pk == first.pk and still.cleared_at is None
    assert still.last_seen > first.last_seen
    assert BlockedIp.objects.get(ip="198.51.100.8").cleared_at is not None


def test_node_down_for_three_runs_loses_nothing(switch, node, staff_user):
    block = open_block(node, "198.51.100.7")
    switch.ban("198.51.100.7")
    [request] = services.request_unblock(user=staff_user, blocked_ips=[block])
    switch.down = True
    for _ in range(3):
        run = services.sync_node(node)
        assert run.outcome == SyncOutcome.FAILED
        assert "cannot connect" in run.error

    node.refresh_from_db()
    assert node.consecutive_failures == 3
    assert node.failing_since is not None
    assert state_of(request) == UnblockState.PENDING
    label, detail, eta = services.unblock_status(request, node=node)
    assert detail.startswith("delayed: node unreachable since")
    assert BlockedIp.objects.get(pk=block.pk).cleared_at is None

    switch.down = False
    switch.ban("203.0.113.5")  # banned while we could not look
    run = services.sync_node(node)

    assert run.outcome == SyncOutcome.OK
    assert (run.new, run.applied) == (1, 1)
    assert state_of(request) == UnblockState.APPLIED
    assert "198.51.100.7" not in switch.bans
    node.refresh_from_db()
    assert (node.consecutive_failures, node.failing_since, node.last_error) == (0, None, "")

    services.sync_node(node)
    assert state_of(request) == UnblockState.VERIFIED
    assert BlockedIp.objects.get(pk=block.pk).cleared_at is not None


def test_delete_of_a_key_already_gone_counts_as_applied(switch, node, staff_user):
    block = open_block(node, "198.51.100.7")
    switch.ban("198.51.100.7")
    [request] = services.request_unblock(user=staff_user, blocked_ips=[block])
    switch.expire_after_dump = {"198.51.100.7"}  # runs out between the dump and the delete

    run = services.sync_node(node)

    assert ("delete", "198.51.100.7") in switch.calls
    assert (run.applied, run.failed) == (1, 0)
    assert state_of(request) == UnblockState.APPLIED
    services.sync_node(node)
    assert state_of(request) == UnblockState.VERIFIED


def test_timeout_leaves_retrying_and_the_next_run_applies(switch, node, staff_user):
    blocks = [open_block(node, ip) for ip in ("198.51.100.7", "198.51.100.8")]
    for block in blocks:
        switch.ban(block.ip)
    requests = services.request_unblock(user=staff_user, blocked_ips=blocks)
    switch.delete_failures["198.51.100.7"] = [
        switch_client.SwitchUnreachable("htable.delete: no answer within 10.0 s")
    ]

    run = services.sync_node(node)

    assert run.outcome == SyncOutcome.PARTIAL
    assert (run.applied, run.failed) == (1, 1)
    failed, applied = (UnblockRequest.objects.get(pk=r.pk) for r in requests)
    assert failed.state == UnblockState.RETRYING
    assert failed.attempts == 1 and "no answer" in failed.last_error
    assert applied.state == UnblockState.APPLIED  # one failure did not stop the batch
    assert "retrying after 1 attempt(s)" in services.unblock_status(failed)[1]

    run = services.sync_node(node)
    failed.refresh_from_db()
    assert failed.state == UnblockState.APPLIED and failed.attempts == 2
    assert failed.last_error == ""
    assert state_of(requests[1]) == UnblockState.VERIFIED
    assert run.outcome == SyncOutcome.OK


def test_node_dying_mid_batch_stops_after_three_unanswered_deletes(switch, node, staff_user):
    blocks = [open_block(node, f"198.51.100.{n}") for n in range(1, 8)]
    for block in blocks:
        switch.ban(block.ip)
    services.request_unblock(user=staff_user, blocked_ips=blocks)
    switch.down_after_deletes = 1

    run = services.sync_node(node)

    assert sum(1 for call in switch.calls if call[0] == "delete") == 4
    assert (run.applied, run.failed) == (1, 6)
    states = list(UnblockRequest.objects.values_list("state", flat=True))
    assert sorted(states) == ["applied"] + ["retrying"] * 6
    not_tried = UnblockRequest.objects.filter(last_error__startswith="Not tried")
    assert not_tried.count() == 3


def test_reban_after_a_lifted_block_is_a_new_episode_the_old_request_never_touches(
    switch, node, staff_user
):
    old = open_block(node, "198.51.100.7")
    switch.ban("198.51.100.7")
    [request] = services.request_unblock(user=staff_user, blocked_ips=[old])
    services.sync_node(node)
    assert state_of(request) == UnblockState.APPLIED

    switch.ban("198.51.100.7", "auth_failures")  # banned again before the next dump
    switch.calls.clear()
    services.sync_node(node)

    assert ("delete", "198.51.100.7") not in switch.calls
    assert switch.bans == {"198.51.100.7": "auth_failures"}
    assert state_of(request) == UnblockState.SUPERSEDED
    old.refresh_from_db()
    assert old.cleared_at is not None
    new = BlockedIp.objects.open().get(ip="198.51.100.7")
    assert new.pk != old.pk and new.reason == "auth_failures"
    assert not new.unblocks.exists()

    # Repeating the old request returns it; it does not reach the new ban.
    assert services.request_unblock(user=staff_user, blocked_ips=[old]) == [request]
    services.sync_node(node)
    assert "198.51.100.7" in switch.bans

    # The new episode needs, and gets, its own request.
    [second] = services.request_unblock(user=staff_user, blocked_ips=[new])
    assert second.pk != request.pk
    services.sync_node(node)
    assert switch.bans == {}


def test_cleared_then_banned_again_keeps_the_old_request_verified(switch, node, staff_user):
    old = open_block(node, "198.51.100.7")
    [request] = services.request_unblock(user=staff_user, blocked_ips=[old])
    services.sync_node(node)  # not in the dump: cleared and verified
    assert state_of(request) == UnblockState.VERIFIED

    switch.ban("198.51.100.7")
    switch.calls.clear()
    services.sync_node(node)
    assert ("delete", "198.51.100.7") not in switch.calls
    assert state_of(request) == UnblockState.VERIFIED
    assert BlockedIp.objects.open().get(ip="198.51.100.7").pk != old.pk


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_on_one_node_only_one_does_the_work(fake_switches, broker):
    node = SwitchNode.objects.create(name="sw1", rpc_url="http://127.0.0.1:5071/RPC")
    staff = StaffFactory()
    block = open_block(node, "198.51.100.7")
    [request] = services.request_unblock(user=staff, blocked_ips=[block])
    switch = fake_switches[node.rpc_url] = FakeSwitch()
    switch.ban("198.51.100.7")
    switch.dump_gate = threading.Event()
    results = {}

    def first_run():
        try:
            results["first"] = services.sync_node(node)
        finally:
            connection.close()

    worker = threading.Thread(target=first_run)
    worker.start()
    assert switch.dump_started.wait(30)
    try:
        second = services.sync_node(node)  # while the first is talking to the switch
    finally:
        switch.dump_gate.set()
        worker.join(30)

    assert second.outcome == SyncOutcome.SKIPPED
    assert "Another sync run was working on this node" in second.error
    # The busy run did the work, then one more pass for the run it turned away.
    assert [call for call in switch.calls if call[0] == "delete"] == [("delete", "198.51.100.7")]
    assert [call for call in switch.calls if call[0] == "dump"] == [("dump",), ("dump",)]
    assert results["first"].outcome == SyncOutcome.OK and results["first"].cleared == 1
    assert state_of(request) == UnblockState.VERIFIED
    assert sorted(SyncRun.objects.values_list("outcome", flat=True)) == ["ok", "ok", "skipped"]
    node.refresh_from_db()
    assert node.sync_claim == "" and node.sync_claimed_until is None
    assert node.sync_again is False


def test_worker_stopped_after_the_deletes_the_next_run_finishes_the_job(
    switch, node, staff_user, monkeypatch
):
    block = open_block(node, "198.51.100.7")
    switch.ban("198.51.100.7")
    [request] = services.request_unblock(user=staff_user, blocked_ips=[block])

    def killed(*args, **kwargs):
        raise RuntimeError("worker lost")

    with monkeypatch.context() as patch:
        patch.setattr(services, "_record_delete_outcomes", killed)
        with pytest.raises(RuntimeError):
            services.sync_node(node)

    assert switch.bans == {}  # the delete reached the switch
    assert state_of(request) == UnblockState.PENDING  # but nothing was written down
    crashed = SyncRun.objects.get(node=node)
    assert crashed.outcome == SyncOutcome.FAILED and "worker lost" in crashed.error

    run = services.sync_node(node)
    assert run.outcome == SyncOutcome.OK and run.cleared == 1
    assert state_of(request) == UnblockState.VERIFIED


def test_a_worker_killed_outright_leaves_a_lease_that_runs_out(switch, node, staff_user):
    from datetime import timedelta

    from django.utils import timezone

    block = open_block(node, "198.51.100.7")
    switch.ban("198.51.100.7")
    [request] = services.request_unblock(user=staff_user, blocked_ips=[block])
    stale = SyncRun.objects.create(node=node)  # its worker died with the lease held
    SwitchNode.objects.filter(pk=node.pk).update(
        sync_claim="dead-worker", sync_claimed_until=timezone.now() + timedelta(minutes=5)
    )
    assert services.sync_node(node).outcome == SyncOutcome.SKIPPED
    assert state_of(request) == UnblockState.PENDING

    SwitchNode.objects.filter(pk=node.pk).update(
        sync_claimed_until=timezone.now() - timedelta(seconds=1)
    )
    run = services.sync_node(node)
    assert run.outcome == SyncOutcome.OK
    assert state_of(request) == UnblockState.APPLIED
    stale.refresh_from_db()
    assert stale.outcome == SyncOutcome.FAILED and "Interrupted" in stale.error


def test_ongoing_reload_is_retried(switch, node):
    switch.reload_refusals = 2
    run = services.sync_node(node)
    assert run.outcome == SyncOutcome.OK
    assert switch.calls.count(("reload",)) == 3
    node.refresh_from_db()
    assert node.address_reload_pending is False

    switch.calls.clear()
    services.sync_node(node)
    assert ("reload",) not in switch.calls  # nothing changed since


def test_reload_refused_every_time_stays_pending_for_the_next_run(switch, node, settings):
    settings.SWITCH_RELOAD_ATTEMPTS = 3
    switch.reload_refusals = 3
    run = services.sync_node(node)
    assert run.outcome == SyncOutcome.PARTIAL
    assert "Address reload failed" in run.error and "ongoing reload" in run.error
    assert switch.calls.count(("reload",)) == 3
    node.refresh_from_db()
    assert node.address_reload_pending is True
    assert node.consecutive_failures == 0  # the node answered

    switch.calls.clear()
    assert services.sync_node(node).outcome == SyncOutcome.OK
    assert switch.calls.count(("reload",)) == 1


def test_authorising_a_blocked_ip_lifts_an_unauthorised_block_after_reloading(
    switch, node, customer_user, django_capture_on_commit_callbacks
):
    SwitchNode.objects.filter(pk=node.pk).update(address_reload_pending=False)
    switch.ban("198.51.100.7")
    switch.ban("198.51.100.8", "auth_failures")
    services.sync_node(node)
    unauthorised = BlockedIp.objects.get(ip="198.51.100.7")
    failures = BlockedIp.objects.get(ip="198.51.100.8")

    with django_capture_on_commit_callbacks(execute=True):
        auth_services.create_ip_auth_entries(
            user=customer_user, hosts=["198.51.100.7", "198.51.100.8"], fields={}
        )

    [request] = UnblockRequest.objects.all()
    assert request.blocked_ip == unauthorised and request.requested_by is None
    assert request.state == UnblockState.PENDING
    assert not failures.unblocks.exists()  # other reasons stay for an admin
    unauthorised.refresh_from_db()
    assert unauthorised.customer_id == customer_user.customer_id
    notices = services.block_notices(customer_user.customer_id, ["198.51.100.7", "198.51.100.8"])
    assert any(
        "198.51.100.7 was blocked for calling before it was authorised; the block is being "
        "lifted (effective by" in notice
        for notice in notices
    )
    assert any("198.51.100.8" in n and "contact support" in n for n in notices)

    switch.calls.clear()
    services.sync_node(node)
    assert switch.calls.index(("reload",)) < switch.calls.index(("delete", "198.51.100.7"))
    assert switch.bans == {"198.51.100.8": "auth_failures"}
    assert state_of(request) == UnblockState.APPLIED


def test_sync_creates_the_automatic_unblock_when_the_entry_came_first(switch, node, customer):
    IpAuthEntryFactory(customer=customer, host="198.51.100.0/24")
    IpAuthEntryFactory(customer=customer, host="203.0.113.9", direction="ingress")
    switch.ban("198.51.100.7")
    switch.ban("203.0.113.9")  # only an ingress entry: we send calls there, it may not send
    services.sync_node(node)
    [request] = UnblockRequest.objects.all()
    assert request.blocked_ip.ip == "198.51.100.7" and request.state == UnblockState.APPLIED
    assert switch.bans == {"203.0.113.9": "unauthorised"}


def test_request_unblock_is_idempotent_and_staff_only(node, staff_user, customer_user):
    block = open_block(node, "198.51.100.7", customer=customer_user.customer)
    first = services.request_unblock(user=staff_user, blocked_ips=[block])
    again = services.request_unblock(user=staff_user, blocked_ips=[block.pk, block.pk])
    assert again == first
    assert UnblockRequest.objects.count() == 1
    with pytest.raises(PermissionDenied):
        services.request_unblock(user=customer_user, blocked_ips=[block])


def test_request_unblock_refuses_cleared_or_unknown_blocks_all_or_nothing(node, staff_user):
    from django.utils import timezone

    live = open_block(node, "198.51.100.7")
    gone = open_block(node, "198.51.100.8")
    BlockedIp.objects.filter(pk=gone.pk).update(cleared_at=timezone.now())
    with pytest.raises(ValidationError) as excinfo:
        services.request_unblock(user=staff_user, blocked_ips=[live, gone])
    assert (
        "198.51.100.8 on sw1 is no longer blocked" in excinfo.value.message_dict["blocked_ips"][0]
    )
    with pytest.raises(ValidationError) as excinfo:
        services.request_unblock(user=staff_user, blocked_ips=[live.pk, 999999])
    assert "No such blocked IP: 999999" in excinfo.value.message_dict["blocked_ips"][0]
    assert not UnblockRequest.objects.exists()


def test_sync_all_covers_enabled_nodes_and_one_failing_node_does_not_stop_the_rest(
    fake_switches, db
):
    up = SwitchNode.objects.create(name="up", rpc_url="http://127.0.0.1:5071/RPC")
    down = SwitchNode.objects.create(name="down", rpc_url="http://127.0.0.2:5071/RPC")
    SwitchNode.objects.create(name="off", rpc_url="http://127.0.0.3:5071/RPC", enabled=False)
    fake_switches[up.rpc_url] = FakeSwitch()
    fake_switches[down.rpc_url] = FakeSwitch()
    fake_switches[down.rpc_url].down = True
    fake_switches[up.rpc_url].ban("198.51.100.7")

    runs = services.sync_all()
    assert {run.node.name: run.outcome for run in runs} == {"down": "failed", "up": "ok"}
    assert BlockedIp.objects.get().node == up


def test_register_node_validates(db):
    node = services.register_node(" sw1 ", "http://127.0.0.1:5071/RPC")
    assert node.name == "sw1"
    with pytest.raises(ValidationError) as excinfo:
        services.register_node("sw1", "http://127.0.0.1:5072/RPC")
    assert "name" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.register_node("sw2", "ftp://127.0.0.1/RPC")
    assert "rpc_url" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.register_node("", "not a url")
    assert set(excinfo.value.message_dict) == {"name", "rpc_url"}


def test_old_sync_runs_are_pruned(switch, node, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SWITCH_SYNC_RUN_RETENTION_DAYS = 7
    old = SyncRun.objects.create(node=node, outcome=SyncOutcome.OK)
    recent = SyncRun.objects.create(node=node, outcome=SyncOutcome.OK)
    SyncRun.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(days=8))
    SyncRun.objects.filter(pk=recent.pk).update(started_at=timezone.now() - timedelta(days=6))
    [run] = services.sync_all()
    assert set(SyncRun.objects.values_list("pk", flat=True)) == {recent.pk, run.pk}


def test_effective_by_counts_on_a_queued_run_only_when_the_queue_took_it(
    node, staff_user, broker, broker_down, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    block = open_block(node, "198.51.100.7")
    with django_capture_on_commit_callbacks(execute=True):
        [request] = services.request_unblock(user=staff_user, blocked_ips=[block])
    node.refresh_from_db()
    assert node.sync_queued_at is None  # the broker was down
    now = timezone.now()
    next_beat = now + timedelta(minutes=13)
    eta = services.unblock_status(request, node=node, now=now, next_sync=next_beat)[2]
    assert eta == next_beat

    SwitchNode.objects.update(sync_queued_at=request.requested_at + timedelta(seconds=1))
    node.refresh_from_db()
    eta = services.unblock_status(request, node=node, now=now, next_sync=next_beat)[2]
    assert eta == node.sync_queued_at + services.QUEUED_RUN_GRACE


def test_a_successful_queue_is_noted_on_the_nodes(node, broker):
    assert services.queue_sync() is True
    node.refresh_from_db()
    assert node.sync_queued_at is not None


def test_an_address_banned_again_right_after_its_automatic_lift_is_not_lifted_every_run(
    switch, node, customer_user, broker, django_capture_on_commit_callbacks
):
    [entry] = auth_services.create_ip_auth_entries(
        user=customer_user, hosts=["198.51.100.7"], fields={}
    )
    switch.ban("198.51.100.7")
    services.sync_node(node)  # lifted automatically
    assert switch.bans == {}

    # The switch still refuses the address (say it sends from another port than the
    # entry's) and bans it again at once.
    for _ in range(3):
        switch.ban("198.51.100.7")
        services.sync_node(node)
    assert switch.bans == {"198.51.100.7": "unauthorised"}
    assert sorted(UnblockRequest.objects.values_list("state", flat=True)) == ["superseded"]
    assert switch.calls.count(("delete", "198.51.100.7")) == 1

    # The customer corrects the entry: the block is lifted again.
    with django_capture_on_commit_callbacks(execute=True):
        auth_services.update_ip_auth_entry(user=customer_user, entry=entry, fields={"port": 5070})
    services.sync_node(node)
    assert switch.bans == {}
    assert sorted(UnblockRequest.objects.values_list("state", flat=True)) == [
        "applied",
        "superseded",
    ]
