"""List endpoints run the same number of queries whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from auth_config import services
from tests.factories import IpAuthEntryFactory, SipUserFactory

pytestmark = pytest.mark.django_db


def queries_for(api, path, page_size):
    api.get(path)  # the key's first use is recorded once a minute: not part of the count
    with CaptureQueriesContext(connection) as context:
        response = api.get(path, {"page_size": page_size})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == page_size
    return len(context.captured_queries)


@pytest.mark.parametrize("user_fixture", ["customer_user", "staff_user"])
def test_lists_are_constant_in_page_size(request, api_as, customer, user_fixture):
    api = api_as(request.getfixturevalue(user_fixture))
    for n in range(40):
        IpAuthEntryFactory(customer=customer, host=f"198.19.0.{n + 1}")
        SipUserFactory(customer=customer, username=f"counted{n}")
    for path in ("/api/v1/ip-auth/", "/api/v1/sip-users/"):
        assert queries_for(api, path, 2) == queries_for(api, path, 40), path


def test_audit_log_is_constant_in_page_size(api_as, customer_user, staff_user):
    # Changes by two different actors, so a per-entry actor lookup would show.
    (entry,) = services.create_ip_auth_entries(user=customer_user, hosts=["192.0.2.70"], fields={})
    for n in range(1, 30):
        user = staff_user if n % 2 else customer_user
        services.update_ip_auth_entry(user=user, entry=entry, fields={"channels": n})
    api = api_as(customer_user)
    path = f"/api/v1/ip-auth/{entry.pk}/audit-log/"
    assert queries_for(api, path, 2) == queries_for(api, path, 30)


def test_a_list_page_takes_few_queries(api_as, customer_user, django_assert_max_num_queries):
    for n in range(50):
        IpAuthEntryFactory(customer=customer_user.customer, host=f"198.19.1.{n + 1}")
    api = api_as(customer_user)
    api.get("/api/v1/ip-auth/")  # the key's first use is recorded once a minute
    # key lookup, count, page (+ savepoint/session bookkeeping of the test client)
    with django_assert_max_num_queries(4):
        assert api.get("/api/v1/ip-auth/").json()["count"] == 50


def test_a_page_with_hostnames_adds_one_query_whatever_their_number(
    api_as, customer_user, django_assert_num_queries, name_server
):
    from auth_config.services import create_ip_auth_entries, refresh_host_addresses

    api = api_as(customer_user)
    api.get("/api/v1/ip-auth/")  # the key's once-a-minute "last used" write is not the list's
    create_ip_auth_entries(user=customer_user, hosts=["192.0.2.1"], fields={})
    with django_assert_num_queries(3):  # key, count, page: no hostname on it
        api.get("/api/v1/ip-auth/")
    for number in range(3):
        name_server.records[f"pbx{number}.customer.example"] = [f"198.51.100.{number + 1}"]
        create_ip_auth_entries(
            user=customer_user, hosts=[f"pbx{number}.customer.example"], fields={}
        )
    refresh_host_addresses()
    with django_assert_num_queries(4):
        results = api.get("/api/v1/ip-auth/").json()["results"]
    assert sorted(address for item in results for address in item["resolved_addresses"]) == [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
    ]
