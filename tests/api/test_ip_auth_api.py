import itertools

import pytest
from auditlog.models import LogEntry

from auth_config.models import IpAuthEntry
from tests.api.conftest import ApiClient, error_of, fields_in_error
from tests.api.contract import CustomerEndpointContract, key_for
from tests.factories import IpAuthEntryFactory

pytestmark = pytest.mark.django_db

_addresses = (f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())
LIST = "/api/v1/ip-auth/"


def detail(entry_or_id):
    return f"{LIST}{getattr(entry_or_id, 'pk', entry_or_id)}/"


def new_entry(customer, **fields):
    return IpAuthEntryFactory(customer=customer, host=next(_addresses), **fields)


class TestIpAuthCollection(CustomerEndpointContract):
    route = "ip-auth-list"
    model = IpAuthEntry
    detail = False
    success = {"GET": 200, "POST": 201}

    def make_object(self, customer):
        return new_entry(customer)

    def requests(self, obj, *, staff=False):
        body = {"host": next(_addresses), "channels": 5}
        if staff:
            body["customer"] = obj.customer_id
        return {"GET": None, "POST": body}

    def check_collection_write_on_foreign_object(self, response, method, theirs):
        # The plain create made an entry for the caller's own customer ...
        assert response.status_code == 201
        assert IpAuthEntry.objects.get(pk=response.json()["id"]).customer != theirs.customer
        # ... and naming the other customer is refused: customers cannot name one at all.
        api = ApiClient(response.wsgi_request.headers["Authorization"].split()[1])
        refused = api.post(LIST, {"host": next(_addresses), "customer": theirs.customer_id})
        assert refused.status_code == 400
        assert fields_in_error(refused) == {"customer"}
        assert list(IpAuthEntry.objects.filter(customer=theirs.customer)) == [theirs]


class TestIpAuthDetail(CustomerEndpointContract):
    route = "ip-auth-detail"
    model = IpAuthEntry

    def make_object(self, customer):
        return new_entry(customer)

    def requests(self, obj, *, staff=False):
        return {
            "GET": None,
            "PUT": {"host": obj.host, "direction": "egress", "channels": 9, "enabled": False},
            "PATCH": {"channels": 7},
            "DELETE": None,
        }


class TestIpAuthBulkDelete(CustomerEndpointContract):
    route = "ip-auth-bulk-delete"
    model = IpAuthEntry
    detail = False

    def make_object(self, customer):
        return new_entry(customer)

    def requests(self, obj, *, staff=False):
        return {"POST": {"ids": [obj.pk]}}

    def check_collection_write_on_foreign_object(self, response, method, theirs):
        assert response.status_code == 404
        assert str(theirs.pk) in error_of(response)["message"]
        assert IpAuthEntry.objects.filter(pk=theirs.pk).exists()


class TestIpAuthAuditLog(CustomerEndpointContract):
    route = "ip-auth-audit-log"
    model = IpAuthEntry

    def make_object(self, customer):
        return new_entry(customer)

    def requests(self, obj, *, staff=False):
        return {"GET": None}


# --- behaviour ---------------------------------------------------------------------------


def test_create_stores_the_canonical_host_and_the_protocols_default_port(customer_api, customer):
    response = customer_api.post(LIST, {"host": "  PBX.Example.COM. ", "protocol": "tls"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["host"], body["port"], body["direction"]) == ("pbx.example.com", 5061, "egress")
    entry = IpAuthEntry.objects.get(pk=body["id"])
    assert entry.customer == customer
    assert customer_api.get(detail(entry)).json() == body


def test_unicode_hostname_is_stored_as_punycode(customer_api):
    response = customer_api.post(LIST, {"host": "bücher.example"})
    assert response.status_code == 201, response.content
    assert response.json()["host"] == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    "host", ["bücher..example", "☃", "1.2.3.4.5", "10.0.0.1/8", "a b.example", "x" * 300]
)
def test_bad_hosts_are_400_naming_host(customer_api, host):
    response = customer_api.post(LIST, {"host": host})
    assert response.status_code == 400, response.content
    assert fields_in_error(response) == {"host"}
    assert not IpAuthEntry.objects.exists()


