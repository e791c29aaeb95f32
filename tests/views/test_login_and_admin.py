"""Logging in and out, and the admin pages operators use to manage customers and users."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import Customer, User
from tests.factories import TEST_PASSWORD, CustomerFactory, IpAuthEntryFactory

from .helpers import login, page_text

pytestmark = pytest.mark.django_db


def test_login_brings_the_user_back_to_the_page_asked_for(client, customer_user, ip_entry):
    wanted = reverse("auth_config:ip_edit", args=[ip_entry.pk])
    to_login = client.get(wanted)
    assert to_login.status_code == 302
    login_page = client.get(to_login.url)
    assert login_page.status_code == 200
    assert 'for="id_username"' in login_page.content.decode()
    response = client.post(
        to_login.url,
        {"username": customer_user.username, "password": TEST_PASSWORD, "next": wanted},
    )
    assert response.status_code == 302 and response.url == wanted


def test_wrong_password_says_so_without_a_500(client, customer_user):
    response = client.post(
        reverse("login"), {"username": customer_user.username, "password": "wrong-password"}
    )
    assert response.status_code == 200
    assert "correct username and password" in page_text(response)


def test_logout_is_a_post(customer_client):
    page = customer_client.get(reverse("auth_config:index")).content.decode()
    assert f'<form method="post" action="{reverse("logout")}"' in page
    customer_client.post(reverse("logout"))
    assert customer_client.get(reverse("auth_config:index")).status_code == 302


def test_unknown_page_is_a_friendly_404(customer_client):
    response = customer_client.get("/auth/ip/999999/")
    assert response.status_code == 404


@pytest.fixture
def operator(staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    return login(staff_user)


def test_operator_creates_a_customer_and_links_a_user_to_it(operator):
    response = operator.post(
        reverse("admin:portal_customer_add"),
        {"name": "New Carrier", "sip_realm": "sip.new.example", "active": "on"},
    )
    assert response.status_code == 302
    user = User.objects.create_user("newbie", password="a-long-login-password")
    customer = Customer.objects.get(name="New Carrier")
    page = operator.get(reverse("admin:portal_user_change", args=[user.pk])).content.decode()
    assert 'name="customer"' in page
    users = page_text(operator.get(reverse("admin:portal_user_changelist")))
    assert "newbie" in users
    assert customer.sip_realm == "sip.new.example"


def test_operator_adds_a_user_for_a_customer(operator):
    customer = CustomerFactory()
    response = operator.post(
        reverse("admin:portal_user_add"),
        {
            "username": "added-by-admin",
            "email": "added@example.com",
            "customer": customer.pk,
            "password1": "a-long-login-password-7",
            "password2": "a-long-login-password-7",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, page_text(response)[:2000]
    assert User.objects.get(username="added-by-admin").customer == customer


def test_realm_cannot_change_once_sip_users_may_depend_on_it(operator):
    customer = CustomerFactory()
    page = operator.get(reverse("admin:portal_customer_change", args=[customer.pk]))
    assert 'name="sip_realm"' not in page.content.decode()


def test_admin_lists_entries_without_secret_columns(operator, ip_entry, sip_user):
    ip_page = operator.get(reverse("admin:auth_config_ipauthentry_changelist")).content.decode()
    sip_page = operator.get(reverse("admin:auth_config_sipuser_changelist")).content.decode()
    assert ip_entry.host in ip_page and sip_user.username in sip_page
    assert sip_user.ha1 not in sip_page and sip_user.ha1b not in sip_page
    detail = operator.get(reverse("admin:auth_config_sipuser_change", args=[sip_user.pk]))
    assert sip_user.ha1 not in detail.content.decode()


def test_admin_disables_entries_through_the_services(operator, ip_entry):
    response = operator.post(
        reverse("admin:auth_config_ipauthentry_changelist"),
        {"action": "disable", "_selected_action": [ip_entry.pk]},
    )
    assert response.status_code == 302
    ip_entry.refresh_from_db()
    assert ip_entry.enabled is False


def test_disabling_a_customer_reloads_the_switches_and_enabling_it_lifts_its_blocks(
    operator, customer, django_capture_on_commit_callbacks
):
    from firewall.models import BlockedIp, SwitchNode

    node = SwitchNode.objects.create(name="sw1", rpc_url="http://127.0.0.1:1/RPC")
    IpAuthEntryFactory(customer=customer, host="198.51.100.7")
    change = reverse("admin:portal_customer_change", args=[customer.pk])

    SwitchNode.objects.update(address_reload_pending=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(change, {"name": customer.name})  # "active" unticked
    assert response.status_code == 302
    assert SwitchNode.objects.get().address_reload_pending is True

    # While disabled, the switch refused the address and banned it.
    now = timezone.now()
    block = BlockedIp.objects.create(
        node=node, ip="198.51.100.7", reason="unauthorised", first_seen=now, last_seen=now
    )
    with django_capture_on_commit_callbacks(execute=True):
        operator.post(change, {"name": customer.name, "active": "on"})
    assert block.unblocks.get().requested_by is None


def test_operator_finds_a_customers_api_key_and_revokes_it_after_confirming(
    operator, customer_user
):
    from portal.models import ApiKey

    api_key, token = ApiKey.objects.issue(user=customer_user, name="billing sync")
    changelist = reverse("admin:portal_apikey_changelist")
    listing = operator.get(changelist, {"q": customer_user.customer.name}).content.decode()
    assert "billing sync" in listing and api_key.prefix in listing
    assert api_key.key_hash not in listing and token not in listing
    detail = operator.get(reverse("admin:portal_apikey_change", args=[api_key.pk]))
    assert api_key.key_hash not in detail.content.decode()

    chosen = {"action": "revoke", "_selected_action": [api_key.pk]}
    asked = operator.post(changelist, chosen)
    assert asked.status_code == 200 and "cannot be undone" in page_text(asked)
    api_key.refresh_from_db()
    assert api_key.is_active  # nothing happens before the confirmation

    done = operator.post(changelist, {**chosen, "confirm": "yes"}, follow=True)
    assert "1 API key(s) revoked" in page_text(done)
    api_key.refresh_from_db()
    assert not api_key.is_active
    refused = Client().get("/api/v1/ip-auth/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert refused.status_code == 401
