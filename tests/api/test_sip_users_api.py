import itertools

import pytest

from auth_config.models import SipUser, ha1
from tests.api.conftest import ApiClient, error_of, fields_in_error
from tests.api.contract import CustomerEndpointContract
from tests.factories import SipUserFactory

pytestmark = pytest.mark.django_db

_names = (f"apiuser{n}" for n in itertools.count())
LIST = "/api/v1/sip-users/"
GOOD_PASSWORD = "correct-horse-battery-7"


def detail(sip_user_or_id):
    return f"{LIST}{getattr(sip_user_or_id, 'pk', sip_user_or_id)}/"


def new_sip_user(customer, **fields):
    return SipUserFactory(customer=customer, username=next(_names), **fields)


def digests(sip_user):
    sip_user.refresh_from_db()
    return (sip_user.ha1, sip_user.ha1_sha256, sip_user.ha1b)


class TestSipUserCollection(CustomerEndpointContract):
    route = "sip-user-list"
    model = SipUser
    detail = False
    success = {"GET": 200, "POST": 201}

    def make_object(self, customer):
        return new_sip_user(customer)

    def requests(self, obj, *, staff=False):
        body = {"username": next(_names), "password": GOOD_PASSWORD}
        if staff:
            body["customer"] = obj.customer_id
        return {"GET": None, "POST": body}

    def check_collection_write_on_foreign_object(self, response, method, theirs):
        assert response.status_code == 201
        assert SipUser.objects.get(pk=response.json()["id"]).customer != theirs.customer
        api = ApiClient(response.wsgi_request.headers["Authorization"].split()[1])
        refused = api.post(LIST, {"username": next(_names), "customer": theirs.customer_id})
        assert refused.status_code == 400
        assert fields_in_error(refused) == {"customer"}
        assert list(SipUser.objects.filter(customer=theirs.customer)) == [theirs]


class TestSipUserDetail(CustomerEndpointContract):
    route = "sip-user-detail"
    model = SipUser

    def make_object(self, customer):
        return new_sip_user(customer)

    def requests(self, obj, *, staff=False):
        return {
            "GET": None,
            "PUT": {"username": obj.username, "whitelist": ["192.0.2.0/24"], "enabled": False},
            "PATCH": {"dial_pattern": "national"},
            "DELETE": None,
        }


class TestSipUserBulkDelete(CustomerEndpointContract):
    route = "sip-user-bulk-delete"
    model = SipUser
    detail = False

    def make_object(self, customer):
        return new_sip_user(customer)

    def requests(self, obj, *, staff=False):
        return {"POST": {"ids": [obj.pk]}}

    def check_collection_write_on_foreign_object(self, response, method, theirs):
        assert response.status_code == 404
        assert SipUser.objects.filter(pk=theirs.pk).exists()


class TestSipUserAuditLog(CustomerEndpointContract):
    route = "sip-user-audit-log"
    model = SipUser

    def make_object(self, customer):
        return new_sip_user(customer)

    def requests(self, obj, *, staff=False):
        return {"GET": None}


class TestSipUserPassword(CustomerEndpointContract):
    route = "sip-user-password"
    model = SipUser

    def make_object(self, customer):
        return new_sip_user(customer)

    def requests(self, obj, *, staff=False):
        return {"POST": {}}


# --- behaviour ---------------------------------------------------------------------------


def test_create_with_a_password_stores_only_its_digests(customer_api, customer):
    response = customer_api.post(
        LIST,
        {"username": "alice", "password": GOOD_PASSWORD, "whitelist": ["192.0.2.7/32"]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["generated_password"] is None
    assert body["realm"] == customer.sip_realm
    assert body["whitelist"] == ["192.0.2.7"]
    assert "password" not in body
    sip_user = SipUser.objects.get(pk=body["id"])
    assert sip_user.ha1 == ha1("alice", customer.sip_realm, GOOD_PASSWORD)
    assert GOOD_PASSWORD not in response.content.decode()


def test_create_without_a_password_returns_the_generated_one_once(customer_api, customer):
    response = customer_api.post(LIST, {"username": "bob"})
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    generated = response.json()["generated_password"]
    sip_user = SipUser.objects.get(username="bob")
    assert sip_user.ha1 == ha1("bob", customer.sip_realm, generated)
    for later in (customer_api.get(detail(sip_user)), customer_api.get(LIST)):
        assert generated not in later.content.decode()
        assert "generated_password" not in later.content.decode()


def test_password_endpoint_sets_or_generates(customer_api, sip_user):
    before = digests(sip_user)
    response = customer_api.post(f"{detail(sip_user)}password/", {"password": GOOD_PASSWORD})
    assert response.status_code == 204
    assert response.content == b""
    after_set = digests(sip_user)
    assert after_set != before
    assert sip_user.ha1 == ha1(sip_user.username, sip_user.realm, GOOD_PASSWORD)

    generated = customer_api.post(f"{detail(sip_user)}password/", {})
    assert generated.status_code == 200
    assert generated["Cache-Control"] == "no-store"
    password = generated.json()["password"]
    assert digests(sip_user) != after_set
    assert sip_user.ha1 == ha1(sip_user.username, sip_user.realm, password)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": "short"}, "password"),
        ({"password": "123456789012345"}, "password"),
        ({"password": ""}, "password"),
        ({"password": 12345678901234}, "password"),
        ({"pasword": GOOD_PASSWORD}, "pasword"),
    ],
)
def test_bad_passwords_are_refused_and_change_nothing(customer_api, sip_user, body, field):
    before = digests(sip_user)
    response = customer_api.post(f"{detail(sip_user)}password/", body)
    assert response.status_code == 400, response.content
    assert fields_in_error(response) == {field}
    assert digests(sip_user) == before


