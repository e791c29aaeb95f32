"""The firewall API routes: access rules from the shared contract, then what each one does."""

import itertools
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from firewall import services
from firewall.models import BlockedIp, SwitchNode, SyncRun, UnblockRequest
from tests.api.conftest import ApiClient, error_of, make_key  # noqa: F401 (fixture)
from tests.api.contract import CustomerEndpointContract, StaffEndpointContract, key_for
from tests.factories import CustomerFactory

from .conftest import open_block

pytestmark = pytest.mark.django_db
_addresses = (f"198.51.100.{n}" for n in itertools.cycle(range(1, 255)))


def the_node():
    node, _ = SwitchNode.objects.get_or_create(
        name="sw1", defaults={"rpc_url": "http://127.0.0.1:5071/RPC"}
    )
    return node


def new_block(customer):
    return open_block(the_node(), next(_addresses), "auth_failures", customer=customer)


@pytest.fixture(autouse=True)
def _clean_broker(broker):
    """Unblocks and syncs queue real tasks on the test broker; start and end empty."""


class TestBlockedIpCollection(CustomerEndpointContract):
    route = "blocked-ip-list"
    model = BlockedIp
    detail = False

    def make_object(self, customer):
        return new_block(customer)

    def requests(self, obj, *, staff=False):
        return {"GET": None}


class TestBlockedIpDetail(CustomerEndpointContract):
    route = "blocked-ip-detail"
    model = BlockedIp

    def make_object(self, customer):
        return new_block(customer)

    def requests(self, obj, *, staff=False):
        return {"GET": None}


class TestUnblock(StaffEndpointContract):
    route = "blocked-ip-unblock"
    model = UnblockRequest
    success = {"POST": 202}

    def make_object(self, customer):
        return new_block(customer)

    def requests(self, obj, *, staff=False):
        return {"POST": None}


class TestSwitches(StaffEndpointContract):
    route = "switch-list"
    model = SwitchNode
    detail = False

    @pytest.fixture(autouse=True)
    def _node_exists(self, db):
        the_node()

    def make_object(self, customer):
        return the_node()

    def requests(self, obj, *, staff=False):
        return {"GET": None}


class TestSync(StaffEndpointContract):
    route = "sync-list"
    model = SyncRun
    detail = False
    success = {"POST": 202}

    def make_object(self, customer):
        return new_block(customer).node

    def requests(self, obj, *, staff=False):
        return {"POST": None}


LIST = "/api/v1/firewall/blocked-ips/"


def test_staff_list_shows_every_open_block_with_node_customer_and_unblock(
    staff_user, node, django_assert_max_num_queries
):
    acme = CustomerFactory(name="Acme")
    mine = open_block(node, "198.51.100.7", "unauthorised", customer=acme)
    open_block(node, "203.0.113.5", "flood")
    gone = open_block(node, "192.0.2.1")
    BlockedIp.objects.filter(pk=gone.pk).update(cleared_at=timezone.now())
    services.request_unblock(user=staff_user, blocked_ips=[mine])
    api = ApiClient(key_for(staff_user))

    with django_assert_max_num_queries(12):
        body = api.get(LIST).json()
    assert body["count"] == 2
    item = next(row for row in body["results"] if row["ip"] == "198.51.100.7")
    assert item["node"] == "sw1" and item["customer"] == acme.pk
    assert item["reason"] == "unauthorised"
    assert item["reason_text"] == "Called before it was authorised"
    assert item["unblock"]["state"] == "pending"
    assert item["unblock"]["requested_by"] == staff_user.username
    assert item["unblock"]["automatic"] is False
    assert re.fullmatch(r"effective by \d\d:\d\d", item["unblock"]["status"])
    assert item["unblock"]["effective_by"]

    assert {row["ip"] for row in api.get(LIST, {"status": "all"}).json()["results"]} == {
        "198.51.100.7",
        "203.0.113.5",
        "192.0.2.1",
    }
    assert [row["ip"] for row in api.get(LIST, {"search": "203.0"}).json()["results"]] == [
        "203.0.113.5"
    ]
    assert [row["ip"] for row in api.get(LIST, {"customer": acme.pk}).json()["results"]] == [
        "198.51.100.7"
    ]
    assert [row["ip"] for row in api.get(LIST, {"reason": "flood"}).json()["results"]] == [
        "203.0.113.5"
    ]
    refused = api.get(LIST, {"reason": "nonsense"})
    assert refused.status_code == 400
    assert error_of(refused)["field"] == "reason"


def test_customer_list_is_their_own_blocks_without_operator_fields(customer_user, node):
    open_block(node, "198.51.100.7", customer=customer_user.customer)
    open_block(node, "203.0.113.5", customer=CustomerFactory())
    open_block(node, "192.0.2.1")
    body = ApiClient(key_for(customer_user)).get(LIST).json()
    assert [row["ip"] for row in body["results"]] == ["198.51.100.7"]
    assert "node" not in body["results"][0] and "customer" not in body["results"][0]


def test_unblock_is_202_with_the_state_and_repeating_is_harmless(staff_user, node):
    block = open_block(node, "198.51.100.7")
    api = ApiClient(key_for(staff_user))
    url = reverse("api:blocked-ip-unblock", kwargs={"pk": block.pk})

    first = api.post(url)
    assert first.status_code == 202
    assert first.json()["state"] == "pending"
    assert first.json()["ip"] == "198.51.100.7"
    again = api.post(url)
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert UnblockRequest.objects.count() == 1


def test_unblock_of_a_block_already_gone_is_409(staff_user, node):
    block = open_block(node, "198.51.100.7")
    BlockedIp.objects.filter(pk=block.pk).update(cleared_at=timezone.now())
    response = ApiClient(key_for(staff_user)).post(
        reverse("api:blocked-ip-unblock", kwargs={"pk": block.pk})
    )
    assert response.status_code == 409
    assert "no longer blocked" in error_of(response)["message"]
    assert not UnblockRequest.objects.exists()


def test_switches_show_sync_state(staff_user, switch, node):
    switch.ban("198.51.100.7")
    services.sync_node(node)
    switch.down = True
    services.sync_node(node)
    [item] = ApiClient(key_for(staff_user)).get("/api/v1/firewall/switches/").json()["results"]
    assert item["name"] == "sw1"
    assert item["consecutive_failures"] == 1 and item["failing_since"]
    assert item["last_success_at"]
    assert item["last_run"]["outcome"] == "failed"
    assert "cannot connect" in item["last_error"]


def test_sync_queues_or_runs_inline_when_the_broker_is_down(
    staff_user, switch, node, broker, request
):
    api = ApiClient(key_for(staff_user))
    queued = api.post("/api/v1/firewall/sync/")
    assert queued.status_code == 202 and queued.json()["queued"] is True
    assert broker.llen("celery") == 1

    request.getfixturevalue("broker_down")
    switch.ban("198.51.100.7")
    inline = api.post("/api/v1/firewall/sync/")
    assert inline.status_code == 200
    assert inline.json()["ran_inline"] is True
    assert inline.json()["runs"][0].startswith("sw1: OK: 1 banned, 1 new")


def test_list_queries_do_not_grow_with_the_number_of_blocks(
    staff_user, node, django_assert_max_num_queries
):
    blocks = [open_block(node, f"198.51.100.{n}", customer=CustomerFactory()) for n in range(1, 31)]
    services.request_unblock(user=staff_user, blocked_ips=blocks)
    api = ApiClient(key_for(staff_user))
    with django_assert_max_num_queries(12):
        body = api.get(LIST).json()
    assert body["count"] == 30
    assert all(row["unblock"]["state"] == "pending" for row in body["results"])
