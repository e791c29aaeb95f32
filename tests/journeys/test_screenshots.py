"""The main pages with believable data, photographed for the README at desktop (1280 px) and
phone (360 px) width into docs/screenshots/. Each page also passes the journeys' checks
(axe-core, clean console) and fits a phone's width without sideways scrolling.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from auth_config import services as auth_services
from firewall import services as firewall_services
from firewall.models import BlockedIp, SwitchNode, SyncOutcome, SyncRun
from portal.models import ApiKey, Customer
from tests.factories import StaffFactory, UserFactory
from tests.firewall.conftest import broker, broker_down  # noqa: F401  (fixtures)

from .conftest import check, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1280, "phone": 360}
# The elements that stick out past the right edge of a window `width` pixels wide.
WIDER_THAN = """width => Array.from(document.querySelectorAll("body *"))
    .filter(element => element.getBoundingClientRect().right > width + 1)
    .map(element => element.outerHTML.slice(0, 120))"""


def photograph(page, name):
    for device, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 800})
        too_wide = page.evaluate(WIDER_THAN, width)
        assert not too_wide, f"{name} scrolls sideways at {width} px: {too_wide}"
        save_screenshot(page, f"{name}-{device}")
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 800})


@pytest.fixture
def demo(broker_down):  # noqa: F811  (changes are carried by the scheduled sync here)
    customer = Customer.objects.create(name="Demo Telecom")
    user = UserFactory(username="demo", customer=customer)
    other = UserFactory(username="other", customer=Customer.objects.create(name="Other Carrier"))
    staff = StaffFactory(username="admin")
    egress = {"direction": "egress", "channels": 30, "flow_speed": 5}
    auth_services.create_ip_auth_entries(
        user=user, hosts=["198.51.100.10", "203.0.113.0/28"], fields=egress
    )
    (pbx,) = auth_services.create_ip_auth_entries(
        user=user,
        hosts=["pbx.demo-telecom.example"],
        fields={"direction": "ingress", "protocol": "tls", "manufacturer": "Asterisk"},
    )
    auth_services.update_ip_auth_entry(user=user, entry=pbx, fields={"version": "20"})
    auth_services.update_ip_auth_entry(
        user=user, entry=pbx, fields={"channels": 60, "flow_speed": 10}
    )
    office, _ = auth_services.create_sip_user(
        user=user,
        fields={"username": "office-pbx", "whitelist": ["198.51.100.0/24"]},
        password="office-line-password-1",
    )
    auth_services.create_sip_user(
        user=user, fields={"username": "home-worker-7"}, password="home-line-password-7"
    )
    auth_services.create_ip_auth_entries(
        user=other, hosts=["192.0.2.44"], fields={"direction": "ingress"}
    )

    node = SwitchNode.objects.create(name="edge-1", rpc_url="http://127.0.0.1:5071/RPC")
    now = timezone.now()
    for ip, reason, customer_of_ip, age in [
        ("203.0.113.7", "unauthorised", customer, 40),
        ("192.0.2.44", "auth_failures", other.customer, 25),
        ("198.18.0.9", "unauthorised", None, 5),
    ]:
        BlockedIp.objects.create(
            node=node,
            ip=ip,
            reason=reason,
            first_seen=now - timedelta(minutes=age),
            last_seen=now,
            customer=customer_of_ip,
        )
    SyncRun.objects.create(node=node, finished_at=now, outcome=SyncOutcome.OK, seen=3, new=1)
    node.last_success_at = now
    node.save(update_fields=["last_success_at"])
    firewall_services.request_unblock(
        user=staff, blocked_ips=BlockedIp.objects.filter(ip="192.0.2.44")
    )
    ApiKey.objects.issue(user=user, name="provisioning")
    ApiKey.objects.issue(user=user, name="monitoring", read_only=True)
    return {"user": user, "staff": staff, "pbx": pbx, "office": office}


def test_screenshots_of_the_main_pages(open_page, demo):
    page = open_page(demo["user"], "/auth/")
    expect(page.get_by_role("link", name="office-pbx")).to_be_visible()
    photograph(page, "auth-tab")

    page.goto("/auth/ip/new/")
    check(page)
    page.get_by_label("IP(s) or hostname").fill("198.51.100.20\n198.51.100.21")
    photograph(page, "ip-form-basic")
    page.get_by_role("tab", name="Advanced").click()
    expect(page.get_by_label("Port")).to_be_visible()
    check(page)
    photograph(page, "ip-form-advanced")

    page.goto(f"/auth/sip-users/{demo['office'].pk}/")
    check(page)
    photograph(page, "sip-user-form")

    page.goto(f"/auth/ip/{demo['pbx'].pk}/audit-log/")
    check(page)
    photograph(page, "audit-log")

    page.goto("/api-keys/")
    check(page)
    photograph(page, "api-keys")

    admin = open_page(demo["staff"], "/firewall/")
    expect(admin.get_by_role("region", name="Blocked IPs")).to_contain_text("203.0.113.7")
    photograph(admin, "firewall")
