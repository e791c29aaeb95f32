"""The firewall pages in headless Chromium. Without Chromium these tests fail, never skip."""

import pytest

from firewall import services
from firewall.models import SwitchNode, SyncRun
from tests.factories import CustomerFactory

from .conftest import open_block

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [360, 1280])
def test_pages_fit_the_screen(page_as, staff_user, customer_user, broker, width):
    node = SwitchNode.objects.create(name="edge-1", rpc_url="http://127.0.0.1:5071/RPC")
    SwitchNode.objects.filter(pk=node.pk).update(
        last_error="htable.dump: cannot connect (connection refused) " * 3
    )
    SyncRun.objects.create(node=node, outcome="failed", error="htable.dump: cannot connect")
    block = open_block(node, "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe", customer=CustomerFactory())
    services.request_unblock(user=staff_user, blocked_ips=[block])
    open_block(node, "198.51.100.7", "auth_failures", customer=customer_user.customer)

    for user, path in ((staff_user, "/firewall/"), (customer_user, "/firewall/my-blocks/")):
        page = page_as(user, path, width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        assert page.get_by_role("heading", level=1).is_visible()
