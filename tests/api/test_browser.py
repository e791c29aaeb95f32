"""An integrator's first steps in headless Chromium: a key from the API keys page, the
interactive docs served by the portal itself (nothing fetched from elsewhere), the key used.

Chromium must be installed (Debian's `chromium`); without it these tests fail, they never skip.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import IpAuthEntryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_key_from_the_page_then_docs_and_a_call(page_as, customer_user, live_server):
    IpAuthEntryFactory(customer=customer_user.customer, host="192.0.2.150")
    page = page_as(customer_user)

    page.goto("/auth/")
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    page.get_by_label("Name").fill("provisioning")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    token = page.get_by_label("Key", exact=True).input_value()
    assert re.fullmatch(r"sap_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", token)

    page.reload()
    expect(page.get_by_role("cell", name="provisioning", exact=True)).to_have_count(1)
    expect(page.get_by_text("it will not be shown again")).to_have_count(0)
    assert token not in page.content()

    page.goto("/api/docs/")
    expect(page.get_by_text("SIP Auth Portal API").first).to_be_visible()
    expect(page.get_by_text("List your IP-auth entries")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Authorize"))).to_be_visible()
    assert page_as.foreign_requests == []

    answer = page.request.get(
        f"{live_server.url}/api/v1/ip-auth/", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 200
    assert [item["host"] for item in answer.json()["results"]] == ["192.0.2.150"]

    page.goto("/api-keys/")
    page.get_by_role("link", name="Revoke provisioning").click()
    page.get_by_role("button", name="Yes, revoke").click()
    expect(page.get_by_text("is revoked and no longer works")).to_be_visible()
    refused = page.request.get(
        f"{live_server.url}/api/v1/ip-auth/", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status == 401
