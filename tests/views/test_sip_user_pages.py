"""A customer managing SIP users in the Auth tab."""

import re

import pytest
from django.urls import reverse

from auth_config.models import SipUser, ha1
from tests.factories import SipUserFactory

from .helpers import field_errors, sip_form

pytestmark = pytest.mark.django_db

CREATE = reverse("auth_config:sip_create")


def edit_url(sip_user):
    return reverse("auth_config:sip_edit", args=[sip_user.pk])


def password_accepted(sip_user, password):
    """What the switch checks: the stored digest matches username, realm and password."""
    sip_user.refresh_from_db()
    return sip_user.ha1 == ha1(sip_user.username, sip_user.realm, password)


def shown_password(response):
    match = re.search(
        r'id="generated-password" type="text" readonly value="([^"]+)"', response.content.decode()
    )
    return match[1] if match else None


def test_create_with_a_typed_password(customer_client, customer):
    response = customer_client.post(
        CREATE, sip_form(username="office-1", password="Tq8vLm3xRz5wKp2n"), follow=True
    )
    sip_user = SipUser.objects.get(customer=customer)
    assert sip_user.username == "office-1"
    assert password_accepted(sip_user, "Tq8vLm3xRz5wKp2n")
    assert "Added SIP user office-1" in response.content.decode()
    assert "Tq8vLm3xRz5wKp2n" not in response.content.decode()


def test_generated_password_is_shown_once_and_not_on_reload(customer_client, customer):
    response = customer_client.post(CREATE, sip_form(username="office-2", generate_password="on"))
    sip_user = SipUser.objects.get(customer=customer)
    assert response.status_code == 302
    assert response.url == reverse("auth_config:sip_password", args=[sip_user.pk])

    first = customer_client.get(response.url)
    password = shown_password(first)
    assert password and password_accepted(sip_user, password)
    assert "no-store" in first["Cache-Control"]

    again = customer_client.get(response.url)
    assert shown_password(again) is None
    assert password not in again.content.decode()
    assert "shown once and is no longer available" in again.content.decode()


def test_password_or_generate_is_required(customer_client):
    response = customer_client.post(CREATE, sip_form(username="office-3"))
    assert "Enter a password" in " ".join(field_errors(response, "password"))
    assert not SipUser.objects.exists()


def test_weak_password_is_refused_next_to_the_password(customer_client):
    response = customer_client.post(CREATE, sip_form(username="office-4", password="short"))
    assert field_errors(response, "password")
    assert not SipUser.objects.exists()
    assert 'value="short"' not in response.content.decode()


def test_protocols_are_explained_and_smpp_is_not_offered(customer_client):
    html = customer_client.get(CREATE).content.decode()
    assert "SIP and RTP are sent unencrypted over UDP." in html
    assert "RTP is encrypted with SRTP" in html
    assert re.search(r'<input type="radio" name="protocol" value="smpp"[^>]*disabled', html)


def test_whitelist_is_saved_normalised_and_any_ip_is_warned_about(customer_client, customer):
    customer_client.post(
        CREATE,
        sip_form(
            username="office-5",
            password="Tq8vLm3xRz5wKp2n",
            whitelist="198.51.100.7\n203.0.113.0/24\n198.51.100.7/32\n",
        ),
    )
    sip_user = SipUser.objects.get(customer=customer)
    assert sip_user.whitelist == ["198.51.100.7", "203.0.113.0/24"]
    page = customer_client.get(edit_url(sip_user)).content.decode()
    assert re.search(r'<p class="warning"[^>]*hidden>Any IP address may use this account', page)

    customer_client.post(edit_url(sip_user), sip_form(whitelist=""))
    sip_user.refresh_from_db()
    assert sip_user.whitelist == []
    page = customer_client.get(edit_url(sip_user)).content.decode()
    assert re.search(r'<p class="warning"[^>]*>Any IP address may use this account', page)
    assert not re.search(r'<p class="warning"[^>]*hidden>', page)
    index = customer_client.get(reverse("auth_config:index")).content.decode()
    assert "Any IP address" in index


def test_bad_whitelist_entry_is_named_next_to_the_whitelist(customer_client, sip_user):
    response = customer_client.post(
        edit_url(sip_user), sip_form(whitelist="198.51.100.7\nnot-an-ip")
    )
    assert "not-an-ip" in " ".join(field_errors(response, "whitelist"))


def test_username_cannot_change_after_creation(customer_client, sip_user):
    page = customer_client.get(edit_url(sip_user)).content.decode()
    assert 'name="username"' not in page
    assert sip_user.username in page
    customer_client.post(edit_url(sip_user), sip_form(username="renamed"))
    sip_user.refresh_from_db()
    assert sip_user.username != "renamed"


def test_password_reset_by_saving_a_new_one(customer_client, sip_user):
    response = customer_client.post(edit_url(sip_user), sip_form(password="Nw5tRq8zLx3vKm7p"))
    assert response.status_code == 302
    assert password_accepted(sip_user, "Nw5tRq8zLx3vKm7p")


def test_blank_password_keeps_the_current_one(customer_client, sip_user):
    before = sip_user.ha1
    customer_client.post(edit_url(sip_user), sip_form(dial_pattern="national"))
    sip_user.refresh_from_db()
    assert (sip_user.ha1, sip_user.dial_pattern) == (before, "national")


def test_password_reset_by_generating_shows_it_once(customer_client, sip_user):
    response = customer_client.post(edit_url(sip_user), sip_form(generate_password="on"))
    password = shown_password(customer_client.get(response.url))
    assert password_accepted(sip_user, password)
    assert shown_password(customer_client.get(response.url)) is None


def test_a_refused_password_saves_nothing_else_either(customer_client, sip_user):
    response = customer_client.post(
        edit_url(sip_user), sip_form(dial_pattern="national", password="12345678901234")
    )
    assert field_errors(response, "password")
    sip_user.refresh_from_db()
    assert sip_user.dial_pattern == "e164"


def test_generated_password_of_one_user_is_not_shown_on_anothers_page(customer_client, customer):
    customer_client.post(CREATE, sip_form(username="office-6", generate_password="on"))
    other = SipUserFactory(customer=customer)
    page = customer_client.get(reverse("auth_config:sip_password", args=[other.pk]))
    assert shown_password(page) is None


def test_bulk_delete_with_confirmation(customer_client, customer):
    doomed = SipUserFactory(customer=customer, username="old-line")
    kept = SipUserFactory(customer=customer, username="new-line")
    url = reverse("auth_config:sip_delete")
    confirm = customer_client.post(url, {"ids": [doomed.pk]}).content.decode()
    assert "old-line" in confirm and "new-line" not in confirm
    assert SipUser.objects.count() == 2
    customer_client.post(url, {"ids": [doomed.pk], "confirm": "yes"})
    assert list(SipUser.objects.all()) == [kept]