def test_smpp_is_refused_with_its_reason(customer_api):
    response = customer_api.post(LIST, {"host": "192.0.2.10", "protocol": "smpp"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["field"] == "protocol"
    assert "SMPP" in error["message"] and "not supported" in error["message"]


def test_another_customers_address_is_refused_without_naming_them(
    customer_api, other_customer_user
):
    IpAuthEntryFactory(customer=other_customer_user.customer, host="192.0.2.77")
    response = customer_api.post(LIST, {"host": "192.0.2.77"})
    assert response.status_code == 409
    error = error_of(response)
    assert (error["field"], error["code"]) == ("host", "unique")
    assert "another account" in error["message"]
    assert other_customer_user.customer.name not in response.content.decode()


def test_customers_cannot_set_staff_only_fields_but_staff_can(customer_api, staff_api, customer):
    refused = customer_api.post(LIST, {"host": "192.0.2.20", "tech_prefix": "99#"})
    assert refused.status_code == 400
    assert fields_in_error(refused) == {"tech_prefix"}
    allowed = staff_api.post(
        LIST, {"host": "192.0.2.20", "tech_prefix": "99#", "customer": customer.pk}
    )
    assert allowed.status_code == 201, allowed.content
    assert allowed.json()["tech_prefix"] == "99#"
    assert allowed.json()["customer"] == customer.pk


def test_staff_must_name_the_customer(staff_api):
    response = staff_api.post(LIST, {"host": "192.0.2.21"})
    assert response.status_code == 400
    assert fields_in_error(response) == {"customer"}


def test_the_customer_cannot_be_changed_by_an_update(staff_api, ip_entry, other_customer_user):
    response = staff_api.patch(detail(ip_entry), {"customer": other_customer_user.customer_id})
    assert response.status_code == 200
    ip_entry.refresh_from_db()
    assert ip_entry.customer_id != other_customer_user.customer_id


def test_customers_do_not_see_a_customer_field(customer_api, ip_entry):
    assert "customer" not in customer_api.get(detail(ip_entry)).json()


def test_uac_password_is_write_only(customer_api):
    secret = "uac-Secret-4711"
    response = customer_api.post(
        LIST,
        {
            "host": "192.0.2.30",
            "direction": "ingress",
            "uac_username": "carrier",
            "uac_password": secret,
        },
    )
    assert response.status_code == 201, response.content
    entry = IpAuthEntry.objects.get(pk=response.json()["id"])
    assert entry.get_uac_password() == secret
    responses = [
        response,
        customer_api.get(detail(entry)),
        customer_api.get(LIST),
        customer_api.patch(detail(entry), {"manufacturer": "Acme"}),
        customer_api.get(f"{detail(entry)}audit-log/"),
    ]
    for each in responses:
        assert each.status_code in (200, 201)
        assert secret not in each.content.decode()
        assert entry.uac_password_encrypted not in each.content.decode()
    assert responses[1].json()["uac_password_set"] is True
    assert "uac_password" not in responses[1].json()

    cleared = customer_api.patch(detail(entry), {"uac_password": "", "uac_username": ""})
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["uac_password_set"] is False


def test_uac_credentials_on_egress_are_refused(customer_api):
    response = customer_api.post(LIST, {"host": "192.0.2.31", "uac_username": "x"})
    assert response.status_code == 400
    assert fields_in_error(response) == {"uac_username"}


def test_put_needs_the_host_and_patch_does_not(customer_api, ip_entry):
    response = customer_api.put(detail(ip_entry), {"channels": 3})
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "required",
        "message": "This field is required.",
        "field": "host",
        "details": [{"field": "host", "code": "required", "message": "This field is required."}],
    }
    assert customer_api.patch(detail(ip_entry), {"channels": 3}).json()["channels"] == 3


def test_a_representation_can_be_sent_back_as_it_is(customer_api, ip_entry):
    representation = customer_api.get(detail(ip_entry)).json()
    representation["channels"] = 12
    response = customer_api.put(detail(ip_entry), representation)
    assert response.status_code == 200, response.content
    assert response.json()["channels"] == 12


def test_filters_search_and_ordering(customer_api, customer):
    new_entry(customer, direction="ingress", protocol="tcp", manufacturer="Acme")
    new_entry(customer, direction="egress", enabled=False)
    IpAuthEntryFactory(customer=customer, host="pbx.example.net", direction="ingress")

    def hosts(**params):
        response = customer_api.get(LIST, params)
        assert response.status_code == 200, response.content
        return [item["host"] for item in response.json()["results"]]

    assert len(hosts()) == 3
    assert len(hosts(direction="ingress")) == 2
    assert len(hosts(protocol="tcp")) == 1
    assert len(hosts(enabled="false")) == 1
    assert hosts(search="EXAMPLE") == ["pbx.example.net"]
    assert len(hosts(search="acme")) == 1
    assert hosts(ordering="-host") == sorted(hosts(), reverse=True)
    assert error_of(customer_api.get(LIST, {"protocol": "carrier-pigeon"}))["field"] == "protocol"


def test_pagination(customer_api, customer):
    for _ in range(5):
        new_entry(customer)
    first = customer_api.get(LIST, {"page_size": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["next"]
    last = customer_api.get(LIST, {"page_size": 2, "page": 3}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    beyond = customer_api.get(LIST, {"page": 99})
    assert beyond.status_code == 404
    assert error_of(beyond)["code"] == "not_found"


def test_bulk_delete_is_all_or_nothing(customer_api, customer, other_customer_user):
    mine = [new_entry(customer) for _ in range(3)]
    theirs = new_entry(other_customer_user.customer)
    ids = [entry.pk for entry in mine]

    refused = customer_api.post(f"{LIST}bulk-delete/", {"ids": [*ids, theirs.pk]})
    assert refused.status_code == 404
    assert str(theirs.pk) in error_of(refused)["message"]
    assert IpAuthEntry.objects.count() == 4

    missing = customer_api.post(f"{LIST}bulk-delete/", {"ids": [*ids, 10**18]})
    assert missing.status_code == 404
    assert IpAuthEntry.objects.count() == 4

    done = customer_api.post(f"{LIST}bulk-delete/", {"ids": [*ids, ids[0]]})
    assert done.status_code == 200, done.content
    assert done.json() == {"deleted": 3}
    assert list(IpAuthEntry.objects.all()) == [theirs]
    deletions = LogEntry.objects.filter(action=LogEntry.Action.DELETE)
    assert sorted(int(e.object_pk) for e in deletions) == sorted(ids)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"ids": []}, "ids"),
        ({"ids": list(range(1, 10_001))}, "ids"),
        ({"ids": ["one"]}, "ids.0"),
        ({"ids": [0]}, "ids.0"),
        ({"ids": [2**70]}, "ids.0"),
        ({"ids": "1,2"}, "ids"),
        ({}, "ids"),
        ({"ids": [1], "force": True}, "force"),
    ],
)
def test_bad_bulk_delete_bodies_are_400(customer_api, ip_entry, body, field):
    response = customer_api.post(f"{LIST}bulk-delete/", body)
    assert response.status_code == 400, response.content
    assert field in fields_in_error(response)
    assert IpAuthEntry.objects.filter(pk=ip_entry.pk).exists()


