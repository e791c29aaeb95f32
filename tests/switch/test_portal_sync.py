"""End to end: the portal's own sync against the real switch, with real calls."""

import pytest

from auth_config import services as auth_services
from firewall import services as firewall_services
from firewall.models import BlockedIp, SyncOutcome, UnblockState

pytestmark = pytest.mark.switch

BLOCKED = "Blocked by firewall"


@pytest.fixture
def switch_and_node(start_switch, settings):
    # The switch accepts one address reload a second here (5 s in production); the sync
    # retries a refused reload after half a second.
    settings.SWITCH_RELOAD_RETRY_DELAY = 0.5
    settings.SWITCH_RELOAD_ATTEMPTS = 8
    switch = start_switch(ADDRESS_RELOAD_DELTA=1)
    node = firewall_services.register_node("edge-1", switch.rpc_url)
    return switch, node


def synced(node):
    run = firewall_services.sync_node(node)
    assert run.outcome == SyncOutcome.OK, run.error
    return run


def test_refused_caller_appears_as_blocked_after_a_sync(switch_and_node, sipp, source_ip):
    switch, node = switch_and_node
    stranger = source_ip()

    refused = sipp(switch, "refused.xml", source_ip=stranger, status=403, reason=BLOCKED)
    assert refused.returncode == 0, refused.explain()
    assert not BlockedIp.objects.exists()

    run = synced(node)
    assert (run.seen, run.new) == (1, 1)
    block = BlockedIp.objects.open().get()
    assert (block.ip, block.node, block.customer) == (stranger, node, None)
    assert block.reason_text == "Called before it was authorised"

    # The next sync sees the same episode, not a new one.
    assert synced(node).new == 0
    assert BlockedIp.objects.count() == 1


def test_admin_unblock_and_authorisation_let_the_next_call_through(
    switch_and_node, sipp, source_ip, customer_user, staff_user, udp_port
):
    switch, node = switch_and_node
    ip = source_ip()
    port = udp_port(ip)

    first = sipp(switch, "refused.xml", source_ip=ip, local_port=port, status=403, reason=BLOCKED)
    assert first.returncode == 0, first.explain()
    synced(node)
    block = BlockedIp.objects.open().get(ip=ip)

    # A restarted switch keeps the ban the portal recorded.
    switch.restart()
    assert switch.bans() == {ip: "unauthorised"}

    (unblock,) = firewall_services.request_unblock(user=staff_user, blocked_ips=[block])
    auth_services.create_ip_auth_entries(user=customer_user, hosts=[ip], fields={"port": port})
    assert unblock.state == UnblockState.PENDING

    run = synced(node)
    assert run.applied == 1
    unblock.refresh_from_db()
    assert unblock.state == UnblockState.APPLIED
    assert switch.bans() == {}

    call = sipp(switch, "call.xml", source_ip=ip, local_port=port)
    assert call.returncode == 0, call.explain()

    run = synced(node)
    assert run.cleared == 1
    unblock.refresh_from_db()
    block.refresh_from_db()
    assert unblock.state == UnblockState.VERIFIED
    assert block.cleared_at is not None

    # ...and a restart does not bring the lifted ban back.
    switch.restart()
    assert switch.bans() == {}
    again = sipp(switch, "call.xml", source_ip=ip, local_port=port)
    assert again.returncode == 0, again.explain()


def test_customer_authorising_a_blocked_address_lifts_its_block(
    switch_and_node, sipp, source_ip, customer_user, udp_port
):
    """The product page's case: a new switch called before its IP was added."""
    switch, node = switch_and_node
    ip = source_ip()
    port = udp_port(ip)
    refused = sipp(switch, "refused.xml", source_ip=ip, local_port=port, status=403, reason=BLOCKED)
    assert refused.returncode == 0, refused.explain()
    synced(node)

    auth_services.create_ip_auth_entries(user=customer_user, hosts=[ip], fields={"port": port})
    block = BlockedIp.objects.open().get(ip=ip)
    assert block.unblocks.get().state == UnblockState.PENDING

    synced(node)
    call = sipp(switch, "call.xml", source_ip=ip, local_port=port)
    assert call.returncode == 0, call.explain()
    synced(node)
    assert block.unblocks.get().state == UnblockState.VERIFIED


def test_digest_failure_ban_stays_until_an_admin_lifts_it(
    switch_and_node, sipp, source_ip, customer_user, staff_user
):
    switch, node = switch_and_node
    auth_services.create_sip_user(
        user=customer_user, fields={"username": "ivan"}, password="correct-horse-battery-7"
    )
    guesser = source_ip()
    attempt = {"source_ip": guesser, "from_user": "ivan", "username": "ivan"}
    guesses = sipp(
        switch,
        "digest_refused.xml",
        calls=4,
        concurrent=1,
        password="not-his-password",
        status=407,
        reason="Proxy Authentication Required",
        **attempt,
    )
    assert guesses.returncode == 0, guesses.explain()
    banned = sipp(
        switch,
        "digest_refused.xml",
        password="not-his-password",
        status=403,
        reason=BLOCKED,
        **attempt,
    )
    assert banned.returncode == 0, banned.explain()
    synced(node)
    block = BlockedIp.objects.open().get(ip=guesser)
    assert block.reason_text == "Repeated failed SIP authentication"
    assert not block.unblocks.exists()

    firewall_services.request_unblock(user=staff_user, blocked_ips=[block])
    synced(node)
    welcome = sipp(switch, "digest.xml", password="correct-horse-battery-7", **attempt)
    assert welcome.returncode == 0, welcome.explain()
