"""A customer's journeys through the Auth tab and the API keys page, in headless Chromium on
the live test server. Every page passes axe-core and leaves the console clean (conftest.py).

Chromium must be installed (Debian's `chromium`); without it these tests fail, they never skip.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from auth_config.models import IpAuthEntry, SipUser, ha1
from portal.models import ApiKey
from tests.factories import TEST_PASSWORD, IpAuthEntryFactory, SipUserFactory

from .conftest import check

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, user):
    """A real login through the form (no session planted), as a person does it."""
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return check(page)


def message(page):
    return page.get_by_role("main").get_by_role("status").first


def test_1_add_an_ip_entry_with_mistakes_fix_it_and_find_it(open_page, customer_user):
    IpAuthEntryFactory(customer=customer_user.customer, host="203.0.113.5")
    page = open_page(None, "/auth/")
    log_in(page, customer_user)
    expect(page).to_have_url(re.compile(r"/auth/$"))
    ip_section = page.get_by_role("region", name="IP Authentication")
    sip_section = page.get_by_role("region", name="SIP User Authentication")
    expect(ip_section).to_be_visible()
    expect(sip_section).to_be_visible()
    # As on the product page: IP Authentication first, then SIP User Authentication.
    assert ip_section.bounding_box()["y"] < sip_section.bounding_box()["y"]

    ip_section.get_by_role("link", name="Add IP").click()
    check(page)
    page.get_by_label("IP(s) or hostname").fill("198.51.100.77/24")
    page.get_by_label("Channels").fill("20")
    page.get_by_role("tab", name="Advanced").click()
    page.get_by_label("Protocol").select_option(label="SIP (TLS)")
    page.get_by_label("Port").fill("5060")
    page.get_by_role("button", name="Add", exact=True).click()
    check(page, expected_status=400)

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was saved")
    expect(alert).to_be_focused()
    # Both tabs say they hold a problem; the first one opens, with the message on its field.
    expect(page.get_by_role("tab", name="Advanced (has errors)")).to_be_visible()
    expect(page.get_by_role("tab", name="Basic (has errors)")).to_have_attribute(
        "aria-selected", "true"
    )
    host = page.get_by_label("IP(s) or hostname")
    expect(host).to_have_accessible_description(re.compile(r"198\.51\.100\.0/24"))
    expect(page.locator(".field-host .errors")).to_be_visible()
    expect(host).to_have_value("198.51.100.77/24")

    host.fill("198.51.100.0/24")
    page.get_by_role("tab", name="Advanced (has errors)").click()
    port = page.get_by_label("Port")
    expect(port).to_have_accessible_description(re.compile("5061"))
    expect(page.locator(".field-port .errors")).to_be_visible()
    port.fill("5061")
    page.get_by_role("button", name="Add", exact=True).click()
    check(page)

    expect(message(page)).to_contain_text("Added 1 IP-auth entry: 198.51.100.0/24.")
    entry = IpAuthEntry.objects.get(host="198.51.100.0/24")
    assert (entry.customer, entry.port, entry.protocol, entry.channels) == (
        customer_user.customer,
        5061,
        "tls",
        20,
    )

    page.get_by_label("Search IPs, hostnames, manufacturers").fill("198.51")
    results = page.locator("#ip-results")
    expect(results).not_to_contain_text("203.0.113.5")
    row = results.get_by_role("row").filter(has_text="198.51.100.0/24")
    expect(row).to_contain_text("SIP (TLS)")
    expect(row).to_contain_text("5061")
    check(page)


def test_2_change_channels_then_read_the_audit_log(open_page, customer_user):
    IpAuthEntryFactory(customer=customer_user.customer, host="198.51.100.20", channels=20)
    page = open_page(customer_user, "/auth/")
    # By keyboard: the first Tab offers to skip the navigation, and Enter sends the form.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    page.get_by_role("link", name="198.51.100.20").click()
    check(page)
    page.get_by_label("Channels").fill("45")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check(page)
    expect(message(page)).to_contain_text("Saved 198.51.100.20.")

    page.get_by_role("link", name="View Audit Log").click()
    check(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log of 198.51.100.20")
    change = page.get_by_role("row").filter(has_text="Update")
    expect(change).to_have_count(1)
    channels = change.locator(".changes div").filter(has_text="Channels")
    expect(channels.get_by_role("definition")).to_have_text(re.compile(r"^20\s*→\s*45$"))
    expect(change).to_contain_text(customer_user.username)
    expect(change).to_contain_text("Update")
    when = change.locator("time")
    expect(when).to_contain_text(timezone.localtime().strftime("%Y-%m-%d"))
    logged_at = timezone.datetime.fromisoformat(when.get_attribute("datetime"))
    assert abs((timezone.now() - logged_at).total_seconds()) < 600


def test_3_sip_user_with_a_generated_password_shown_once_reset_and_whitelisted(
    open_page, customer_user
):
    page = open_page(customer_user, "/auth/")
    page.get_by_role("link", name="Add SIP user").first.click()
    check(page)
    page.get_by_label("Username").fill("office-line")
    page.get_by_label("Generate a strong password for me (shown once)").check()
    page.get_by_role("button", name="Add", exact=True).click()
    check(page)

    expect(page.get_by_text("It is shown only this once")).to_be_visible()
    first = page.get_by_label("Password", exact=True).input_value()
    assert len(first) >= 12
    sip_user = SipUser.objects.get(username="office-line")
    assert sip_user.ha1 == ha1("office-line", sip_user.realm, first)

    page.reload()
    check(page)
    expect(page.get_by_text("no longer available")).to_be_visible()
    assert first not in page.content()

    page.get_by_role("link", name="Open office-line").click()
    check(page)
    warning = page.get_by_text("Any IP address may use this account")
    expect(warning).to_be_visible()
    page.get_by_label("Generate a new password (shown once)").check()
    page.get_by_role("button", name="Save").click()
    check(page)
    second = page.get_by_label("Password", exact=True).input_value()
    assert second != first
    sip_user.refresh_from_db()
    assert sip_user.ha1 == ha1("office-line", sip_user.realm, second)

    page.get_by_role("link", name="Open office-line").click()
    check(page)
    expect(warning).to_be_visible()
    page.get_by_label("IP whitelist").fill("198.51.100.0/24\n203.0.113.8")
    expect(warning).to_be_hidden()
    page.get_by_role("button", name="Save").click()
    check(page)
    expect(page.get_by_label("IP whitelist")).to_have_value("198.51.100.0/24\n203.0.113.8")
    expect(warning).to_be_hidden()
    sip_user.refresh_from_db()
    assert sip_user.whitelist == ["198.51.100.0/24", "203.0.113.8/32"] or sip_user.whitelist == [
        "198.51.100.0/24",
        "203.0.113.8",
    ]


def test_4_delete_three_entries_after_confirming_cancel_keeps_them(open_page, customer_user):
    doomed = ["198.51.100.31", "198.51.100.32", "198.51.100.33"]
    for host in [*doomed, "198.51.100.34"]:
        IpAuthEntryFactory(customer=customer_user.customer, host=host)
    page = open_page(customer_user, "/auth/")

    def tick_and_delete():
        for host in doomed:
            page.get_by_role("checkbox", name=f"Select {host}").check()
        delete = page.get_by_role("button", name=re.compile(r"Delete selected \(3\)"))
        delete.first.click()
        check(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Delete 3 IP-auth entries?")
        listed = page.get_by_role("main").get_by_role("listitem")
        for host in doomed:
            expect(listed.filter(has_text=host)).to_have_count(1)
        expect(listed.filter(has_text="198.51.100.34")).to_have_count(0)

    tick_and_delete()
    page.get_by_role("link", name="Cancel, keep them").click()
    check(page)
    for host in doomed:
        expect(page.get_by_role("link", name=host, exact=True)).to_be_visible()
    assert IpAuthEntry.objects.filter(host__in=doomed).count() == 3

    tick_and_delete()
    page.get_by_role("button", name="Yes, delete").click()
    check(page)
    for host in doomed:
        expect(page.get_by_role("link", name=host, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="198.51.100.34", exact=True)).to_be_visible()
    assert not IpAuthEntry.objects.filter(host__in=doomed).exists()


def test_7_not_found_for_others_and_back_after_logging_in(
    open_page, customer_user, other_customer_user
):
    theirs = IpAuthEntryFactory(customer=other_customer_user.customer, host="198.51.100.70")
    page = open_page(customer_user)
    page.goto(f"/auth/ip/{theirs.pk}/")
    check(page, expected_status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert "198.51.100.70" not in page.content()
    page.get_by_role("link", name="Back to the portal").click()
    check(page)
    expect(page).to_have_url(re.compile(r"/auth/$"))

    mine = SipUserFactory(customer=customer_user.customer, username="night-shift")
    wanted = f"/auth/sip-users/{mine.pk}/audit-log/"
    stranger = open_page(None, wanted)
    expect(stranger.get_by_text("Log in to continue")).to_be_visible()
    log_in(stranger, customer_user)
    expect(stranger).to_have_url(re.compile(re.escape(wanted) + "$"))
    expect(stranger.get_by_role("heading", level=1)).to_have_text("Audit log of night-shift")


def test_8_api_key_created_copied_shown_once_and_revoked(open_page, customer_user, live_server):
    page = open_page(customer_user, "/auth/")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    check(page)
    expect(page.get_by_text("You have no API keys yet")).to_be_visible()
    page.get_by_label("Name").fill("provisioning")
    page.get_by_role("button", name="Create key").click()
    check(page)

    token = page.get_by_label("Key", exact=True).input_value()
    assert re.fullmatch(r"sap_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", token)
    copy = page.get_by_role("button", name=re.compile("^Cop(y|ied)$"))
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token

    page.reload()
    check(page)
    expect(page.get_by_label("Key", exact=True)).to_have_count(0)
    assert token not in page.content()
    row = page.get_by_role("row").filter(has_text="provisioning")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text(token[:16])

    page.get_by_role("link", name="Revoke provisioning").click()
    check(page)
    page.get_by_role("link", name="Cancel, keep it").click()
    check(page)
    expect(page.get_by_role("row").filter(has_text="provisioning")).to_contain_text("active")
    page.get_by_role("link", name="Revoke provisioning").click()
    check(page)
    page.get_by_role("button", name="Yes, revoke").click()
    check(page)
    expect(message(page)).to_contain_text("is revoked and no longer works")
    expect(page.get_by_role("row").filter(has_text="provisioning")).to_contain_text("revoked")
    assert ApiKey.objects.get(name="provisioning").revoked_at is not None
    answer = page.request.get(
        f"{live_server.url}/api/v1/ip-auth/", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 401


def test_searching_one_section_keeps_the_page_the_other_section_is_on(open_page, customer_user):
    customer = customer_user.customer
    IpAuthEntryFactory(customer=customer, host="192.0.2.10")
    IpAuthEntryFactory(customer=customer, host="203.0.113.10")
    for number in range(30):
        SipUserFactory(customer=customer, username=f"pbx-{number:02}")
    page = open_page(customer_user, "/auth/")
    check(page)
    sip_results = page.locator("#sip-results")
    sip_results.get_by_role("link", name="Next ›").click()
    expect(sip_results).to_contain_text("Page 2 of 2")
    expect(page).to_have_url(re.compile(r"sip-page=2"))

    page.get_by_label("Search IPs, hostnames, manufacturers").fill("192.0.2")
    expect(page.locator("#ip-results")).not_to_contain_text("203.0.113.10")
    expect(page).to_have_url(re.compile(r"ip-q=192\.0\.2"))
    # The address bar still holds the SIP page, so a reload or a shared link shows both.
    expect(page).to_have_url(re.compile(r"sip-page=2"))
    page.reload()
    check(page)
    expect(page.locator("#sip-results")).to_contain_text("Page 2 of 2")
    expect(page.locator("#ip-results")).not_to_contain_text("203.0.113.10")

    # Paging the SIP users back keeps the IP search too.
    page.locator("#sip-results").get_by_role("link", name="‹ Previous").click()
    expect(page.locator("#sip-results")).to_contain_text("Page 1 of 2")
    expect(page).to_have_url(re.compile(r"ip-q=192\.0\.2"))
    check(page)

    # Clearing a search that found nothing keeps the other section's state as well.
    page.get_by_label("Search IPs, hostnames, manufacturers").fill("no-such-host")
    page.locator("#ip-results").get_by_role("link", name="Clear the search").click()
    check(page)
    expect(page.locator("#ip-results")).to_contain_text("203.0.113.10")
    expect(page).to_have_url(re.compile(r"sip-page=1"))
    expect(page).not_to_have_url(re.compile(r"ip-q="))


def test_an_egress_hostname_shows_the_addresses_our_switches_accept(
    open_page, customer_user, name_server
):
    from auth_config.services import create_ip_auth_entries, refresh_host_addresses

    name_server.records["pbx.customer.example"] = ["198.51.100.20", "2001:db8::20"]
    [entry] = create_ip_auth_entries(user=customer_user, hosts=["pbx.customer.example"], fields={})
    page = open_page(customer_user, f"/auth/ip/{entry.pk}/")
    check(page)
    lookup = page.get_by_role("region", name="Addresses of pbx.customer.example")
    expect(lookup).to_contain_text("Not looked up yet")

    refresh_host_addresses()
    page.reload()
    check(page)
    expect(lookup).to_contain_text("Calls are accepted from: 198.51.100.20, 2001:db8::20")
