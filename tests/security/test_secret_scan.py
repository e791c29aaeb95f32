"""A full journey through the Auth tab, the REST API and the firewall, then a scan of every
response, every log record and the audit log for the secrets used on the way: the login
password, API keys, SIP passwords and their digests, UAC passwords and their ciphertext.

The only places a secret may appear are the two one-time reveals the portal promises: a new
API key on the page after it is created, and a generated SIP password on the page (or in the
API answer) right after it is generated.
"""

import json
import logging
import re
from html import unescape

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from auth_config.models import IpAuthEntry, SipUser
from firewall.models import BlockedIp, SwitchNode
from tests.factories import TEST_PASSWORD, IpAuthEntryFactory
from tests.otp import verify_second_factor
from tests.views.helpers import ip_form, sip_form

pytestmark = pytest.mark.django_db

UI_SIP_PASSWORD = "Uq7xK9vT2mW4rY6pLb3J"
UI_UAC_PASSWORD = "Wt4yU7iO1pA3sD5fGh8K"
API_SIP_PASSWORD = "Pn5cV8wD3fG6jB9kZs2X"
API_SIP_PASSWORD_2 = "Mz2bN4vC6xZ8lK1jHg5F"
API_UAC_PASSWORD = "Ea9sD7fG5hJ3kL1qWe4R"
CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


class RecordingClient(Client):
    """A test client that keeps every response, as the browser or integrator would see it."""

    def __init__(self, journal, **defaults):
        super().__init__(**defaults)
        self.journal = journal

    def request(self, **request):
        response = super().request(**request)
        body = "" if getattr(response, "streaming", False) else response.content.decode()
        headers = "\n".join(f"{name}: {value}" for name, value in response.items())
        self.journal.append(
            {
                "what": f"{request['REQUEST_METHOD']} {request['PATH_INFO']}",
                "text": f"{response.status_code}\n{headers}\n{body}",
            }
        )
        return response


def api(journal, token):
    client = RecordingClient(journal, HTTP_AUTHORIZATION=f"Bearer {token}")

    def call(method, path, body=None):
        response = client.generic(
            method,
            path,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
        )
        return response, (response.json() if response.content else None)

    return call


def pieces(secret):
    """The secret and its halves: a mask that keeps half the string still leaks."""
    half = len(secret) // 2
    return {secret, secret[:half], secret[half:]}


def find_leaks(text, secrets):
    text = CSRF_VALUE.sub("", text)
    texts = (text, unescape(text), text.replace("\\u002D", "-"))
    return sorted(
        {
            name
            for name, secret in secrets.items()
            for p in pieces(secret)
            if any(p in t for t in texts)
        }
    )