def test_ten_thousand_ids_get_a_clear_message(customer_api):
    response = customer_api.post(f"{LIST}bulk-delete/", {"ids": list(range(1, 10_001))})
    assert "no more than 1000" in error_of(response)["message"]


def test_audit_log_newest_first_with_actor_and_address(customer_user, make_key):
    api = ApiClient(make_key(customer_user), remote_addr="203.0.113.9")
    entry_id = api.post(LIST, {"host": "192.0.2.40"}).json()["id"]
    api.patch(detail(entry_id), {"channels": 4})
    log = api.get(f"{detail(entry_id)}audit-log/").json()
    assert log["count"] == 2
    update, create = log["results"]
    assert (update["action"], create["action"]) == ("update", "create")
    assert update["changes"]["channels"] == {"old": "0", "new": "4"}
    assert create["changes"]["host"] == {"old": None, "new": "192.0.2.40"}
    for item in (update, create):
        assert item["actor"] == customer_user.username
        assert item["remote_addr"] == "203.0.113.9"


def test_delete_leaves_an_audit_entry_naming_the_key_user(customer_api, customer_user, ip_entry):
    response = customer_api.delete(detail(ip_entry))
    assert response.status_code == 204
    assert not IpAuthEntry.objects.filter(pk=ip_entry.pk).exists()
    deletion = LogEntry.objects.get(action=LogEntry.Action.DELETE, object_pk=str(ip_entry.pk))
    assert deletion.actor == customer_user


def test_read_only_key_lists(customer_user, ip_entry):
    api = ApiClient(key_for(customer_user, read_only=True))
    assert api.get(LIST).json()["count"] == 1


