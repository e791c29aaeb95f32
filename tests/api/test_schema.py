"""The OpenAPI schema is valid, matches the API's behaviour, and is served without a CDN."""

import re
from io import StringIO

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.models import ApiKey
from tests.factories import IpAuthEntryFactory, SipUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema_document(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_validates_without_warnings(tmp_path):
    out = StringIO()
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
        stdout=out,
        stderr=out,
    )
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_needs_the_bearer_key_and_documents_its_errors(schema_document):
    scheme = schema_document["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    found = list(operations(schema_document))
    assert len(found) >= 14
    for path, method, operation in found:
        assert path.startswith("/api/v1/")
        assert operation["security"] == [{"apiKey": []}], (path, method)
        for code in ("401", "403"):
            error = operation["responses"][code]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}, (path, method, code)
        if "{id}" in path:
            assert "404" in operation["responses"], (path, method)
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(operation["responses"]), (path, method)


def test_secrets_are_write_only_in_the_schema(schema_document):
    schemas = schema_document["components"]["schemas"]
    assert "uac_password" in schemas["IpAuthEntryRequest"]["properties"]
    assert "password" in schemas["SipUserRequest"]["properties"]
    for name, component in schemas.items():
        if not name.endswith("Request"):
            properties = component.get("properties", {})
            assert "uac_password" not in properties, name
            assert not ("password" in properties and name != "GeneratedPassword"), name
    created = schemas["SipUserCreated"]["properties"]["generated_password"]
    assert created["readOnly"] and created["nullable"]


def test_enums_are_what_the_api_accepts(schema_document):
    schemas = schema_document["components"]["schemas"]
    protocol = schemas[
        schemas["IpAuthEntry"]["properties"]["protocol"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    ]
    assert protocol["enum"] == ["udp", "tcp", "tls", "tls_srtp"]
    assert schemas["DirectionEnum"]["enum"] == ["egress", "ingress"]
    assert schemas["IpAuthEntry"]["properties"]["port"]["maximum"] == 65535


def test_interactive_docs_are_served_locally(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(src.startswith("/") for src in sources), sources
    assert "https://" not in page and "http://" not in page.replace("http://testserver", "")
    static = [src for src in sources if src.startswith("/static/")]
    assert any("swagger-ui" in src for src in static)


# --- schemathesis: every operation, generated requests, in-process ----------------------


@pytest.fixture
def wsgi_app_in_test_transaction():
    """The WSGI app, called in-process inside the test's transaction.

    Django closes the connection at the end of each request; inside the test's transaction
    that would end the transaction. The test client avoids it the same way.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# No server error, no response the schema does not describe, schema-invalid input refused,
# and no answer without the key. ("Schema-valid input accepted" is not asked for: the
# services' rules, such as a host being a real address, go beyond what a schema can say.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]


@pytest.mark.parametrize("as_staff", [False, True], ids=["customer", "staff"])
def test_schemathesis_finds_no_server_error_or_schema_mismatch(
    wsgi_app_in_test_transaction, customer_user, staff_user, as_staff
):
    user = staff_user if as_staff else customer_user
    _, token = ApiKey.objects.issue(user=user, name="schemathesis")
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app_in_test_transaction)
    headers = {"Authorization": f"Bearer {token}"}

    failures = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        tested += 1
        # Fresh objects for each operation, so earlier deletions leave something to work on.
        existing = {
            "ip-auth": [IpAuthEntryFactory(customer=customer_user.customer).pk for _ in range(3)],
            "sip-users": [SipUserFactory(customer=customer_user.customer).pk for _ in range(3)],
        }
        ids = existing.get(operation.path.split("/")[3], [])
        try:
            exercise(operation, ids, headers)
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert tested >= 14
    assert not failures, "\n\n".join(failures)


def exercise(operation, ids, headers):
    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), pick=st.integers(min_value=0, max_value=5))
    def run(case, pick):
        # Half the time, aim a detail route at an object that exists, so success paths run.
        if "id" in (case.path_parameters or {}) and pick < len(ids):
            case.path_parameters["id"] = ids[pick]
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
