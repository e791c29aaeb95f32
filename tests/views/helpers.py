"""Helpers shared by the Auth-tab view tests."""

import re
from html import unescape

from django.test import Client

from tests.otp import verify_second_factor

# Every form the views accept needs these; tests override what they are about.
IP_FORM_DEFAULTS = {
    "channels": "0",
    "flow_speed": "0",
    "enabled": "on",
    "protocol": "udp",
    "port": "",
    "dial_pattern": "e164",
    "direction": "egress",
}
SIP_FORM_DEFAULTS = {
    "protocol": "udp",
    "dial_pattern": "e164",
    "enabled": "on",
    "whitelist": "",
}


# Inputs only staff see (customers get them read-only), so only staff browsers send them.
IP_STAFF_DEFAULTS = {"strip_digits": "0", "bandwidth": "0"}
SIP_STAFF_DEFAULTS = {"channels": "0", "flow_speed": "0", "bandwidth": "0"}


def is_staff(user):
    return user is not None and user.is_staff


def ip_form(user=None, **fields):
    staff = IP_STAFF_DEFAULTS if is_staff(user) else {}
    return {**IP_FORM_DEFAULTS, **staff, **fields}


def sip_form(user=None, **fields):
    staff = SIP_STAFF_DEFAULTS if is_staff(user) else {}
    return {**SIP_FORM_DEFAULTS, **staff, **fields}


def field_errors(response, name):
    """The error messages rendered next to one field of a form page, as a user reads them."""
    html = response.content.decode()
    match = re.search(rf'<ul class="errors" id="id_{name}_error">(.*?)</ul>', html, re.S)
    if not match:
        return []
    return [
        re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", match[1])
    ]


def login(user):
    client = Client()
    client.force_login(user)
    return verify_second_factor(client, user)


def page_text(html):
    """A page's text as a person reads it: no tags, single spaces."""
    if not isinstance(html, str):
        html = html.content.decode()
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).strip()
