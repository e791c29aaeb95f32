"""Egress hostnames: the portal looks them up and the switches' address view carries the answers."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from auth_config import services
from auth_config.models import HostAddress
from tests.views.helpers import login, page_text

pytestmark = pytest.mark.django_db

NAME = "pbx.customer.example"


def addresses_of(entry):
    return set(HostAddress.objects.filter(entry=entry).values_list("address", flat=True))


def switch_rows(entry):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT grp, ip_addr, mask, port, tag FROM switch_address WHERE tag LIKE %s "
            "ORDER BY grp, ip_addr",
            [f"{entry.pk}:%"],
        )
        return cursor.fetchall()


def add_hostname(user, host=NAME, **fields):
    (entry,) = services.create_ip_auth_entries(user=user, hosts=[host], fields=fields)
    return entry


def test_a_hostnames_addresses_reach_the_switch_with_the_entrys_port_and_limits(
    customer_user, name_server
):
    name_server.records[NAME] = ["198.51.100.20", "2001:db8::20"]
    entry = add_hostname(customer_user, port=5070, channels=4, flow_speed=2)
    assert switch_rows(entry) == []  # nothing until it is looked up

    assert services.refresh_host_addresses() is True
    entry.refresh_from_db()
    assert addresses_of(entry) == {"198.51.100.20", "2001:db8::20"}
    assert entry.resolved_at is not None and entry.resolution_error == ""
    tag = f"{entry.pk}:4:2"
    assert switch_rows(entry) == [
        (1, "198.51.100.20", 32, 5070, tag),
        (1, "2001:db8::20", 128, 5070, tag),
        (2, "198.51.100.20", 32, 0, tag),
        (2, "2001:db8::20", 128, 0, tag),
    ]
    assert {(NAME, "A"), (NAME, "AAAA")} <= set(name_server.queries)
    # Asked again with the same answer: nothing to reload.
    assert services.refresh_host_addresses() is False


def test_a_changed_answer_replaces_the_addresses(customer_user, name_server):
    name_server.records[NAME] = ["198.51.100.20"]
    entry = add_hostname(customer_user)
    services.refresh_host_addresses()
    name_server.records[NAME] = ["198.51.100.21"]
    assert services.refresh_host_addresses() is True
    assert addresses_of(entry) == {"198.51.100.21"}


def test_a_name_that_no_longer_exists_loses_its_addresses_and_says_why(customer_user, name_server):
    name_server.records[NAME] = ["198.51.100.20"]
    entry = add_hostname(customer_user)
    services.refresh_host_addresses()
    del name_server.records[NAME]
    assert services.refresh_host_addresses() is True
    entry.refresh_from_db()
    assert addresses_of(entry) == set()
    assert entry.resolution_error == f"{NAME} does not exist in DNS."
    assert switch_rows(entry) == []


def test_a_dead_name_server_keeps_the_addresses_found_before(customer_user, name_server):
    name_server.records[NAME] = ["198.51.100.20"]
    entry = add_hostname(customer_user)
    services.refresh_host_addresses()
    name_server.silent = True
    assert services.refresh_host_addresses() is False
    entry.refresh_from_db()
    assert addresses_of(entry) == {"198.51.100.20"}
    assert "no name server answered in time" in entry.resolution_error


def test_only_enabled_egress_hostnames_are_looked_up(customer_user, name_server):
    name_server.records.update({NAME: ["198.51.100.20"], "in.customer.example": ["192.0.2.9"]})
    entry = add_hostname(customer_user)
    ingress = add_hostname(customer_user, "in.customer.example", direction="ingress")
    add_hostname(customer_user, "198.51.100.77")
    services.refresh_host_addresses()
    assert addresses_of(ingress) == set()
    assert {query[0] for query in name_server.queries} == {NAME}

    services.update_ip_auth_entry(user=customer_user, entry=entry, fields={"enabled": False})
    assert switch_rows(entry) == []
    services.refresh_host_addresses()
    assert addresses_of(entry) == set()


def test_a_new_name_drops_the_old_names_addresses_at_once(customer_user, name_server):
    name_server.records[NAME] = ["198.51.100.20"]
    entry = add_hostname(customer_user)
    services.refresh_host_addresses()
    entry = services.update_ip_auth_entry(
        user=customer_user, entry=entry, fields={"host": "other.customer.example"}
    )
    assert addresses_of(entry) == set() and entry.resolved_at is None
    assert switch_rows(entry) == []


def test_the_lookup_leaves_no_audit_entry(customer_user, name_server):
    from auditlog.models import LogEntry

    name_server.records[NAME] = ["198.51.100.20"]
    entry = add_hostname(customer_user)
    before = LogEntry.objects.get_for_object(entry).count()
    services.refresh_host_addresses()
    assert LogEntry.objects.get_for_object(entry).count() == before


def test_the_resolved_addresses_are_shown_on_the_entrys_page(customer_user, name_server):
    name_server.records[NAME] = ["198.51.100.20"]
    entry = add_hostname(customer_user)
    client = login(customer_user)
    page = page_text(client.get(reverse("auth_config:ip_edit", args=[entry.pk])))
    assert "Not looked up yet" in page
    services.refresh_host_addresses()
    page = page_text(client.get(reverse("auth_config:ip_edit", args=[entry.pk])))
    assert "Calls are accepted from: 198.51.100.20" in page
    del name_server.records[NAME]
    services.refresh_host_addresses()
    page = page_text(client.get(reverse("auth_config:ip_edit", args=[entry.pk])))
    assert f"{NAME} does not exist in DNS." in page


def test_a_name_pointed_at_another_customers_address_does_not_get_it(
    customer_user, other_customer_user, name_server
):
    services.create_ip_auth_entries(user=other_customer_user, hosts=["198.51.100.30"], fields={})
    name_server.records[NAME] = ["198.51.100.30", "198.51.100.31"]
    entry = add_hostname(customer_user)
    services.refresh_host_addresses()
    entry.refresh_from_db()
    assert addresses_of(entry) == {"198.51.100.31"}
    assert entry.resolution_error.startswith("198.51.100.30 is registered to another account")
    assert [row[1] for row in switch_rows(entry)] == ["198.51.100.31", "198.51.100.31"]


def test_an_address_another_customers_name_has_cannot_be_added(
    customer_user, other_customer_user, name_server
):
    name_server.records[NAME] = ["198.51.100.40"]
    add_hostname(other_customer_user)
    services.refresh_host_addresses()
    for host in ("198.51.100.40", "198.51.100.0/24"):
        with pytest.raises(ValidationError) as exc:
            services.create_ip_auth_entries(user=customer_user, hosts=[host], fields={})
        assert "another account" in exc.value.message_dict["host"][0]


def test_two_customers_names_with_one_address_leave_it_to_the_older_entry(
    customer_user, other_customer_user, name_server
):
    name_server.records.update({NAME: ["198.51.100.50"], "pbx.other.example": ["198.51.100.50"]})
    older = add_hostname(other_customer_user, "pbx.other.example")
    newer = add_hostname(customer_user)
    services.refresh_host_addresses()
    assert addresses_of(older) == {"198.51.100.50"}
    assert addresses_of(newer) == set()


def test_the_auth_tab_lists_a_hostname_with_its_addresses_in_one_query_a_page(
    customer_user, name_server, django_assert_max_num_queries
):
    for number in range(3):
        name_server.records[f"pbx{number}.customer.example"] = [f"198.51.100.{number + 1}"]
        add_hostname(customer_user, f"pbx{number}.customer.example")
    add_hostname(customer_user, "late.customer.example")
    services.refresh_host_addresses()
    add_hostname(customer_user, "new.customer.example")
    client = login(customer_user)
    client.get(reverse("auth_config:index"))
    with django_assert_max_num_queries(11):
        page = page_text(client.get(reverse("auth_config:index")))
    assert "pbx0.customer.example → 198.51.100.1" in page
    assert "late.customer.example no address found" in page
    assert "new.customer.example not looked up yet" in page
