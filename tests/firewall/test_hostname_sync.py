"""A sync looks egress hostnames up first, so their addresses reach the switch in the same run."""

import pytest

from auth_config import services as auth_services
from firewall import services
from firewall.models import BlockedIp, SwitchNode

pytestmark = pytest.mark.django_db

NAME = "pbx.customer.example"


def test_a_sync_looks_names_up_reloads_and_lifts_the_block_of_a_resolved_address(
    switch, node, customer_user, name_server
):
    name_server.records[NAME] = ["198.51.100.20"]
    auth_services.create_ip_auth_entries(user=customer_user, hosts=[NAME], fields={})
    SwitchNode.objects.update(address_reload_pending=False)
    switch.ban("198.51.100.20")  # it called before the name was looked up

    services.sync_all()

    assert switch.calls.index(("reload",)) < switch.calls.index(("delete", "198.51.100.20"))
    assert switch.bans == {}
    block = BlockedIp.objects.get(ip="198.51.100.20")
    assert block.customer_id == customer_user.customer_id
    assert block.unblocks.get().requested_by is None

    # Nothing changed in DNS: the next run has nothing to reload.
    switch.calls.clear()
    services.sync_all()
    assert ("reload",) not in switch.calls


def test_a_failing_lookup_never_stops_the_sync(switch, node, customer_user, name_server):
    name_server.silent = True
    auth_services.create_ip_auth_entries(user=customer_user, hosts=[NAME], fields={})
    switch.ban("203.0.113.9")
    [run] = services.sync_all()
    assert run.outcome == "ok"
    assert BlockedIp.objects.filter(ip="203.0.113.9").exists()
