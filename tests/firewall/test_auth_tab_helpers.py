"""What the Auth tab asks the firewall: which entries are blocked, and what to tell customers."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from firewall import services
from firewall.models import BlockedIp
from tests.factories import CustomerFactory, IpAuthEntryFactory

from .conftest import open_block

pytestmark = pytest.mark.django_db


def test_open_blocks_by_host_in_one_query(node, customer, django_assert_num_queries):
    other = CustomerFactory()
    exact = open_block(node, "198.51.100.7", "auth_failures", customer=customer)
    in_range = open_block(node, "203.0.113.9", customer=customer)
    unowned = open_block(node, "192.0.2.1")  # blocked before the customer added it
    open_block(node, "192.0.2.2", customer=other)  # someone else's
    open_block(node, "203.0.113.10", customer=other)  # in the range, but someone else's
    gone = open_block(node, "198.51.100.8", customer=customer)
    BlockedIp.objects.filter(pk=gone.pk).update(cleared_at=timezone.now())
    hosts = [
        "198.51.100.7",
        "203.0.113.0/24",
        "192.0.2.1",
        "192.0.2.2",
        "198.51.100.8",
        "pbx.example.com",
    ]

    with django_assert_num_queries(1):
        found = services.open_blocks_by_host(customer.pk, hosts)

    assert found == {
        "198.51.100.7": [exact],
        "203.0.113.0/24": [in_range],
        "192.0.2.1": [unowned],
    }
    assert found["198.51.100.7"][0].open_unblock_state is None


def test_open_blocks_for_entries_of_several_customers_in_one_query(
    node, staff_user, django_assert_num_queries
):
    first, second = CustomerFactory(), CustomerFactory()
    a = IpAuthEntryFactory(customer=first, host="198.51.100.7")
    b = IpAuthEntryFactory(customer=second, host="198.51.100.0/28", direction="egress")
    IpAuthEntryFactory(customer=second, host="192.0.2.50")
    block_a = open_block(node, "198.51.100.7", customer=first)
    block_b = open_block(node, "198.51.100.3", customer=second)
    services.request_unblock(user=staff_user, blocked_ips=[block_b])
    entries = list(type(a).objects.order_by("id"))

    with django_assert_num_queries(1):
        found = services.open_blocks_for_entries(entries)

    assert found == {a.pk: [block_a], b.pk: [block_b]}
    assert found[b.pk][0].open_unblock_state == "pending"


def test_block_badge_reads_well_for_customers_and_staff(node, customer_user, staff_user):
    open_block(node, "198.51.100.3", customer=customer_user.customer)
    [block] = services.open_blocks_by_host(customer_user.customer_id, ["198.51.100.0/28"])[
        "198.51.100.0/28"
    ]
    request = RequestFactory().get("/")
    for user, link in ((customer_user, "/firewall/my-blocks/"), (staff_user, "/firewall/?q=")):
        request.user = user
        html = render_to_string(
            "firewall/_block_badge.html",
            {"blocks": [block], "host": "198.51.100.0/28", "user": user},
            request=request,
        )
        text = " ".join(html.split())
        assert "Blocked since" in text
        assert "(Called before it was authorised): 198.51.100.3" in text
        assert link in html


def test_block_notices_after_saving(node, customer_user, staff_user):
    customer = customer_user.customer
    lifting = open_block(node, "198.51.100.7", customer=customer)
    services.request_unblock(user=staff_user, blocked_ips=[lifting])
    open_block(node, "198.51.100.8")  # unauthorised, nothing lifting it (e.g. saved disabled)
    open_block(node, "198.51.100.9", "auth_failures", customer=customer)
    notices = services.block_notices(
        customer.pk, ["198.51.100.7", "198.51.100.8", "198.51.100.9", "198.51.100.10"]
    )
    assert len(notices) == 3
    assert notices[0].startswith(
        "198.51.100.7 was blocked for calling before it was authorised; the block is being "
        "lifted (effective by "
    )
    assert "lifted automatically once the address is an enabled egress entry" in notices[1]
    assert notices[2].startswith(
        "198.51.100.9 is blocked on the switch (Repeated failed SIP authentication) since"
    )
    assert "contact support" in notices[2]
