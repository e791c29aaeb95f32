"""The firewall pages in headless Chromium. Without Chromium these tests fail, never skip."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import sync_playwright

from firewall import services
from firewall.models import SwitchNode, SyncRun
from tests.factories import CustomerFactory

from .conftest import open_block

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def open_page(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )

        def open_as(user, path, width):
            client = Client()
            client.force_login(user)
            context = browser.new_context(
                viewport={"width": width, "height": 800}, base_url=live_server.url
            )
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                        "url": live_server.url,
                    }
                ]
            )
            page = context.new_page()
            page.goto(path)
            return page

        yield open_as
        browser.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_pages_fit_the_screen(open_page, staff_user, customer_user, broker, width):
    node = SwitchNode.objects.create(name="edge-1", rpc_url="http://127.0.0.1:5071/RPC")
    SwitchNode.objects.filter(pk=node.pk).update(
        last_error="htable.dump: cannot connect (connection refused) " * 3
    )
    SyncRun.objects.create(node=node, outcome="failed", error="htable.dump: cannot connect")
    block = open_block(node, "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe", customer=CustomerFactory())
    services.request_unblock(user=staff_user, blocked_ips=[block])
    open_block(node, "198.51.100.7", "auth_failures", customer=customer_user.customer)

    for user, path in ((staff_user, "/firewall/"), (customer_user, "/firewall/my-blocks/")):
        page = open_page(user, path, width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert page.get_by_role("heading", level=1).is_visible()
