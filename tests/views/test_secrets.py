"""No part of a SIP or UAC password shows up in a page, a log line or the audit log."""

import logging
import re
from html import unescape

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from auth_config.models import IpAuthEntry, SipUser

from .helpers import ip_form, login, sip_form

pytestmark = pytest.mark.django_db

# Every 4-character window mixes upper and lower case, so none can occur by chance in a hex
# digest, a number or a date.
SIP_PASSWORD = "Qz7xK9vT2mW4rY6pLb3J"
NEW_SIP_PASSWORD = "Hn5cV8wD3fG6jB9kZs2X"
UAC_PASSWORD = "Rt4yU7iO1pA3sD5fGh8K"
SECRETS = [SIP_PASSWORD, NEW_SIP_PASSWORD, UAC_PASSWORD]
# Random tokens that may hold any 4 characters by chance: the form field and the htmx header.
CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"|"X-CSRFToken": "[^"]*"')


def leaked_parts(text):
    text = CSRF_VALUE.sub("", text)
    texts = (text, unescape(text))
    return [
        secret[i : i + 4]
        for secret in SECRETS
        for i in range(len(secret) - 3)
        if any(secret[i : i + 4] in t for t in texts)
    ]


@pytest.fixture
def entries_with_secrets(customer_client, caplog):
    caplog.set_level(logging.DEBUG)
    assert len(SIP_PASSWORD) == len(UAC_PASSWORD) == 20
    customer_client.post(
        reverse("auth_config:sip_create"), sip_form(username="secretive", password=SIP_PASSWORD)
    )
    sip_user = SipUser.objects.get()
    customer_client.post(
        reverse("auth_config:sip_edit", args=[sip_user.pk]), sip_form(password=NEW_SIP_PASSWORD)
    )
    customer_client.post(
        reverse("auth_config:ip_create"),
        ip_form(
            host="192.0.2.60",
            direction="ingress",
            uac_username="trunk",
            uac_password=UAC_PASSWORD,
        ),
    )
    entry = IpAuthEntry.objects.get()
    # A refused save re-renders the form: the password typed must not come back either.
    refused = customer_client.post(
        reverse("auth_config:ip_edit", args=[entry.pk]),
        ip_form(host="192.0.2.60/99", direction="ingress", uac_password=UAC_PASSWORD),
    )
    assert refused.status_code == 400
    assert leaked_parts(refused.content.decode()) == []
    assert entry.get_uac_password() == UAC_PASSWORD
    return sip_user, entry


def pages(sip_user, entry):
    return [
        ("get", reverse("auth_config:index"), None),
        ("get", reverse("auth_config:ip_edit", args=[entry.pk]), None),
        ("get", reverse("auth_config:ip_audit", args=[entry.pk]), None),
        ("get", reverse("auth_config:sip_edit", args=[sip_user.pk]), None),
        ("get", reverse("auth_config:sip_audit", args=[sip_user.pk]), None),
        ("get", reverse("auth_config:sip_password", args=[sip_user.pk]), None),
        ("post", reverse("auth_config:ip_delete"), {"ids": [entry.pk]}),
        ("post", reverse("auth_config:sip_delete"), {"ids": [sip_user.pk]}),
    ]


def test_no_page_shows_any_part_of_a_password(entries_with_secrets, customer_user, staff_user):
    sip_user, entry = entries_with_secrets
    admin_pages = [
        ("get", reverse("admin:auth_config_ipauthentry_changelist"), None),
        ("get", reverse("admin:auth_config_ipauthentry_change", args=[entry.pk]), None),
        ("get", reverse("admin:auth_config_sipuser_changelist"), None),
        ("get", reverse("admin:auth_config_sipuser_change", args=[sip_user.pk]), None),
    ]
    staff_user.is_superuser = True
    staff_user.save()
    for user, extra in [(customer_user, []), (staff_user, admin_pages)]:
        client = login(user)
        for method, url, data in pages(sip_user, entry) + extra:
            response = getattr(client, method)(url, data) if data else client.get(url)
            assert response.status_code == 200, url
            assert leaked_parts(response.content.decode()) == [], url


def test_audit_table_holds_no_part_of_a_password(entries_with_secrets):
    rows = list(LogEntry.objects.values())
    assert len(rows) >= 3
    assert leaked_parts(repr(rows)) == []


def test_no_log_line_holds_any_part_of_a_password(entries_with_secrets, caplog):
    records = caplog.get_records("setup")
    assert records, "the requests above should have logged something (the refused save)"
    assert leaked_parts("\n".join(r.getMessage() for r in records)) == []
