import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import MAX_ACTIVE_API_KEYS, ApiKey, hash_api_key
from tests.api.conftest import ApiClient, error_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/ip-auth/"
PAGE = "/api-keys/"


def test_a_key_is_stored_only_as_its_hash(customer_user):
    api_key, token = ApiKey.objects.issue(user=customer_user, name="crm")
    assert token.startswith(api_key.prefix + "_")
    assert len(token) > 50
    stored = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert token not in str(stored)
    assert stored["key_hash"] == hash_api_key(token)


def test_keys_are_unique(customer_user):
    tokens = {ApiKey.objects.issue(user=customer_user, name=f"k{n}")[1] for n in range(10)}
    assert len(tokens) == 10


def test_last_use_is_recorded_at_most_once_a_minute(customer_user, ip_entry):
    api_key, token = ApiKey.objects.issue(user=customer_user, name="crm")
    api = ApiClient(token)
    assert api_key.last_used_at is None
    api.get(LIST)
    api_key.refresh_from_db()
    first_use = api_key.last_used_at
    assert first_use is not None

    with CaptureQueriesContext(connection) as queries:
        api.get(LIST)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    api_key.refresh_from_db()
    assert api_key.last_used_at == first_use

    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first_use - timedelta(minutes=2))
    api.get(LIST)
    api_key.refresh_from_db()
    assert api_key.last_used_at > first_use - timedelta(minutes=2)


def test_a_key_acts_with_its_users_rights(customer_user, other_customer_user, ip_entry):
    theirs = ApiClient(ApiKey.objects.issue(user=other_customer_user, name="x")[1])
    assert theirs.get(LIST).json()["count"] == 0


def test_keys_of_disabled_users_and_customers_stop_working(customer_user, ip_entry):
    api = ApiClient(ApiKey.objects.issue(user=customer_user, name="crm")[1])
    assert api.get(LIST).status_code == 200
    customer_user.customer.active = False
    customer_user.customer.save()
    assert api.get(LIST).status_code == 401
    customer_user.customer.active = True
    customer_user.customer.save()
    customer_user.is_active = False
    customer_user.save()
    response = api.get(LIST)
    assert response.status_code == 401
    assert "disabled" in error_of(response)["message"]


def test_revoked_key_says_so(customer_user):
    api_key, token = ApiKey.objects.issue(user=customer_user, name="crm")
    api_key.revoke()
    response = ApiClient(token).get(LIST)
    assert response.status_code == 401
    assert "revoked" in error_of(response)["message"]


def test_number_of_active_keys_is_limited(customer_user):
    for n in range(MAX_ACTIVE_API_KEYS):
        ApiKey.objects.issue(user=customer_user, name=f"k{n}")
    with pytest.raises(Exception, match="revoke one"):
        ApiKey.objects.issue(user=customer_user, name="one too many")


# --- the API keys page -------------------------------------------------------------------


def test_the_page_needs_a_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_create_shows_the_key_once_and_it_works(client, customer_user, ip_entry):
    client.force_login(customer_user)
    created = client.post(PAGE, {"name": "provisioning", "read_only": ""})
    assert created.status_code == 302  # so that a reload cannot create a second key
    assert "sap_" not in created.content.decode()
    response = client.get(created["Location"])
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    token = re.search(r'value="(sap_[A-Za-z0-9_-]+)"', page).group(1)
    assert "will not be shown again" in page

    assert ApiClient(token).get(LIST).json()["count"] == 1
    later = client.get(PAGE)
    assert token not in later.content.decode()
    assert "provisioning" in later.content.decode()
    assert ApiKey.objects.get(user=customer_user).prefix in later.content.decode()


def test_a_read_only_key_from_the_page(client, customer_user):
    client.force_login(customer_user)
    page = client.post(PAGE, {"name": "reports", "read_only": "on"}, follow=True).content.decode()
    token = re.search(r'value="(sap_[A-Za-z0-9_-]+)"', page).group(1)
    response = ApiClient(token).post(LIST, {"host": "192.0.2.1"})
    assert response.status_code == 403


def test_a_key_needs_a_name(client, customer_user):
    client.force_login(customer_user)
    response = client.post(PAGE, {"name": ""})
    assert response.status_code == 400
    assert not ApiKey.objects.exists()


def test_revoke_from_the_page(client, customer_user):
    api_key, token = ApiKey.objects.issue(user=customer_user, name="old")
    client.force_login(customer_user)
    response = client.post(f"{PAGE}{api_key.pk}/revoke/", follow=True)
    assert response.status_code == 200
    assert "revoked" in response.content.decode()
    assert ApiClient(token).get(LIST).status_code == 401


def test_only_the_owner_sees_and_revokes_a_key(client, customer_user):
    api_key, token = ApiKey.objects.issue(user=customer_user, name="secret-project")
    client.force_login(UserFactory(customer=customer_user.customer))
    assert "secret-project" not in client.get(PAGE).content.decode()
    assert client.post(f"{PAGE}{api_key.pk}/revoke/").status_code == 404
    assert ApiClient(token).get(LIST).status_code == 200


def test_revoke_asks_first_and_only_a_post_revokes(client, customer_user):
    api_key, _ = ApiKey.objects.issue(user=customer_user, name="crm")
    client.force_login(customer_user)
    page = client.get(f"{PAGE}{api_key.pk}/revoke/")
    assert page.status_code == 200
    assert "Revoke the key “crm”?" in page.content.decode()
    assert "cannot be undone" in page.content.decode()
    api_key.refresh_from_db()
    assert api_key.is_active
    client.post(f"{PAGE}{api_key.pk}/revoke/")
    api_key.refresh_from_db()
    assert not api_key.is_active
    assert client.get(f"{PAGE}{api_key.pk}/revoke/").status_code == 404


# --- manage.py create_api_key --------------------------------------------------------------


def test_command_prints_a_working_key(customer_user, ip_entry):
    out = StringIO()
    call_command("create_api_key", customer_user.username, stdout=out, stderr=StringIO())
    token = out.getvalue().strip()
    api = ApiClient(token)
    assert api.get(LIST).json()["count"] == 1
    assert api.post(LIST, {"host": "192.0.2.99"}).status_code == 201


def test_command_read_only(customer_user):
    out = StringIO()
    call_command(
        "create_api_key", customer_user.username, "--read-only", stdout=out, stderr=StringIO()
    )
    assert ApiClient(out.getvalue().strip()).post(LIST, {"host": "192.0.2.1"}).status_code == 403
    assert ApiKey.objects.get().read_only


def test_command_refuses_unknown_users(db):
    with pytest.raises(CommandError, match="no user named"):
        call_command("create_api_key", "nobody", stdout=StringIO())


def test_the_main_navigation_links_to_the_page(client, customer_user):
    client.force_login(customer_user)
    page = client.get(PAGE).content.decode()
    assert '<a href="/api-keys/" aria-current="page">API keys</a>' in page


def test_the_new_key_waits_encrypted_in_the_session(client, customer_user):
    client.force_login(customer_user)
    client.post(PAGE, {"name": "crm"})
    stored = str(client.session.get("new_api_key"))
    page = client.get(PAGE).content.decode()
    token = re.search(r'value="(sap_[A-Za-z0-9_-]+)"', page).group(1)
    assert token not in stored
    assert "new_api_key" not in client.session
