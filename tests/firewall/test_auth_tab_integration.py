"""The Auth tab tells customers about blocks on their addresses (firewall wired into it)."""

import re

import pytest
from django.urls import reverse

from firewall.models import BlockedIp, SwitchNode, UnblockRequest
from tests.factories import CustomerFactory, IpAuthEntryFactory
from tests.views.helpers import ip_form

from .conftest import open_block
from .test_views import login, text

pytestmark = pytest.mark.django_db
INDEX = reverse("auth_config:index")
CREATE = reverse("auth_config:ip_create")


def test_blocked_entries_carry_a_badge_with_reason_and_time(node, customer_user, staff_user):
    customer = customer_user.customer
    IpAuthEntryFactory(customer=customer, host="198.51.100.7")
    IpAuthEntryFactory(customer=customer, host="203.0.113.0/24")
    IpAuthEntryFactory(customer=customer, host="192.0.2.9")
    open_block(node, "198.51.100.7", "auth_failures", customer=customer)
    open_block(node, "203.0.113.40", customer=customer)
    open_block(node, "192.0.2.10", customer=CustomerFactory())  # not theirs

    page = text(login(customer_user).get(INDEX))
    assert re.search(
        r"198\.51\.100\.7 Blocked since \S+ \S+ \(Repeated failed SIP authentication\)", page
    )
    assert re.search(
        r"203\.0\.113\.0/24 Blocked since \S+ \S+ \(Called before it was authorised\): "
        r"203\.0\.113\.40",
        page,
    )
    assert "192.0.2.9 Blocked" not in page and "192.0.2.10" not in page
    assert reverse("firewall:customer_blocks") in login(customer_user).get(INDEX).content.decode()

    staff_page = login(staff_user).get(INDEX).content.decode()
    assert f"{reverse('firewall:index')}?q=198.51.100.7" in staff_page


# Real commits: the lift happens when the save commits, before the page says what happened.
@pytest.mark.django_db(transaction=True)
def test_adding_a_blocked_address_lifts_an_unauthorised_block_and_says_so(
    node, customer_user, broker
):
    open_block(node, "198.51.100.7")  # called before it was authorised
    open_block(node, "198.51.100.8", "auth_failures")
    response = login(customer_user).post(
        CREATE, ip_form(host="198.51.100.7\n198.51.100.8"), follow=True
    )
    page = text(response)
    assert re.search(
        r"198\.51\.100\.7 was blocked for calling before it was authorised; the block is "
        r"being lifted \(effective by \d\d:\d\d\)\.",
        page,
    )
    assert re.search(
        r"198\.51\.100\.8 is blocked on the switch \(Repeated failed SIP authentication\) "
        r"since \d\d:\d\d; an operator has to lift this block, please contact support\.",
        page,
    )
    [request] = UnblockRequest.objects.all()
    assert request.blocked_ip.ip == "198.51.100.7" and request.requested_by is None
    assert BlockedIp.objects.get(ip="198.51.100.7").customer == customer_user.customer
    assert broker.llen("celery") == 1  # the lift is carried to the switch right away


@pytest.mark.django_db(transaction=True)
def test_enabling_an_entry_lifts_its_unauthorised_block(node, customer_user, broker):
    entry = IpAuthEntryFactory(customer=customer_user.customer, host="198.51.100.7", enabled=False)
    open_block(node, "198.51.100.7")
    client = login(customer_user)
    url = reverse("auth_config:ip_edit", kwargs={"pk": entry.pk})
    response = client.post(url, ip_form(host="198.51.100.7", enabled=""), follow=True)
    assert "lifted automatically once the address is an enabled egress entry" in text(response)
    assert not UnblockRequest.objects.exists()

    response = client.post(url, ip_form(host="198.51.100.7"), follow=True)
    assert "the block is being lifted (effective by" in text(response)
    assert UnblockRequest.objects.get().requested_by is None


def test_the_ip_form_says_at_once_which_typed_address_is_blocked(client, customer_user):
    node = SwitchNode.objects.create(name="form-sw", rpc_url="http://127.0.0.1:9/RPC")
    open_block(node, "198.51.100.44")  # called before it was authorised: no owner yet
    client.force_login(customer_user)
    form = client.get(reverse("auth_config:ip_create")).content.decode()
    assert 'hx-get="/auth/ip/check-hosts/"' in form and 'id="host-blocks"' in form

    answer = client.get(
        reverse("auth_config:ip_host_check"), {"host": "192.0.2.9\n198.51.100.44\nnot an ip"}
    ).content.decode()
    assert "198.51.100.44 is blocked because it called before it was authorised" in answer
    assert "lifted automatically once the address is an enabled egress entry" in answer
    assert "192.0.2.9" not in answer

    quiet = client.get(reverse("auth_config:ip_host_check"), {"host": "192.0.2.9"})
    assert "Blocked on the switch" not in quiet.content.decode()