def test_a_password_in_an_update_is_saved_with_the_settings_or_not_at_all(customer_api, sip_user):
    before = digests(sip_user)
    refused = customer_api.patch(
        detail(sip_user), {"password": "short", "whitelist": ["192.0.2.0/24"]}
    )
    assert refused.status_code == 400
    assert digests(sip_user) == before and sip_user.whitelist == []

    done = customer_api.patch(
        detail(sip_user), {"password": GOOD_PASSWORD, "whitelist": ["192.0.2.0/24"]}
    )
    assert done.status_code == 200, done.content
    assert digests(sip_user) != before and sip_user.whitelist == ["192.0.2.0/24"]
    assert GOOD_PASSWORD not in done.content.decode()


def test_username_cannot_change(customer_api, sip_user):
    response = customer_api.patch(detail(sip_user), {"username": "renamed"})
    assert response.status_code == 400
    assert fields_in_error(response) == {"username"}


def test_duplicate_username_is_refused(customer_api, customer, sip_user):
    response = customer_api.post(LIST, {"username": sip_user.username.upper()})
    assert response.status_code == 409
    assert (error_of(response)["field"], error_of(response)["code"]) == ("username", "unique")


def test_whitelist_errors_name_the_bad_entries(customer_api):
    response = customer_api.post(
        LIST, {"username": "carol", "whitelist": ["192.0.2.0/24", "10.0.0.0/8", "nonsense"]}
    )
    assert response.status_code == 400
    messages = " ".join(d["message"] for d in error_of(response)["details"])
    assert "10.0.0.0/8" in messages and "nonsense" in messages
    assert fields_in_error(response) == {"whitelist"}
    assert not SipUser.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"username": "dave", "whitelist": "192.0.2.1"}, "whitelist"),
        ({"username": "dave", "restricted_codecs": ["PCMU", "MP3"]}, "restricted_codecs.1"),
        ({"username": "dave", "protocol": "smpp"}, "protocol"),
        ({"username": "dave", "channels": 5}, "channels"),
        ({"username": "dave@example.com"}, "username"),
        ({"username": "dave", "enabled": "maybe"}, "enabled"),
        ({"username": "dave", "realm": "elsewhere", "domain": "x"}, "domain"),
    ],
)
def test_bad_bodies_name_the_field(customer_api, body, field):
    response = customer_api.post(LIST, body)
    assert response.status_code == 400, response.content
    assert field in fields_in_error(response)
    assert not SipUser.objects.exists()


def test_staff_create_for_a_customer_and_may_set_channels(staff_api, customer):
    response = staff_api.post(
        LIST,
        {"username": "erin", "customer": customer.pk, "channels": 30, "password": GOOD_PASSWORD},
    )
    assert response.status_code == 201, response.content
    assert response.json()["channels"] == 30
    assert SipUser.objects.get(username="erin").customer == customer


def test_filters_and_search(customer_api, customer):
    new_sip_user(customer, protocol="tcp")
    new_sip_user(customer, enabled=False)
    SipUserFactory(customer=customer, username="frontdesk")
    assert customer_api.get(LIST, {"protocol": "tcp"}).json()["count"] == 1
    assert customer_api.get(LIST, {"enabled": "false"}).json()["count"] == 1
    found = customer_api.get(LIST, {"search": "FRONT"}).json()["results"]
    assert [item["username"] for item in found] == ["frontdesk"]


def test_audit_log_masks_the_password(customer_api, sip_user):
    customer_api.post(f"{detail(sip_user)}password/", {"password": GOOD_PASSWORD})
    response = customer_api.get(f"{detail(sip_user)}audit-log/")
    assert response.status_code == 200
    newest = response.json()["results"][0]
    assert newest["changes"]["password"] == {"old": "[set]", "new": "[set]"}
    text = response.content.decode()
    sip_user.refresh_from_db()
    for secret in (GOOD_PASSWORD, sip_user.ha1, sip_user.ha1_sha256, sip_user.ha1b):
        assert secret not in text
