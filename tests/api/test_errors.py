"""Bad requests of every kind get the one JSON error shape and a 4xx, never a 500."""

import pytest
from django.test import override_settings

from auth_config.models import IpAuthEntry
from tests.api.conftest import error_of, fields_in_error

pytestmark = pytest.mark.django_db

LIST = "/api/v1/ip-auth/"


def test_malformed_json_is_400(customer_api):
    response = customer_api.post(LIST, raw='{"host": "192.0.2.1",')
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_invalid_utf8_is_400(customer_api):
    response = customer_api.post(LIST, raw=b'{"host": "\xff\xfe"}')
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_deeply_nested_json_is_400(customer_api):
    response = customer_api.post(LIST, raw="[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


@pytest.mark.parametrize("raw", ["[]", '"192.0.2.1"', "5", "null", "true"])
def test_a_body_that_is_not_an_object_is_400(customer_api, raw):
    response = customer_api.post(LIST, raw=raw)
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] in ("invalid", "null")


def test_non_json_bodies_are_415(customer_api):
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "application/xml"):
        response = customer_api.post(LIST, raw="host=192.0.2.1", content_type=content_type)
        assert response.status_code == 415, content_type
        assert error_of(response)["code"] == "unsupported_media_type"
    assert not IpAuthEntry.objects.exists()


@override_settings(API_MAX_BODY_BYTES=2048)
def test_oversized_bodies_are_413(customer_api):
    response = customer_api.post(LIST, {"host": "192.0.2.1", "manufacturer": "x" * 4096})
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert not IpAuthEntry.objects.exists()


def test_the_default_body_limit_refuses_a_megabyte(customer_api):
    response = customer_api.post(LIST, {"host": "192.0.2.1", "version": "x" * 1_000_000})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body, field",
    [
        ({"host": "192.0.2.1", "channels": "many"}, "channels"),
        ({"host": "192.0.2.1", "channels": 10**40}, "channels"),
        ({"host": "192.0.2.1", "channels": -1}, "channels"),
        ({"host": "192.0.2.1", "channels": 1.5}, "channels"),
        ({"host": "192.0.2.1", "port": 10**30}, "port"),
        ({"host": "192.0.2.1", "port": 0}, "port"),
        ({"host": "192.0.2.1", "strip_digits": 2**64}, "strip_digits"),
        ({"host": 19202, "direction": "sideways"}, "direction"),
        ({"host": ["192.0.2.1", "192.0.2.2"]}, "host"),
        ({"host": None}, "host"),
        ({"host": "192.0.2.1\u0000"}, "host"),
        ({"host": "192.0.2.1", "manufacturer": "\ud800"}, "manufacturer"),
        ({"host": "192.0.2.1", "restricted_codecs": "PCMU"}, "restricted_codecs"),
        ({"host": "192.0.2.1", "enabled": "perhaps"}, "enabled"),
        ({"host": "192.0.2.1", "dial_pattern": {"x": 1}}, "dial_pattern"),
        ({"host": "ünï_cödé.example"}, "host"),
        ({"host": "\u202eevil.example"}, "host"),
        ({"host": "192.0.2.1", "Host": "192.0.2.2"}, "Host"),
    ],
)
def test_wrong_types_and_values_are_400_naming_the_field(customer_api, body, field):
    response = customer_api.post(LIST, body)
    assert response.status_code == 400, response.content
    assert field in fields_in_error(response)
    assert not IpAuthEntry.objects.exists()


def test_huge_float_is_400(customer_api):
    response = customer_api.post(LIST, raw='{"host": "192.0.2.1", "channels": 1e400}')
    assert response.status_code == 400
    assert fields_in_error(response) == {"channels"}


def test_nan_is_refused(customer_api):
    response = customer_api.post(LIST, raw='{"host": "192.0.2.1", "channels": NaN}')
    assert response.status_code == 400


def test_every_problem_is_listed(customer_api):
    response = customer_api.post(LIST, {"host": "", "port": -5, "direction": "up"})
    assert response.status_code == 400
    assert fields_in_error(response) == {"host", "port", "direction"}
    assert error_of(response)["field"] in {"host", "port", "direction"}


@pytest.mark.parametrize(
    "path", ["/api/v1/ip-auth/abc/", "/api/v1/ip-auth/99999999999999999999999/", "/api/v1/nope/"]
)
def test_unknown_paths_and_ids_are_json_404(customer_api, path):
    response = customer_api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "not_found"


def test_wrong_method_is_405(customer_api, ip_entry):
    for method, path in (("DELETE", LIST), ("PUT", LIST), ("GET", f"{LIST}bulk-delete/")):
        response = customer_api.request(method, path, {})
        assert response.status_code == 405, (method, path)
        assert error_of(response)["code"] == "method_not_allowed"


def test_bad_query_parameters_are_400_or_ignored_never_500(customer_api, ip_entry):
    for params in (
        {"page_size": "lots"},
        {"page": "x"},
        {"ordering": "secret_field"},
        {"search": "\u0000"},
        {"enabled": "maybe"},
        {"page_size": 10**30},
    ):
        response = customer_api.get(LIST, params)
        assert response.status_code in (200, 400, 404), (params, response.content)
        if response.status_code != 200:
            error_of(response)


def test_any_accept_header_gets_json(customer_api, ip_entry):
    response = customer_api.get(LIST, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_session_login_alone_does_not_reach_the_api(client, customer_user, ip_entry):
    client.force_login(customer_user)
    response = client.get(LIST)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_a_malformed_authorization_header_is_401(customer_user, ip_entry, client):
    for header in ("Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"):
        response = client.get(LIST, headers={"Authorization": header})
        assert response.status_code == 401, header
        assert error_of(response)["code"] == "authentication_failed"


def test_staff_only_messages_do_not_leak_other_customers(customer_api, other_customer_user):
    response = customer_api.post(
        LIST, {"host": "192.0.2.1", "customer": other_customer_user.customer_id}
    )
    assert response.status_code == 400
    assert fields_in_error(response) == {"customer"}
    assert other_customer_user.customer.name not in response.content.decode()
