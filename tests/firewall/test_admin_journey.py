"""An operator admin watches a real block arrive from the real switch, lifts it in the browser,
and sees it verified. Kamailio, sipp and Chromium must be installed: without them these tests
fail, they never skip.
"""

import pytest
from playwright.sync_api import expect

from firewall.models import BlockedIp, SwitchNode, UnblockState
from tests.switch import conftest as switch_fixtures

# The switch tests' fixtures: the reference Kamailio, the sipp core behind it, sipp calls.
core = switch_fixtures.core
start_switch = switch_fixtures.start_switch
sipp = switch_fixtures.sipp
source_ip = switch_fixtures.source_ip

pytestmark = [pytest.mark.switch, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKED = "Blocked by firewall"


def test_admin_sees_a_real_block_lifts_it_and_sees_it_verified(
    start_switch, sipp, source_ip, page_as, staff_user, broker_down, settings
):
    # With the task queue down, "Sync now" runs the sync in the request: no worker needed.
    settings.SWITCH_RELOAD_RETRY_DELAY = 0.5
    settings.SWITCH_RELOAD_ATTEMPTS = 8
    switch = start_switch(ADDRESS_RELOAD_DELTA=1)
    SwitchNode.objects.create(name="edge-1", rpc_url=switch.rpc_url)
    stranger = source_ip()
    refused = sipp(switch, "refused.xml", source_ip=stranger, status=403, reason=BLOCKED)
    assert refused.returncode == 0, refused.explain()
    page = page_as(staff_user)

    page.goto("/firewall/")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("status")).to_contain_text("the sync ran here and now: edge-1: OK")
    row = page.get_by_role("row").filter(has_text=stranger)
    expect(row).to_contain_text("edge-1")
    expect(row).to_contain_text("Called before it was authorised")
    expect(row).to_contain_text("No unblock requested")

    page.get_by_role("checkbox", name=f"Select {stranger} on edge-1").check()
    page.get_by_role("button", name="Unblock selected").click()
    expect(page.get_by_role("heading", name="Unblock 1 IP?")).to_be_visible()
    page.get_by_role("button", name="Yes, unblock").click()
    expect(page.get_by_role("status")).to_contain_text(f"Unblock requested for {stranger}")
    expect(page.get_by_role("row").filter(has_text=stranger).first).to_contain_text(
        "Pending effective by"
    )

    page.get_by_role("button", name="Sync now").click()
    assert stranger not in switch.bans()
    expect(page.get_by_role("row").filter(has_text=stranger).first).to_contain_text(
        "Applied, awaiting confirmation"
    )

    page.get_by_role("button", name="Sync now").click()
    recent = page.get_by_role("region", name="Recent unblocks")
    expect(recent.get_by_role("row").filter(has_text=stranger)).to_contain_text("Verified")
    expect(page.get_by_role("region", name="Blocked IPs")).not_to_contain_text(stranger)
    block = BlockedIp.objects.get(ip=stranger)
    assert block.cleared_at is not None
    assert block.unblocks.get().state == UnblockState.VERIFIED
