"""The Content-Security-Policy does not break the portal in a real browser: htmx's live search
and Swagger UI still work, and Chromium reports no violation."""

import pytest
from playwright.sync_api import expect

from tests.factories import IpAuthEntryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def record_csp_violations(page):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def test_htmx_live_search_works_under_the_policy(page_as, customer_user):
    IpAuthEntryFactory(customer=customer_user.customer, host="198.51.100.90")
    IpAuthEntryFactory(customer=customer_user.customer, host="203.0.113.90")
    page = page_as(customer_user)
    violations = record_csp_violations(page)
    page.goto("/auth/")
    page.get_by_label("Search IPs, hostnames, manufacturers").fill("203.0")
    expect(page.locator("#ip-results")).not_to_contain_text("198.51.100.90")
    expect(page.locator("#ip-results")).to_contain_text("203.0.113.90")
    assert violations == []


def test_an_injected_inline_script_does_not_run(page_as, customer_user):
    page = page_as(customer_user, "/auth/")
    # An inline script runs during appendChild when the policy allows it.
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.appendChild(script);
        }"""
    )
    assert page.evaluate("window.injected === undefined")


def test_api_docs_render_under_the_policy(page_as, customer_user):
    page = page_as(customer_user)
    violations = record_csp_violations(page)
    page.goto("/api/docs/")
    expect(page.get_by_text("SIP Auth Portal API").first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    assert violations == []


def test_the_admin_renders_under_the_policy(page_as, staff_user, customer):
    staff_user.is_superuser = True
    staff_user.save()
    IpAuthEntryFactory(customer=customer)
    page = page_as(staff_user)
    violations = record_csp_violations(page)
    for path in (
        "/admin/",
        "/admin/auth_config/ipauthentry/",
        f"/admin/portal/customer/{customer.pk}/change/",
        "/admin/portal/user/add/",
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        expect(page.locator("#content")).to_be_visible()
    assert violations == []
