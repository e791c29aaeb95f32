"""Tenant isolation, swept over every route Django knows.

Every URL pattern of the portal and the API is requested as an anonymous visitor and as
customer A aimed at customer B's objects. A route this file does not classify fails the test,
so a new page or endpoint cannot ship without saying who may reach it.
"""

import json
import re

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from auth_config.models import IpAuthEntry, SipUser
from firewall.models import BlockedIp, SwitchNode, UnblockRequest
from portal.models import ApiKey
from tests.factories import IpAuthEntryFactory, SipUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PUBLIC = "public"  # anyone; shows nothing of any customer
OWN = "own"  # logged-in page or API list: only the caller's own rows
OBJECT = "object"  # one object by id: another customer's is a 404
BULK = "bulk"  # acts on ids from the body: another customer's are refused
STAFF = "staff"  # operator admins only
ADMIN = "admin"  # Django admin: staff only

ROUTES = {
    "home": (PUBLIC, None),
    "login": (PUBLIC, None),
    "logout": (PUBLIC, None),
    "password_reset": (PUBLIC, None),
    "password_reset_done": (PUBLIC, None),
    "password_reset_confirm": (PUBLIC, None),
    "password_reset_complete": (PUBLIC, None),
    "password_change": (OWN, None),
    "otp_verify": (OWN, None),
    "otp_setup": (OWN, None),
    "password_change_done": (OWN, None),
    "admin:login": (PUBLIC, None),
    "admin:logout": (PUBLIC, None),
    "api-schema": (PUBLIC, None),
    "api-docs": (PUBLIC, None),
    "auth_config:index": (OWN, None),
    "auth_config:ip_create": (OWN, None),
    "auth_config:ip_host_check": (OWN, None),
    "auth_config:sip_create": (OWN, None),
    "auth_config:ip_delete": (BULK, "ip"),
    "auth_config:sip_delete": (BULK, "sip"),
    "auth_config:ip_edit": (OBJECT, "ip"),
    "auth_config:ip_audit": (OBJECT, "ip"),
    "auth_config:sip_edit": (OBJECT, "sip"),
    "auth_config:sip_password": (OBJECT, "sip"),
    "auth_config:sip_audit": (OBJECT, "sip"),
    "portal:api_keys": (OWN, None),
    "portal:api_key_revoke": (OBJECT, "api_key"),
    "firewall:index": (STAFF, None),
    "firewall:unblock": (STAFF, "block"),
    "firewall:sync": (STAFF, None),
    "firewall:add_node": (STAFF, None),
    "firewall:node_enabled": (STAFF, "node"),
    "firewall:customer_blocks": (OWN, None),
    "api:not-found": (PUBLIC, None),
    "api:ip-auth-list": (OWN, None),
    "api:ip-auth-bulk-delete": (BULK, "ip"),
    "api:ip-auth-detail": (OBJECT, "ip"),
    "api:ip-auth-audit-log": (OBJECT, "ip"),
    "api:sip-user-list": (OWN, None),
    "api:sip-user-bulk-delete": (BULK, "sip"),
    "api:sip-user-detail": (OBJECT, "sip"),
    "api:sip-user-audit-log": (OBJECT, "sip"),
    "api:sip-user-password": (OBJECT, "sip"),
    "api:blocked-ip-list": (OWN, None),
    "api:blocked-ip-detail": (OBJECT, "block"),
    "api:blocked-ip-unblock": (STAFF, "block"),
    "api:switch-list": (STAFF, None),
    "api:sync-list": (STAFF, None),
}

B_HOST = "203.0.113.77"
B_SIP_USER = "tenant-b-only-user"
B_KEY_NAME = "tenant-b-only-key"


def all_routes():
    """(qualified name, URL pattern text) for every route, admin included."""

    def walk(patterns, prefix="", namespaces=()):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                namespace = (entry.namespace,) if entry.namespace else ()
                yield from walk(
                    entry.url_patterns, prefix + str(entry.pattern), namespaces + namespace
                )
            elif isinstance(entry, URLPattern):
                name = ":".join(namespaces + (entry.name or f"<unnamed {entry.pattern}>",))
                yield name, prefix + str(entry.pattern)

    return list(walk(get_resolver().url_patterns))


def classify(name):
    if name in ROUTES:
        return ROUTES[name]
    if name.startswith("admin:"):
        return ADMIN, "ip"
    return ROUTES.get(name)


