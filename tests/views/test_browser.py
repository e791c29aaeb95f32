"""The Auth tab in headless Chromium: tabs, live search, select-all, narrow screens.

Chromium must be installed (Debian's `chromium`); without it these tests fail, they never skip.
"""

import pytest
from playwright.sync_api import expect

from tests.factories import IpAuthEntryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_basic_and_advanced_tabs_and_an_error_opens_its_tab(page_as, customer_user):
    page = page_as(customer_user)
    page.goto("/auth/ip/new/")
    basic = page.get_by_role("tab", name="Basic")
    advanced = page.get_by_role("tab", name="Advanced")
    expect(basic).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Port")).to_be_hidden()

    page.get_by_label("IP(s) or hostname").fill("192.0.2.70")
    basic.focus()
    page.keyboard.press("ArrowRight")
    expect(advanced).to_be_focused()
    expect(advanced).to_have_attribute("aria-selected", "true")
    page.get_by_label("Protocol").select_option("tls")
    page.get_by_label("Port").fill("5060")
    page.get_by_role("button", name="Add", exact=True).click()

    # Back with the error: the Advanced tab is open and marked, the error is by the port.
    advanced = page.get_by_role("tab", name="Advanced (has errors)")
    expect(advanced).to_have_attribute("aria-selected", "true")
    expect(page.locator("#id_port_error")).to_contain_text("5061")
    expect(page.get_by_label("IP(s) or hostname")).to_be_hidden()


def test_live_search_updates_the_table_without_leaving_the_page(page_as, customer_user):
    IpAuthEntryFactory(customer=customer_user.customer, host="198.51.100.80")
    IpAuthEntryFactory(customer=customer_user.customer, host="203.0.113.80")
    page = page_as(customer_user)
    page.goto("/auth/")
    page.evaluate("window.stayedOnPage = true")
    page.get_by_label("Search IPs, hostnames, manufacturers").fill("198.51")
    expect(page.locator("#ip-results")).not_to_contain_text("203.0.113.80")
    expect(page.locator("#ip-results")).to_contain_text("198.51.100.80")
    assert page.evaluate("window.stayedOnPage") is True
    assert "ip-q=198.51" in page.url


def test_select_all_then_delete_asks_for_confirmation(page_as, customer_user):
    for host in ("198.51.100.81", "198.51.100.82"):
        IpAuthEntryFactory(customer=customer_user.customer, host=host)
    page = page_as(customer_user)
    page.goto("/auth/")
    page.get_by_label("Select all IP entries on this page").check()
    delete = page.locator('[data-delete-button="ip"]')
    expect(delete).to_contain_text("(2)")
    delete.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete 2 IP-auth entries?")
    expect(page.locator(".doomed")).to_contain_text("198.51.100.81")
    expect(page.locator(".doomed")).to_contain_text("198.51.100.82")


@pytest.mark.parametrize("path", ["/auth/", "/auth/ip/new/", "/auth/sip-users/new/"])
def test_pages_fit_a_360_pixel_screen(page_as, customer_user, path):
    IpAuthEntryFactory(customer=customer_user.customer, host="pbx.a-rather-long-hostname.example")
    page = page_as(customer_user, width=360)
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
