"""Staff need a TOTP code after their password before any portal or admin page; customers and
API keys do not."""

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import ApiKey
from tests.factories import TEST_PASSWORD
from tests.otp import staff_device
from tests.views.helpers import page_text

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
VERIFY = reverse("otp_verify")
SETUP = reverse("otp_setup")


def password_login(user):
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def current_code(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.mark.parametrize("path", ["/firewall/", "/admin/", "/auth/", "/admin/portal/user/"])
def test_staff_with_only_a_password_reach_no_page(staff_user, path):
    staff_device(staff_user)
    client = password_login(staff_user)
    response = client.get(path)
    assert response.status_code == 302
    assert response.url == f"{VERIFY}?next={path}"


def test_staff_without_an_app_are_led_through_setup_then_reach_the_firewall(staff_user):
    client = password_login(staff_user)
    to_verify = client.get("/firewall/")
    to_setup = client.get(to_verify.url)
    assert to_setup.status_code == 302 and to_setup.url.startswith(SETUP)

    page = client.get(to_setup.url)
    assert "Set up your second factor" in page_text(page)
    secret = re.search(
        r'id="otp-secret" type="text" readonly value="([A-Z2-7]+)"', page.content.decode()
    )[1]
    device = TOTPDevice.objects.get(user=staff_user, confirmed=False)
    assert len(secret) >= 32

    wrong = client.post(
        SETUP,
        {"code": "000000" if current_code(device) != "000000" else "111111", "next": "/firewall/"},
    )
    assert wrong.status_code == 400
    assert "not right" in page_text(wrong)
    assert client.get("/firewall/").status_code == 302

    device.refresh_from_db()
    device.throttle_reset()
    confirmed = client.post(SETUP, {"code": current_code(device), "next": "/firewall/"})
    assert confirmed.status_code == 302 and confirmed.url == "/firewall/"
    assert client.get("/firewall/").status_code == 200
    assert client.get("/admin/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_staff_with_an_app_verify_with_the_current_code(staff_user):
    device = staff_device(staff_user)
    client = password_login(staff_user)
    assert client.get(VERIFY).status_code == 200
    response = client.post(VERIFY, {"code": current_code(device), "next": "/admin/"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200
    # A code works once: replaying it in another session is refused.
    replay = password_login(staff_user).post(VERIFY, {"code": current_code(device)})
    assert replay.status_code == 400


def test_wrong_codes_are_throttled(staff_user):
    device = staff_device(staff_user)
    client = password_login(staff_user)
    for _ in range(5):
        client.post(VERIFY, {"code": "12345x"})
        client.post(VERIFY, {"code": f"{(int(current_code(device)) + 1) % 10**6:06d}"})
    # After several failures even the right code waits out the delay (16 s and growing).
    refused = client.post(VERIFY, {"code": current_code(device)})
    assert refused.status_code == 400
    assert "Too many wrong codes" in page_text(refused)
    assert client.get("/firewall/").status_code == 302


def test_the_next_parameter_cannot_send_staff_elsewhere(staff_user):
    device = staff_device(staff_user)
    client = password_login(staff_user)
    response = client.post(VERIFY, {"code": current_code(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == reverse("auth_config:index")


def test_customers_need_no_second_factor(customer_user):
    client = password_login(customer_user)
    assert client.get("/auth/").status_code == 200


def test_staff_api_keys_are_unaffected(staff_user):
    _, token = ApiKey.objects.issue(user=staff_user, name="ops")
    response = Client().get("/api/v1/firewall/switches/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


def test_staff_can_log_out_without_the_second_factor(staff_user):
    client = password_login(staff_user)
    client.post(reverse("logout"))
    assert client.get("/firewall/").url.startswith(LOGIN)


def test_after_the_code_staff_land_on_the_page_they_asked_for_with_its_query(staff_user):
    device = staff_device(staff_user)
    client = password_login(staff_user)
    wanted = "/auth/?ip-q=192.0&direction=egress"
    to_verify = client.get(wanted)
    assert to_verify.url.startswith(VERIFY)
    form = client.get(to_verify.url).content.decode()
    next_value = re.search(r'name="next" value="([^"]*)"', form)[1]
    response = client.post(VERIFY, {"code": current_code(device), "next": unescape(next_value)})
    assert response.status_code == 302 and response.url == wanted