def test_no_secret_leaks_anywhere_during_a_full_journey(customer_user, staff_user, caplog):
    caplog.set_level(logging.DEBUG)
    journal = []
    reveals = {}

    # Customer logs in with a wrong password first, then the right one.
    browser = RecordingClient(journal, REMOTE_ADDR="198.51.100.10")
    browser.post(
        reverse("login"), {"username": customer_user.username, "password": "Wr0ngPassw0rdZq"}
    )
    assert (
        browser.post(
            reverse("login"), {"username": customer_user.username, "password": TEST_PASSWORD}
        ).status_code
        == 302
    )

    # Auth tab: a SIP user with a chosen password, one with a generated password, an ingress
    # entry with a UAC password, and a refused save that re-renders the form.
    browser.post(
        reverse("auth_config:sip_create"),
        sip_form(username="ui-user", password=UI_SIP_PASSWORD),
    )
    generated_page = browser.post(
        reverse("auth_config:sip_create"),
        sip_form(username="ui-generated", generate_password="on"),
        follow=True,
    )
    ui_generated = re.search(
        r'id="generated-password" type="text" readonly value="([^"]+)"',
        generated_page.content.decode(),
    )[1]
    reveals["ui generated SIP password"] = (ui_generated, len(journal) - 1)
    browser.get(generated_page.redirect_chain[-1][0])  # shown once: not again
    browser.post(
        reverse("auth_config:ip_create"),
        ip_form(
            host="192.0.2.60",
            direction="ingress",
            uac_username="trunk",
            uac_password=UI_UAC_PASSWORD,
        ),
    )
    entry = IpAuthEntry.objects.get(host="192.0.2.60")
    refused = browser.post(
        reverse("auth_config:ip_edit", args=[entry.pk]),
        ip_form(
            host="192.0.2.60",
            direction="ingress",
            uac_username="trunk",
            uac_password=UI_UAC_PASSWORD,
            port="99999",
        ),
    )
    assert refused.status_code in (200, 400)
    for url in (
        reverse("auth_config:index"),
        reverse("auth_config:ip_edit", args=[entry.pk]),
        reverse("auth_config:ip_audit", args=[entry.pk]),
        reverse("auth_config:sip_audit", args=[SipUser.objects.get(username="ui-user").pk]),
        "/auth/ip/999999/",
    ):
        browser.get(url)

    # API keys page: the new key is shown on the next page, once.
    key_page = browser.post(reverse("portal:api_keys"), {"name": "integration"}, follow=True)
    token = re.search(r'id="new-key-token"[^>]*value="([^"]+)"', key_page.content.decode())[1]
    reveals["API key"] = (token, len(journal) - 1)
    browser.get(reverse("portal:api_keys"))

    # REST API with the key.
    call = api(journal, token)
    response, created = call(
        "POST",
        "/api/v1/ip-auth/",
        {
            "host": "192.0.2.61",
            "direction": "ingress",
            "uac_username": "trunk",
            "uac_password": API_UAC_PASSWORD,
        },
    )
    assert response.status_code == 201, created
    call(
        "POST",
        "/api/v1/ip-auth/",
        {
            "host": "not an address",
            "direction": "ingress",
            "uac_password": API_UAC_PASSWORD,
        },
    )
    call(
        "PATCH", f"/api/v1/ip-auth/{created['id']}/", {"uac_password": API_UAC_PASSWORD, "port": 0}
    )
    _, sip = call(
        "POST", "/api/v1/sip-users/", {"username": "api-user", "password": API_SIP_PASSWORD}
    )
    call("POST", "/api/v1/sip-users/", {"username": "bad user!", "password": API_SIP_PASSWORD})
    response, _ = call(
        "POST", f"/api/v1/sip-users/{sip['id']}/password/", {"password": API_SIP_PASSWORD_2}
    )
    assert response.status_code in (200, 204)
    call("POST", f"/api/v1/sip-users/{sip['id']}/password/", {"password": "short"})
    response, generated = call("POST", f"/api/v1/sip-users/{sip['id']}/password/", {})
    assert response.status_code == 200
    reveals["API generated SIP password"] = (generated["password"], len(journal) - 1)
    for path in (
        "/api/v1/ip-auth/",
        f"/api/v1/ip-auth/{created['id']}/",
        f"/api/v1/ip-auth/{created['id']}/audit-log/",
        "/api/v1/sip-users/",
        f"/api/v1/sip-users/{sip['id']}/",
        f"/api/v1/sip-users/{sip['id']}/audit-log/",
        "/api/v1/sip-users/999999/",
        "/api/v1/firewall/blocked-ips/",
    ):
        call("GET", path)
    RecordingClient(journal).generic(
        "POST",
        "/api/v1/ip-auth/",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    RecordingClient(journal).get("/api/v1/ip-auth/", HTTP_AUTHORIZATION=f"Bearer {token}x")

    # Firewall: a block on the customer's address, seen by the customer, lifted by staff.
    node = SwitchNode.objects.create(name="edge-1", rpc_url="http://127.0.0.1:9/RPC")
    now = timezone.now()
    IpAuthEntryFactory(customer=customer_user.customer, host="192.0.2.62")
    block = BlockedIp.objects.create(
        ip="192.0.2.62",
        node=node,
        reason="flood",
        first_seen=now,
        last_seen=now,
        customer=customer_user.customer,
    )
    browser.get(reverse("firewall:customer_blocks"))
    staff = RecordingClient(journal)
    staff.force_login(staff_user)
    verify_second_factor(staff, staff_user)
    staff.get(reverse("firewall:index"))
    staff.post(reverse("firewall:unblock"), {"ids": [block.pk], "confirm": "yes"})
    staff.get(reverse("firewall:index"))
    staff.get(reverse("admin:auth_config_ipauthentry_change", args=[entry.pk]))
    staff.get(reverse("admin:auth_config_sipuser_changelist"))
    browser.post(reverse("logout"))

    # The journey really happened: every kind of secret was stored on the way.
    assert set(SipUser.objects.values_list("username", flat=True)) == {
        "ui-user",
        "ui-generated",
        "api-user",
    }
    assert IpAuthEntry.objects.exclude(uac_password_encrypted="").count() == 2
    assert block.unblocks.exists()

    secrets = {
        "login password": TEST_PASSWORD,
        "wrong login password": "Wr0ngPassw0rdZq",
        "UI SIP password": UI_SIP_PASSWORD,
        "UI UAC password": UI_UAC_PASSWORD,
        "API SIP password": API_SIP_PASSWORD,
        "API SIP password 2": API_SIP_PASSWORD_2,
        "API UAC password": API_UAC_PASSWORD,
    }
    secrets.update({name: value for name, (value, _) in reveals.items()})
    for sip_user in SipUser.objects.all():
        for field in ("ha1", "ha1_sha256", "ha1b"):
            secrets[f"{field} of {sip_user.username}"] = getattr(sip_user, field)
    for stored in IpAuthEntry.objects.exclude(uac_password_encrypted=""):
        secrets[f"UAC ciphertext of {stored.host}"] = stored.uac_password_encrypted
    assert len(secrets) >= 17

    allowed_at = {index: name for name, (_, index) in reveals.items()}
    problems = []
    for index, record in enumerate(journal):
        leaks = find_leaks(record["text"], secrets)
        if index in allowed_at:
            leaks = [name for name in leaks if name != allowed_at[index]]
        if leaks:
            problems.append(f"{record['what']}: {leaks}")
    for name, (value, index) in reveals.items():
        assert value in journal[index]["text"], f"{name} was not shown at all"
        shown = [i for i, record in enumerate(journal) if value in record["text"]]
        assert shown == [index], f"{name} shown more than once: {shown}"

    log_text = "\n".join(
        f"{record.getMessage()} {record.args!r} {getattr(record, 'exc_text', '') or ''}"
        for record in caplog.records
    )
    if leaks := find_leaks(log_text, secrets):
        problems.append(f"logs: {leaks}")
    audit_rows = list(LogEntry.objects.values())
    assert len(audit_rows) >= 6
    if leaks := find_leaks(json.dumps(audit_rows, default=str), secrets):
        problems.append(f"audit log: {leaks}")
    assert problems == []
