"""Changes made in the Auth tab are in each entry's audit log, with who, when and from where."""

import re

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from auth_config.models import IpAuthEntry, SipUser
from tests.factories import IpAuthEntryFactory

from .helpers import ip_form, page_text, sip_form

pytestmark = pytest.mark.django_db

CLIENT_ADDRESS = "203.0.113.9"


def log_of(model, pk):
    """The audit trail of one entry, oldest first; it outlives the entry."""
    return LogEntry.objects.get_for_model(model).filter(object_id=pk).order_by("timestamp", "pk")


def test_create_update_delete_record_actor_address_and_changes(customer_client, customer_user):
    customer_client.post(
        reverse("auth_config:ip_create"),
        ip_form(host="192.0.2.50", channels="5"),
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    entry = IpAuthEntry.objects.get()
    customer_client.post(
        reverse("auth_config:ip_edit", args=[entry.pk]),
        ip_form(host="192.0.2.50", channels="8"),
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    customer_client.post(
        reverse("auth_config:ip_delete"),
        {"ids": [entry.pk], "confirm": "yes"},
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    created, updated, deleted = log_of(IpAuthEntry, entry.pk)
    assert [created.action, updated.action, deleted.action] == [
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,
        LogEntry.Action.DELETE,
    ]
    for log in (created, updated, deleted):
        assert log.actor == customer_user
        assert log.remote_addr == CLIENT_ADDRESS
    assert created.changes_dict["host"][1] == "192.0.2.50"
    assert updated.changes_dict == {"channels": ["5", "8"]}


def test_sip_user_changes_are_recorded_with_the_password_masked(customer_client, customer_user):
    customer_client.post(
        reverse("auth_config:sip_create"),
        sip_form(username="audited", password="Tq8vLm3xRz5wKp2n"),
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    sip_user = SipUser.objects.get()
    customer_client.post(
        reverse("auth_config:sip_edit", args=[sip_user.pk]),
        sip_form(password="Nw5tRq8zLx3vKm7p"),
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    created, reset = log_of(SipUser, sip_user.pk)
    assert created.actor == reset.actor == customer_user
    assert reset.remote_addr == CLIENT_ADDRESS
    assert reset.changes_dict["ha1"] == ["[set]", "[set]"]


def test_audit_page_shows_newest_first_with_actor_address_and_old_new_values(
    customer_client, customer_user
):
    customer_client.post(
        reverse("auth_config:ip_create"),
        ip_form(host="192.0.2.51", manufacturer="Asterisk"),
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    entry = IpAuthEntry.objects.get()
    customer_client.post(
        reverse("auth_config:ip_edit", args=[entry.pk]),
        ip_form(host="192.0.2.51", manufacturer="FreeSWITCH", flow_speed="7"),
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    html = customer_client.get(reverse("auth_config:ip_audit", args=[entry.pk])).content.decode()
    rows = re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>")[1], re.S)
    assert len(rows) == 2
    newest, oldest = rows
    assert "Update" in newest and "Create" in oldest
    assert customer_user.username in newest and CLIENT_ADDRESS in newest
    text = page_text(newest)
    assert "Manufacturer Asterisk → FreeSWITCH" in text
    assert "Flow speed 0 → 7" in text


def test_audit_page_of_a_sip_user_says_the_password_changed_without_showing_it(
    customer_client, sip_user
):
    customer_client.post(
        reverse("auth_config:sip_edit", args=[sip_user.pk]), sip_form(password="Nw5tRq8zLx3vKm7p")
    )
    text = page_text(customer_client.get(reverse("auth_config:sip_audit", args=[sip_user.pk])))
    assert "Password [set] → [set]" in text


def test_another_customers_audit_log_is_a_404(other_client, ip_entry, sip_user):
    assert other_client.get(reverse("auth_config:ip_audit", args=[ip_entry.pk])).status_code == 404
    assert other_client.get(reverse("auth_config:sip_audit", args=[sip_user.pk])).status_code == 404


def test_audit_log_is_paginated(customer_client, customer, customer_user):
    entry = IpAuthEntryFactory(customer=customer)
    for channels in range(1, 26):
        customer_client.post(
            reverse("auth_config:ip_edit", args=[entry.pk]),
            ip_form(host=entry.host, channels=str(channels)),
        )
    url = reverse("auth_config:ip_audit", args=[entry.pk])
    first = page_text(customer_client.get(url))
    second = page_text(customer_client.get(url + "?page=2"))
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "24 → 25" in first and "24 → 25" not in second


def test_customers_see_operator_changes_as_operator_staff_without_an_address(
    customer_client, staff_client, staff_user, ip_entry
):
    staff_client.post(
        reverse("auth_config:ip_edit", args=[ip_entry.pk]),
        ip_form(staff_user, host=ip_entry.host, channels="9"),
        REMOTE_ADDR="10.20.0.5",
    )
    audit = reverse("auth_config:ip_audit", args=[ip_entry.pk])
    seen_by_customer = page_text(customer_client.get(audit))
    assert "Channels 0 → 9" in seen_by_customer
    assert "operator staff" in seen_by_customer
    assert staff_user.username not in seen_by_customer and "10.20.0.5" not in seen_by_customer
    seen_by_staff = page_text(staff_client.get(audit))
    assert staff_user.username in seen_by_staff and "10.20.0.5" in seen_by_staff
