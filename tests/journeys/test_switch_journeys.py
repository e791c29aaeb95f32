"""Journeys through real blocks: the reference Kamailio bans real sipp callers, the portal's
sync reads and lifts those bans, and people watch it happen in headless Chromium.

Kamailio, sipp and Chromium must be installed: without them these tests fail, never skip.
"""

import re

import pytest
from playwright.sync_api import expect

from auth_config import services as auth_services
from firewall import services as firewall_services
from firewall.models import BlockedIp, UnblockState
from firewall.tasks import sync_switches
from tests.firewall.conftest import broker, broker_down  # noqa: F401  (fixtures)
from tests.switch import conftest as switch_fixtures

from .conftest import check

# The switch tests' fixtures: the reference Kamailio, the sipp core behind it, sipp calls.
core = switch_fixtures.core
start_switch = switch_fixtures.start_switch
sipp = switch_fixtures.sipp
source_ip = switch_fixtures.source_ip
udp_port = switch_fixtures.udp_port

pytestmark = [pytest.mark.switch, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKED = "Blocked by firewall"
HHMM = r"\d\d:\d\d"
# Runs last on a form's submission: records the pressed button, the form's state, and whether
# a second submission at that moment would be refused.
PROBE_PROGRESS = """() => window.addEventListener("submit", event => {
    if (event.probe) return;
    const again = new Event("submit", {bubbles: true, cancelable: true});
    again.probe = true;
    event.target.dispatchEvent(again);
    const button = event.submitter;
    sessionStorage.setItem("progress", JSON.stringify([button.textContent,
        button.getAttribute("aria-disabled"), event.target.getAttribute("aria-busy"),
        again.defaultPrevented]));
})"""


@pytest.fixture
def switch(start_switch, settings):
    # The switch accepts an address reload once a second here (every 5 s in production); the
    # sync retries a refused reload after half a second.
    settings.SWITCH_RELOAD_RETRY_DELAY = 0.5
    settings.SWITCH_RELOAD_ATTEMPTS = 8
    switch = start_switch(ADDRESS_RELOAD_DELTA=1)
    firewall_services.register_node("edge-1", switch.rpc_url)
    return switch


def refused_and_banned(sipp, switch, ip, port=None):
    refused = sipp(switch, "refused.xml", source_ip=ip, local_port=port, status=403, reason=BLOCKED)
    assert refused.returncode == 0, refused.explain()
    assert ip in switch.bans()


def run_queued_sync():
    """What the Celery worker does with a queued run (no worker runs beside the tests)."""
    sync_switches.apply().get()


def test_5_customer_authorises_an_ip_the_switch_blocked_and_sees_the_block_lifted(
    switch,
    sipp,
    source_ip,
    udp_port,
    open_page,
    customer_user,
    broker,  # noqa: F811
):
    # The customer's new PBX calls before its address is on the Auth tab: refused and banned.
    ip = source_ip()
    port = udp_port(ip)
    refused_and_banned(sipp, switch, ip, port)
    run_queued_sync()
    assert BlockedIp.objects.open().filter(ip=ip).exists()

    page = open_page(customer_user, "/auth/ip/new/")
    expect(page.get_by_role("main")).to_contain_text("our firewall blocks addresses that call")
    page.get_by_label("IP(s) or hostname").fill(ip)
    page.get_by_role("tab", name="Advanced").click()
    page.get_by_label("Port").fill(str(port))
    page.get_by_role("button", name="Add", exact=True).click()
    check(page)

    notices = page.get_by_role("main").get_by_role("status").first
    expect(notices).to_contain_text(
        re.compile(
            re.escape(ip) + r" was blocked for calling before it was authorised; the block is "
            rf"being lifted \(effective by {HHMM}\)\."
        )
    )
    row = page.locator("#ip-results").get_by_role("row").filter(has_text=ip)
    expect(row.get_by_role("link", name=re.compile("Blocked since"))).to_contain_text(
        "being lifted"
    )
    assert broker.llen("celery") >= 1, "the change was not handed to the task queue"

    run_queued_sync()  # the delete goes to the switch, and its address list is reloaded
    assert ip not in switch.bans()
    row.get_by_role("link", name=re.compile("Blocked since")).click()
    check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Blocked IPs")
    expect(page.get_by_role("row").filter(has_text=ip)).to_contain_text("lifted on the switch")

    call = sipp(switch, "call.xml", source_ip=ip, local_port=port)
    assert call.returncode == 0, call.explain()
    run_queued_sync()  # the next dump confirms the ban is gone

    page.reload()
    check(page)
    expect(page.get_by_text("None of your IPs is blocked")).to_be_visible()
    page.get_by_label("Status").select_option(label="Lifted or expired")
    page.get_by_role("button", name="Search").click()
    check(page)
    lifted = page.get_by_role("row").filter(has_text=ip)
    expect(lifted).to_contain_text("lifted")
    expect(lifted).to_contain_text("Verified")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Auth").click()
    check(page)
    row = page.locator("#ip-results").get_by_role("row").filter(has_text=ip)
    expect(row).to_be_visible()
    expect(row).not_to_contain_text("Blocked")


def test_6_admin_filters_by_customer_unblocks_two_and_sees_them_verified(
    switch,
    sipp,
    source_ip,
    open_page,
    staff_user,
    customer_user,
    other_customer_user,
    broker_down,  # noqa: F811  (no task queue: "Sync now" runs the sync in the request)
):
    # Ingress addresses: we send calls to them, they may not send calls to us. Each that
    # tries is banned, and the sync knows whose address it is.
    mine = [source_ip(), source_ip()]
    theirs = source_ip()
    ingress = {"direction": "ingress"}
    auth_services.create_ip_auth_entries(user=customer_user, hosts=mine, fields=ingress)
    auth_services.create_ip_auth_entries(user=other_customer_user, hosts=[theirs], fields=ingress)
    for ip in [*mine, theirs]:
        refused_and_banned(sipp, switch, ip)

    page = open_page(staff_user, "/firewall/")
    # The sync runs in the request and may take a while: the page shows it is under way, and
    # a second press sends nothing more. What the page showed as it left is noted for later.
    page.evaluate(PROBE_PROGRESS)
    page.get_by_role("button", name="Sync now").click()
    check(page)
    assert page.evaluate("JSON.parse(sessionStorage.getItem('progress'))") == [
        "Syncing…",
        "true",
        "true",
        True,  # the second press was refused
    ]
    blocked = page.get_by_role("region", name="Blocked IPs")
    for ip in [*mine, theirs]:
        expect(blocked.get_by_role("row").filter(has_text=ip)).to_contain_text(
            "No unblock requested"
        )

    page.get_by_label("Customer").select_option(label=customer_user.customer.name)
    page.get_by_role("button", name="Search").click()
    check(page)
    expect(blocked.get_by_text("2 blocked IPs")).to_be_visible()
    expect(blocked).not_to_contain_text(theirs)
    for ip in mine:
        row = blocked.get_by_role("row").filter(has_text=ip)
        expect(row).to_contain_text(customer_user.customer.name)
        row.get_by_role("checkbox", name=f"Select {ip} on edge-1").check()
    page.get_by_role("button", name="Unblock selected").click()
    check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Unblock 2 IPs?")
    expect(page.get_by_role("main")).to_contain_text(re.compile(f"effective by {HHMM}"))
    page.get_by_role("button", name="Yes, unblock").click()
    check(page)

    for ip in mine:
        expect(blocked.get_by_role("row").filter(has_text=ip)).to_contain_text(
            re.compile(f"Pending\\s+effective by {HHMM}")
        )
    expect(blocked.get_by_role("row").filter(has_text=theirs)).to_contain_text(
        "No unblock requested"
    )

    page.get_by_role("button", name="Sync now").click()
    check(page)
    assert set(switch.bans()) == {theirs}
    for ip in mine:
        expect(blocked.get_by_role("row").filter(has_text=ip)).to_contain_text(
            "Applied, awaiting confirmation"
        )

    page.get_by_role("button", name="Sync now").click()
    check(page)
    recent = page.get_by_role("region", name="Recent unblocks")
    for ip in mine:
        expect(recent.get_by_role("row").filter(has_text=ip)).to_contain_text("Verified")
        expect(blocked).not_to_contain_text(ip)
    expect(blocked.get_by_role("row").filter(has_text=theirs)).to_be_visible()
    states = {
        block.ip: block.unblocks.get().state for block in BlockedIp.objects.filter(ip__in=mine)
    }
    assert states == dict.fromkeys(mine, UnblockState.VERIFIED)