def build_url(pattern, value):
    """A concrete path for a pattern, every parameter filled with `value`."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: fill(m[1], value), pattern)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: fill(m[1], value), path)
    path = path.replace("^", "").replace("$", "").replace(".*", "anything")
    return "/" + path


def fill(parameter, value):
    if parameter == "app_label":
        return "auth_config"
    if parameter in ("uidb64", "token", "url"):
        return "x"
    return str(value)


@pytest.fixture
def tenant_b():
    b_user = UserFactory()
    entry = IpAuthEntryFactory(customer=b_user.customer, host=B_HOST)
    sip = SipUserFactory(customer=b_user.customer, username=B_SIP_USER)
    api_key, _ = ApiKey.objects.issue(user=b_user, name=B_KEY_NAME)
    node = SwitchNode.objects.create(name="edge-iso", rpc_url="http://127.0.0.1:9/RPC")
    now = timezone.now()
    block = BlockedIp.objects.create(
        ip=B_HOST,
        node=node,
        reason="flood",
        first_seen=now,
        last_seen=now,
        customer=b_user.customer,
    )
    return {"ip": entry, "sip": sip, "api_key": api_key, "node": node, "block": block}


def snapshot():
    return json.dumps(
        [
            list(IpAuthEntry.objects.order_by("pk").values()),
            list(SipUser.objects.order_by("pk").values()),
            list(ApiKey.objects.order_by("pk").values("pk", "revoked_at")),
            list(SwitchNode.objects.order_by("pk").values("pk", "enabled")),
            UnblockRequest.objects.count(),
            LogEntry.objects.count(),
        ],
        default=str,
    )


def assert_nothing_of_b(response, where):
    body = response.content.decode(errors="replace")
    for marker in (B_HOST, B_SIP_USER, B_KEY_NAME):
        assert marker not in body, f"{where} shows customer B's {marker}"


def test_every_route_is_classified():
    unknown = sorted(name for name, _ in all_routes() if classify(name) is None)
    assert unknown == [], f"routes with no tenant-isolation class: {unknown}"
    stale = set(ROUTES) - {name for name, _ in all_routes()}
    assert stale == set(), f"classified routes that no longer exist: {sorted(stale)}"


def test_every_route_as_anonymous(tenant_b):
    before = snapshot()
    client = Client()
    for name, pattern in all_routes():
        kind, target = classify(name)
        url = build_url(pattern, tenant_b[target].pk if target else 1)
        api = url.startswith("/api/v1/")
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            where = f"anonymous {method.upper()} {url} ({name})"
            assert response.status_code < 500, where
            assert_nothing_of_b(response, where)
            if kind == PUBLIC:
                continue
            if api:
                assert response.status_code == 401, where
            elif kind == ADMIN:
                assert response.status_code == 302 and "/admin/login/" in response.url, where
            else:
                assert response.status_code == 302, where
                assert response.url.startswith(settings.LOGIN_URL) or response.url.startswith(
                    "/accounts/login/"
                ), where
    assert snapshot() == before


def test_every_route_as_customer_a_against_customer_b(tenant_b, customer_user):
    a_entry = IpAuthEntryFactory(customer=customer_user.customer, host="198.51.100.201")
    _, token = ApiKey.objects.issue(user=customer_user, name="a-key")
    before = snapshot()
    browser = Client()
    browser.force_login(customer_user)
    api_client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    checked = 0
    for name, pattern in all_routes():
        kind, target = classify(name)
        b_object = tenant_b[target] if target else None
        url = build_url(pattern, b_object.pk if b_object else a_entry.pk)
        api = url.startswith("/api/v1/")
        client = api_client if api else browser
        methods = ("get", "post", "put", "patch", "delete") if api else ("get", "post")
        if kind == PUBLIC:
            methods = ("get",)  # a POST to a public route would be a log-out or a log-in
        for method in methods:
            if kind == BULK:
                payload = {"ids": [b_object.pk]}
                response = (
                    client.post(url, payload, content_type="application/json")
                    if api
                    else client.post(url, {"ids": [b_object.pk], "confirm": "yes"})
                )
            elif api and method in ("post", "put", "patch"):
                response = getattr(client, method)(
                    url,
                    {"host": "192.0.2.99", "password": "x" * 20},
                    content_type="application/json",
                )
            else:
                response = getattr(client, method)(url)
            where = f"customer A {method.upper()} {url} ({name})"
            checked += 1
            assert response.status_code < 500, where
            assert_nothing_of_b(response, where)
            if kind == OBJECT:
                assert response.status_code in (404, 405), where
            elif kind == STAFF:
                assert response.status_code in (403, 404, 405), where
            elif kind == ADMIN:
                assert response.status_code == 302 and "/admin/login/" in response.url, where
            elif kind == BULK:
                assert response.status_code in (200, 302, 400, 404, 405), where
            if kind == BULK:
                break
        # The pages meant for A still work for A.
        if kind == OWN and not api:
            response = browser.get(url)
            if name == "otp_verify":  # a customer without an app is sent to set one up
                assert response.status_code == 302 and response.url.startswith(url), name
            else:
                assert response.status_code == 200, name
    assert checked > 100
    assert snapshot() == before
    assert IpAuthEntry.objects.filter(pk=tenant_b["ip"].pk).exists()
