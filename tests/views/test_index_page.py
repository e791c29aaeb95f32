"""The Auth tab's lists: search, paging, empty states, staff view, constant query count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CustomerFactory, IpAuthEntryFactory, SipUserFactory

from .helpers import login, page_text

pytestmark = pytest.mark.django_db

INDEX = reverse("auth_config:index")


def test_sections_in_the_product_pages_order(customer_client):
    text = page_text(customer_client.get(INDEX))
    assert text.index("IP Authentication") < text.index("SIP User Authentication")


def test_empty_sections_say_what_to_do_next(customer_client):
    text = page_text(customer_client.get(INDEX))
    assert "No IP addresses yet" in text and "Add your first IP" in text
    assert "No SIP users yet" in text and "Add your first SIP user" in text


def test_search_without_javascript_filters_one_section(customer_client, customer):
    IpAuthEntryFactory(customer=customer, host="198.51.100.1")
    IpAuthEntryFactory(customer=customer, host="203.0.113.1")
    SipUserFactory(customer=customer, username="alpha")
    SipUserFactory(customer=customer, username="bravo")
    text = page_text(customer_client.get(INDEX, {"ip-q": "198.51", "sip-q": "brav"}))
    assert "198.51.100.1" in text and "203.0.113.1" not in text
    assert "bravo" in text and "alpha" not in text


def test_search_with_no_match_offers_to_clear_it(customer_client, ip_entry):
    text = page_text(customer_client.get(INDEX, {"ip-q": "no-such-host"}))
    assert "No IP-auth entries match your search" in text and "Clear the search" in text


def test_live_search_returns_only_the_section_asked_for(customer_client, customer):
    IpAuthEntryFactory(customer=customer, host="198.51.100.2")
    SipUserFactory(customer=customer, username="charlie")
    response = customer_client.get(
        INDEX, {"ip-q": "198"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ip-results"
    )
    html = response.content.decode()
    assert "198.51.100.2" in html
    assert "<html" not in html and "charlie" not in html
    assert "HX-Request" in response["Vary"]


def test_sections_page_independently(customer_client, customer):
    for n in range(30):
        IpAuthEntryFactory(customer=customer, host=f"10.0.0.{n + 1}")
        SipUserFactory(customer=customer, username=f"user-{n:02d}")
    text = page_text(customer_client.get(INDEX, {"ip-page": "2"}))
    assert "10.0.0.9" in text  # hosts sort as text: page 2 holds the last five
    assert "user-00" in text and "user-29" not in text
    assert "Page 2 of 2" in text and "Page 1 of 2" in text


def test_search_form_keeps_the_other_sections_state(customer_client):
    html = customer_client.get(INDEX, {"sip-q": "abc", "sip-page": "2"}).content.decode()
    ip_form = html.split('id="ip-results"')[0].split("IP Authentication")[1]
    assert '<input type="hidden" name="sip-q" value="abc">' in ip_form
    assert '<input type="hidden" name="sip-page" value="2">' in ip_form


def test_staff_see_every_customer_with_a_customer_column_and_filter(staff_client):
    acme, globex = CustomerFactory(name="Acme"), CustomerFactory(name="Globex")
    IpAuthEntryFactory(customer=acme, host="198.51.100.3")
    IpAuthEntryFactory(customer=globex, host="198.51.100.4")
    text = page_text(staff_client.get(INDEX))
    assert "Customer" in text and "Acme" in text and "Globex" in text
    filtered = page_text(staff_client.get(INDEX, {"ip-customer": acme.pk}))
    assert "198.51.100.3" in filtered and "198.51.100.4" not in filtered


def test_a_bad_filter_value_does_not_drop_the_search(staff_client):
    IpAuthEntryFactory(host="198.51.100.5")
    IpAuthEntryFactory(host="203.0.113.5")
    text = page_text(staff_client.get(INDEX, {"ip-customer": "999999", "ip-q": "198.51"}))
    assert "198.51.100.5" in text and "203.0.113.5" not in text


def test_customers_have_no_customer_column(customer_client, ip_entry):
    html = customer_client.get(INDEX).content.decode()
    assert '<th scope="col">Customer</th>' not in html
    assert 'name="ip-customer"' not in html


def test_a_user_without_a_customer_is_told_so(unlinked_user):
    response = login(unlinked_user).get(INDEX)
    assert response.status_code == 403
    assert "not linked to a customer" in page_text(response)


def count_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(INDEX).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["customer", "staff"])
def test_list_page_query_count_does_not_grow_with_rows(who, customer, customer_user, staff_user):
    client = login(customer_user if who == "customer" else staff_user)

    def add(rows):
        for _ in range(rows):
            IpAuthEntryFactory(customer=customer)
            SipUserFactory(customer=customer)

    add(5)
    with_five = count_queries(client)
    add(45)
    with_fifty = count_queries(client)
    assert with_five == with_fifty
