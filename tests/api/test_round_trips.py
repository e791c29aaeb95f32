"""What the API does is what the Auth tab shows, with one audit trail for both."""

import pytest
from auditlog.models import LogEntry

from auth_config import services
from auth_config.models import IpAuthEntry, SipUser
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

IP_LIST = "/api/v1/ip-auth/"
SIP_LIST = "/api/v1/sip-users/"


def test_what_the_api_creates_the_auth_tab_lists(client, customer_user, make_key):
    api = ApiClient(make_key(customer_user))
    host = api.post(IP_LIST, {"host": "192.0.2.61", "manufacturer": "Acme"}).json()["host"]
    username = api.post(SIP_LIST, {"username": "roundtrip"}).json()["username"]

    client.force_login(customer_user)
    page = client.get("/auth/")
    assert page.status_code == 200
    assert host in page.content.decode()
    assert username in page.content.decode()
    # ... and what the Auth tab's scoping shows this customer is exactly what the API lists.
    assert set(IpAuthEntry.objects.for_user(customer_user).values_list("host", flat=True)) == {
        item["host"] for item in api.get(IP_LIST).json()["results"]
    }


def test_what_the_auth_tab_creates_the_api_lists(customer_user, customer_api):
    # The Auth tab's views create through these same services.
    (entry,) = services.create_ip_auth_entries(
        user=customer_user, hosts=["192.0.2.62"], fields={"channels": 3}
    )
    sip_user, _ = services.create_sip_user(user=customer_user, fields={"username": "fromtab"})
    ip_items = customer_api.get(IP_LIST).json()["results"]
    assert [(i["id"], i["host"], i["channels"]) for i in ip_items] == [(entry.pk, "192.0.2.62", 3)]
    assert [i["username"] for i in customer_api.get(SIP_LIST).json()["results"]] == ["fromtab"]
    assert customer_api.get(f"{SIP_LIST}{sip_user.pk}/").status_code == 200


def test_one_audit_trail_for_the_api_and_the_auth_tab(client, customer_user, make_key):
    api = ApiClient(make_key(customer_user), remote_addr="198.51.100.23")
    entry_id = api.post(IP_LIST, {"host": "192.0.2.63"}).json()["id"]
    entry = IpAuthEntry.objects.get(pk=entry_id)
    services.update_ip_auth_entry(user=customer_user, entry=entry, fields={"channels": 8})
    api.patch(f"{IP_LIST}{entry_id}/", {"flow_speed": 2})

    api_log = api.get(f"{IP_LIST}{entry_id}/audit-log/").json()["results"]
    stored = LogEntry.objects.get_for_object(entry).order_by("-timestamp", "-pk")
    assert [item["id"] for item in api_log] == [log.pk for log in stored]
    assert [item["action"] for item in api_log] == ["update", "update", "create"]
    assert all(item["actor"] == customer_user.username for item in api_log)
    assert api_log[0]["changes"]["flow_speed"] == {"old": "0", "new": "2"}
    assert api_log[1]["changes"]["channels"] == {"old": "0", "new": "8"}
    assert api_log[0]["remote_addr"] == "198.51.100.23"

    client.force_login(customer_user)
    page = client.get(f"/auth/ip/{entry_id}/audit-log/")
    assert page.status_code == 200
    assert customer_user.username in page.content.decode()


def test_api_writes_name_the_keys_user_even_with_another_users_session(
    client, customer_user, staff_user, make_key
):
    # A browser logged in as staff, calling the API with a customer's key: the change is
    # made with the key's rights, so the audit log must name the key's user.
    client.force_login(staff_user)
    response = client.post(
        IP_LIST,
        {"host": "192.0.2.64"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {make_key(customer_user)}"},
        REMOTE_ADDR="203.0.113.50",
    )
    assert response.status_code == 201, response.content
    created = LogEntry.objects.get(action=LogEntry.Action.CREATE)
    assert created.actor == customer_user
    assert created.remote_addr == "203.0.113.50"


def test_secrets_never_reach_the_audit_log_through_the_api(customer_api):
    uac_secret = "uac-Secret-8812"
    sip_secret = "sip-secret-password-8812"
    entry = customer_api.post(
        IP_LIST,
        {
            "host": "192.0.2.65",
            "direction": "ingress",
            "uac_username": "u",
            "uac_password": uac_secret,
        },
    ).json()
    customer_api.patch(f"{IP_LIST}{entry['id']}/", {"uac_password": uac_secret + "2"})
    sip = customer_api.post(SIP_LIST, {"username": "secretive", "password": sip_secret}).json()
    customer_api.post(f"{SIP_LIST}{sip['id']}/password/", {"password": sip_secret + "2"})
    sip_user = SipUser.objects.get(pk=sip["id"])
    dump = " ".join(
        f"{log.changes} {log.changes_text} {log.serialized_data} {log.additional_data}"
        for log in LogEntry.objects.all()
    )
    stored_secrets = (sip_user.ha1, sip_user.ha1_sha256, sip_user.ha1b)
    for secret in (uac_secret, sip_secret, *stored_secrets):
        assert secret not in dump
    encrypted = IpAuthEntry.objects.get(pk=entry["id"]).uac_password_encrypted
    assert encrypted[:20] not in dump