def test_staff_filter_by_customer(staff_api, customer, other_customer_user):
    mine = new_entry(customer)
    new_entry(other_customer_user.customer)
    assert staff_api.get(LIST).json()["count"] == 2
    found = staff_api.get(LIST, {"customer": customer.pk}).json()["results"]
    assert [item["id"] for item in found] == [mine.pk]
    for bad in ("x", "0", str(2**70)):
        assert staff_api.get(LIST, {"customer": bad}).status_code == 400


def test_the_customer_filter_cannot_widen_a_customers_view(customer_api, other_customer_user):
    new_entry(other_customer_user.customer)
    response = customer_api.get(LIST, {"customer": other_customer_user.customer_id})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_secrets_in_the_audit_log_show_only_whether_they_are_set(customer_api):
    entry_id = customer_api.post(LIST, {"host": "192.0.2.41", "direction": "ingress"}).json()["id"]
    customer_api.patch(detail(entry_id), {"uac_username": "u", "uac_password": "uac-Secret-77"})
    update, create = customer_api.get(f"{detail(entry_id)}audit-log/").json()["results"]
    assert create["changes"]["uac_password"]["old"] is None
    assert update["changes"]["uac_password"] == {"old": "[not set]", "new": "[set]"}


def test_own_duplicate_is_a_conflict_but_a_bad_value_beside_it_is_a_400(customer_api, customer):
    IpAuthEntryFactory(customer=customer, host="192.0.2.78")
    duplicate = customer_api.post(LIST, {"host": "192.0.2.78"})
    assert duplicate.status_code == 409
    assert "already have" in error_of(duplicate)["message"]
    both = customer_api.post(LIST, {"host": "192.0.2.78", "protocol": "tls", "port": 5060})
    assert both.status_code == 400
    assert "port" in fields_in_error(both)


def test_customers_see_operator_changes_as_operator_staff_without_an_address(
    customer_api, staff_user, make_key, ip_entry
):
    staff = ApiClient(make_key(staff_user), remote_addr="10.20.0.5")
    assert staff.patch(detail(ip_entry), {"channels": 7}).status_code == 200
    [change] = [
        item
        for item in customer_api.get(f"{detail(ip_entry)}audit-log/").json()["results"]
        if item["action"] == "update"
    ]
    assert (change["actor"], change["remote_addr"]) == ("operator staff", None)
    assert staff_user.username not in str(change)
    [seen_by_staff] = [
        item
        for item in staff.get(f"{detail(ip_entry)}audit-log/").json()["results"]
        if item["action"] == "update"
    ]
    assert (seen_by_staff["actor"], seen_by_staff["remote_addr"]) == (
        staff_user.username,
        "10.20.0.5",
    )


def test_an_address_inside_another_customers_range_is_a_409_naming_the_host(customer_api):
    IpAuthEntryFactory(host="198.51.100.0/24")
    response = customer_api.post(LIST, {"host": "198.51.100.7"})
    assert response.status_code == 409
    error = error_of(response)
    assert (error["field"], error["code"]) == ("host", "overlap")
    assert "198.51.100.7" in error["message"] and "198.51.100.0/24" not in error["message"]


def test_an_egress_hostname_shows_the_addresses_of_its_last_lookup(customer_api, name_server):
    from auth_config.services import refresh_host_addresses

    name_server.records["pbx.customer.example"] = ["198.51.100.60", "2001:db8::60"]
    created = customer_api.post(LIST, {"host": "pbx.customer.example"}).json()
    assert (created["resolved_addresses"], created["resolved_at"]) == ([], None)
    refresh_host_addresses()
    [listed] = customer_api.get(LIST, {"search": "pbx.customer"}).json()["results"]
    assert listed["resolved_addresses"] == ["198.51.100.60", "2001:db8::60"]
    assert listed["resolved_at"] is not None and listed["resolution_error"] == ""
    # Read-only: what was read can be sent back, and the lookup's fields are left alone.
    sent_back = {k: v for k, v in listed.items() if k != "uac_password_set"}
    sent_back["resolved_addresses"] = ["192.0.2.1"]
    response = customer_api.put(detail(listed["id"]), sent_back)
    assert response.status_code == 200, response.content
    assert response.json()["resolved_addresses"] == ["198.51.100.60", "2001:db8::60"]
