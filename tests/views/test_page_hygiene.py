"""Every Auth-tab page loads only the portal's own files and has no inline script, so a strict
Content-Security-Policy can be switched on without breaking it."""

import re

import pytest
from django.urls import reverse

from .helpers import ip_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def rendered_pages(customer_client, ip_entry, sip_user):
    responses = [
        customer_client.get(reverse("auth_config:index")),
        customer_client.get(reverse("auth_config:ip_create")),
        customer_client.post(reverse("auth_config:ip_create"), ip_form(host="192.0.2.1/24")),
        customer_client.get(reverse("auth_config:ip_edit", args=[ip_entry.pk])),
        customer_client.get(reverse("auth_config:ip_audit", args=[ip_entry.pk])),
        customer_client.get(reverse("auth_config:sip_create")),
        customer_client.get(reverse("auth_config:sip_edit", args=[sip_user.pk])),
        customer_client.get(reverse("auth_config:sip_audit", args=[sip_user.pk])),
        customer_client.get(reverse("auth_config:sip_password", args=[sip_user.pk])),
        customer_client.post(reverse("auth_config:ip_delete"), {"ids": [ip_entry.pk]}),
    ]
    return [response.content.decode() for response in responses]


def test_no_inline_script_or_event_handler(rendered_pages):
    for html in rendered_pages:
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, tag
        assert re.findall(r"<script\b[^>]*>(?!</script>)", html) == []
        assert re.findall(r"\son[a-z]+\s*=", html) == []
        assert "style=" not in html


def test_scripts_and_styles_come_from_the_portal_itself(rendered_pages):
    for html in rendered_pages:
        for url in re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="([^"]+)"', html):
            assert url.startswith("/static/"), url
