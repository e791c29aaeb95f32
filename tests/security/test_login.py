"""Logging in: failed attempts are limited per username and per client address, with a finite
cool-off and a clear message; the address cannot be chosen with a header; password change and
reset work; idle sessions expire; logging out ends the session on the server."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD, UserFactory
from tests.views.helpers import page_text

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
LIMIT = settings.AXES_FAILURE_LIMIT


def attempt(username, password, address="198.51.100.7", **headers):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(LOGIN, {"username": username, "password": password}, **headers)


def fail_until_locked(username, address="198.51.100.7", **headers):
    for _ in range(LIMIT - 1):
        _, response = attempt(username, "not-the-password", address, **headers)
        assert response.status_code == 200
        assert "correct username and password" in page_text(response)
    # The attempt that reaches the limit is already answered with the lockout.
    assert_locked_out(attempt(username, "not-the-password", address, **headers)[1])


def assert_locked_out(response):
    assert response.status_code == 429
    text = page_text(response)
    assert "Too many failed log-ins" in text
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"blocked for {minutes} minutes" in text
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_the_right_password_is_refused_after_too_many_failures_for_the_username(
    customer_user,
):
    fail_until_locked(customer_user.username)
    # From another address too: the username itself is locked.
    _, response = attempt(customer_user.username, TEST_PASSWORD, address="203.0.113.50")
    assert_locked_out(response)


def test_one_address_guessing_many_usernames_is_locked_out(customer_user):
    for number in range(LIMIT):
        attempt(f"nobody{number}", "guess-password", address="192.0.2.66")
    _, response = attempt(customer_user.username, TEST_PASSWORD, address="192.0.2.66")
    assert_locked_out(response)
    # Another address and the user's own password still get in.
    _, response = attempt(customer_user.username, TEST_PASSWORD, address="192.0.2.67")
    assert response.status_code == 302


def test_the_lockout_ends_after_the_cool_off(customer_user):
    fail_until_locked(customer_user.username)
    assert_locked_out(attempt(customer_user.username, TEST_PASSWORD)[1])
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    client, response = attempt(customer_user.username, TEST_PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("auth_config:index")).status_code == 200


def test_the_admin_login_is_limited_too(staff_user):
    for _ in range(LIMIT):
        Client().post(
            reverse("admin:login"), {"username": staff_user.username, "password": "wrong-one!"}
        )
    response = Client().post(
        reverse("admin:login"), {"username": staff_user.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 429


def test_a_forged_forwarded_for_header_does_not_escape_the_address_lockout(db):
    for number in range(LIMIT):
        attempt(
            f"nobody{number}",
            "guess-password",
            address="192.0.2.80",
            HTTP_X_FORWARDED_FOR=f"10.9.8.{number}",
        )
    victim = UserFactory()
    _, response = attempt(
        victim.username, TEST_PASSWORD, address="192.0.2.80", HTTP_X_FORWARDED_FOR="10.1.1.1"
    )
    assert_locked_out(response)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.80"}


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_our_proxy_each_client_address_is_counted_on_its_own(db):
    proxy = "172.18.0.2"
    for number in range(LIMIT):
        attempt(
            f"nobody{number}",
            "guess-password",
            address=proxy,
            HTTP_X_FORWARDED_FOR="forged-by-client, 203.0.113.9",
        )
    victim = UserFactory()
    _, locked = attempt(
        victim.username, TEST_PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert_locked_out(locked)
    _, other_client = attempt(
        victim.username, TEST_PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.200"
    )
    assert other_client.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}


def test_failed_attempts_record_no_password(customer_user):
    fail_until_locked(customer_user.username)
    for row in AccessAttempt.objects.all():
        assert "not-the-password" not in f"{row.post_data} {row.get_data}"


def test_password_change_needs_the_old_password_and_keeps_the_session(customer_user):
    client = Client()
    client.post(LOGIN, {"username": customer_user.username, "password": TEST_PASSWORD})
    url = reverse("password_change")
    new = "a-brand-new-portal-pw-2026"
    wrong = client.post(url, {"old_password": "wrong", "new_password1": new, "new_password2": new})
    assert wrong.status_code == 200
    assert "old password was entered incorrectly" in page_text(wrong)

    done = client.post(
        url,
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert "Password changed" in page_text(done)
    assert client.get(reverse("auth_config:index")).status_code == 200
    customer_user.refresh_from_db()
    assert customer_user.check_password(new)


def test_password_change_refuses_a_weak_password(customer_user):
    client = Client()
    client.force_login(customer_user)
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "password", "new_password2": "password"},
    )
    assert response.status_code == 200
    assert "too common" in page_text(response)
    customer_user.refresh_from_db()
    assert customer_user.check_password(TEST_PASSWORD)


def test_password_reset_by_email_link_works_once(customer_user):
    client = Client()
    login_page = client.get(LOGIN).content.decode()
    assert reverse("password_reset") in login_page
    response = client.post(reverse("password_reset"), {"email": customer_user.email}, follow=True)
    assert "Check your email" in page_text(response)
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", mail.outbox[0].body)[1]

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in page_text(form_page)
    new = "reset-portal-password-2026"
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True
    )
    assert "Password set" in page_text(done)
    customer_user.refresh_from_db()
    assert customer_user.check_password(new)
    assert "no longer works" in page_text(Client().get(link, follow=True))


def test_password_reset_does_not_say_whether_an_address_has_an_account(db):
    response = Client().post(
        reverse("password_reset"), {"email": "nobody@example.com"}, follow=True
    )
    assert "If an account has this address" in page_text(response)
    assert mail.outbox == []


def test_an_idle_session_expires(customer_user):
    client = Client()
    client.post(LOGIN, {"username": customer_user.username, "password": TEST_PASSWORD})
    assert client.get(reverse("auth_config:index")).status_code == 200
    session = Session.objects.get()
    # Every request pushes the expiry forward by the idle limit...
    remaining = session.expire_date - timezone.now()
    assert timedelta(seconds=settings.SESSION_COOKIE_AGE - 60) < remaining
    assert remaining <= timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600
    # ...so one idle for longer is gone.
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("auth_config:index"))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_logout_ends_the_session_on_the_server(customer_user):
    client = Client()
    client.post(LOGIN, {"username": customer_user.username, "password": TEST_PASSWORD})
    stolen_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=stolen_cookie).exists()
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=stolen_cookie).exists()

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen_cookie
    response = replay.get(reverse("auth_config:index"))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
