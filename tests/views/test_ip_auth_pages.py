"""A customer managing IP authentication in the Auth tab."""

import re

import pytest
from django.urls import reverse

from auth_config.models import IpAuthEntry
from tests.factories import CustomerFactory, IpAuthEntryFactory

from .helpers import field_errors, ip_form

pytestmark = pytest.mark.django_db

CREATE = reverse("auth_config:ip_create")
INDEX = reverse("auth_config:index")


def edit_url(entry):
    return reverse("auth_config:ip_edit", args=[entry.pk])


def fieldset_html(response, slug):
    """One tab's fieldset: from its opening tag up to the next tab or the form's buttons."""
    html = response.content.decode()
    start = html.rindex("<fieldset", 0, html.index(f'id="panel-{slug}"'))
    ends = [html.find(marker, start + 30) for marker in ('class="tab-panel', "form-actions")]
    return html[start : min(end for end in ends if end > 0)]


def test_several_ips_one_per_line_create_one_entry_each(customer_client, customer):
    response = customer_client.post(
        CREATE,
        ip_form(host="192.0.2.10\n 192.0.2.11 \n\n2001:DB8::1\n", channels="20"),
        follow=True,
    )
    hosts = sorted(IpAuthEntry.objects.filter(customer=customer).values_list("host", "channels"))
    assert hosts == [("192.0.2.10", 20), ("192.0.2.11", 20), ("2001:db8::1", 20)]
    assert "Added 3 IP-auth entries" in response.content.decode()


def test_basic_and_advanced_fields_are_saved(customer_client, customer):
    response = customer_client.post(
        CREATE,
        ip_form(
            host="pbx.example.com",
            channels="30",
            flow_speed="5",
            restricted_codecs=["G729", "PCMU"],
            manufacturer="Asterisk",
            version="20.1",
            protocol="tls",
            port="",
            dial_pattern="national",
            direction="ingress",
            uac_username="portal-trunk",
            uac_password="Xr4pLq9zVt2mWk7s",
        ),
    )
    assert response.status_code == 302
    entry = IpAuthEntry.objects.get(customer=customer)
    assert (entry.host, entry.channels, entry.flow_speed) == ("pbx.example.com", 30, 5)
    assert entry.restricted_codecs == ["PCMU", "G729"]
    assert (entry.manufacturer, entry.version) == ("Asterisk", "20.1")
    assert (entry.protocol, entry.port, entry.dial_pattern) == ("tls", 5061, "national")
    assert (entry.direction, entry.uac_username) == ("ingress", "portal-trunk")
    assert entry.get_uac_password() == "Xr4pLq9zVt2mWk7s"


def test_blank_port_defaults_to_5060(customer_client, customer):
    customer_client.post(CREATE, ip_form(host="192.0.2.12", port=""))
    assert IpAuthEntry.objects.get(customer=customer).port == 5060


def test_cidr_with_host_bits_is_refused_next_to_the_host_with_the_fix(customer_client, customer):
    response = customer_client.post(CREATE, ip_form(host="192.0.2.1/24"))
    assert response.status_code == 400
    (error,) = field_errors(response, "host")
    assert "192.0.2.1/24" in error and "192.0.2.0/24" in error
    assert not IpAuthEntry.objects.exists()


def test_one_bad_ip_among_several_creates_none(customer_client):
    response = customer_client.post(CREATE, ip_form(host="192.0.2.20\n192.0.2.300"))
    assert "192.0.2.300" in " ".join(field_errors(response, "host"))
    assert not IpAuthEntry.objects.exists()
    # What was typed is kept, so the customer only fixes the bad line.
    assert "192.0.2.20\n192.0.2.300" in response.content.decode()


def test_tls_on_5060_is_refused_next_to_the_port_and_opens_the_advanced_tab(customer_client):
    response = customer_client.post(CREATE, ip_form(host="192.0.2.13", protocol="tls", port="5060"))
    assert response.status_code == 400
    assert "5061" in " ".join(field_errors(response, "port"))
    assert "has-errors" in fieldset_html(response, "advanced").split(">")[0]
    assert "has-errors" not in fieldset_html(response, "basic").split(">")[0]
    assert not IpAuthEntry.objects.exists()


def test_form_has_basic_and_advanced_tabs_with_their_fields(customer_client):
    response = customer_client.get(CREATE)
    basic, advanced = fieldset_html(response, "basic"), fieldset_html(response, "advanced")
    for name in ["host", "channels", "flow_speed"]:
        assert f'name="{name}"' in basic
    for name in [
        "restricted_codecs",
        "manufacturer",
        "version",
        "protocol",
        "port",
        "dial_pattern",
        "uac_username",
        "uac_password",
        "direction",
    ]:
        assert f'name="{name}"' in advanced


@pytest.mark.parametrize(
    "url_name", ["auth_config:ip_create", "auth_config:sip_create", "auth_config:index"]
)
@pytest.mark.parametrize("who", ["customer", "staff"])
def test_every_input_has_a_label(who, url_name, customer_client, staff_client):
    client = customer_client if who == "customer" else staff_client
    html = client.get(reverse(url_name)).content.decode()
    input_ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html)
    assert input_ids
    for input_id in input_ids:
        assert f'for="{input_id}"' in html, input_id


def test_smpp_is_shown_but_not_offered(customer_client):
    html = customer_client.get(CREATE).content.decode()
    assert re.search(r'<option value="smpp"[^>]*disabled[^>]*>SMPP \(not supported\)', html)


def test_posting_smpp_anyway_is_refused_with_the_reason(customer_client):
    response = customer_client.post(CREATE, ip_form(host="192.0.2.14", protocol="smpp"))
    assert "not supported" in " ".join(field_errors(response, "protocol"))
    assert not IpAuthEntry.objects.exists()


def test_direction_is_explained_from_the_customers_switch(customer_client):
    html = customer_client.get(CREATE).content.decode()
    assert "Egress: your switch sends calls to us" in html
    assert "Ingress: your switch receives calls from us" in html


def test_a_range_cannot_be_an_ingress_target(customer_client):
    response = customer_client.post(CREATE, ip_form(host="192.0.2.0/28", direction="ingress"))
    assert "egress" in " ".join(field_errors(response, "host"))


def test_uac_credentials_on_an_egress_entry_are_refused(customer_client):
    response = customer_client.post(
        CREATE, ip_form(host="192.0.2.15", direction="egress", uac_username="trunk")
    )
    assert "ingress" in " ".join(field_errors(response, "uac_username"))


def test_edit_saves_changes(customer_client, customer):
    entry = IpAuthEntryFactory(customer=customer, host="192.0.2.30", channels=1)
    response = customer_client.post(
        edit_url(entry), ip_form(host=" 192.0.2.31 ", channels="40", manufacturer="FreeSWITCH")
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.host, entry.channels, entry.manufacturer) == ("192.0.2.31", 40, "FreeSWITCH")


def test_edit_form_shows_current_values_and_links_to_the_audit_log(customer_client, customer):
    entry = IpAuthEntryFactory(customer=customer, host="192.0.2.32", manufacturer="Yate")
    html = customer_client.get(edit_url(entry)).content.decode()
    assert 'value="192.0.2.32"' in html and 'value="Yate"' in html
    assert reverse("auth_config:ip_audit", args=[entry.pk]) in html
    assert "View Audit Log" in html


def test_uac_password_is_kept_when_left_blank_and_cleared_on_request(customer_client, customer):
    entry = IpAuthEntryFactory(customer=customer, host="192.0.2.33", direction="ingress")
    entry.uac_username = "trunk"
    entry.set_uac_password("Kp3vXz8rTq5wLm2n")
    entry.save()
    page = customer_client.get(edit_url(entry)).content.decode()
    assert "Currently set" in page
    assert "Kp3vXz8rTq5wLm2n" not in page
    form = ip_form(host=entry.host, direction="ingress", uac_username="trunk")

    customer_client.post(edit_url(entry), {**form, "uac_password": ""})
    entry.refresh_from_db()
    assert entry.get_uac_password() == "Kp3vXz8rTq5wLm2n"

    customer_client.post(edit_url(entry), {**form, "clear_uac_password": "on"})
    entry.refresh_from_db()
    assert not entry.uac_password_is_set
    page = customer_client.get(edit_url(entry)).content.decode()
    assert "Currently not set" in page
    assert 'name="clear_uac_password"' not in page


def test_customer_sees_staff_only_values_read_only(customer_client, customer):
    entry = IpAuthEntryFactory(customer=customer, cli_prefix="0049", bandwidth=64)
    html = customer_client.get(edit_url(entry)).content.decode()
    assert '<span class="readonly-value" id="id_cli_prefix">0049</span>' in html
    for name in IpAuthEntry.STAFF_ONLY_FIELDS:
        assert f'name="{name}"' not in html


def test_customer_saving_leaves_staff_set_values_alone(customer_client, customer):
    entry = IpAuthEntryFactory(customer=customer, host="192.0.2.34", tech_prefix="123#")
    response = customer_client.post(edit_url(entry), ip_form(host="192.0.2.34", channels="2"))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.tech_prefix, entry.channels) == ("123#", 2)


def test_staff_must_choose_the_customer_when_creating(staff_client):
    response = staff_client.post(CREATE, ip_form(host="192.0.2.35"))
    assert field_errors(response, "customer")
    assert not IpAuthEntry.objects.exists()


def test_staff_create_for_the_chosen_customer(staff_client, staff_user):
    chosen = CustomerFactory()
    response = staff_client.post(CREATE, ip_form(staff_user, host="192.0.2.36", customer=chosen.pk))
    assert response.status_code == 302
    assert IpAuthEntry.objects.get(host="192.0.2.36").customer == chosen


def test_another_customers_address_is_refused_without_naming_them(customer_client):
    IpAuthEntryFactory(customer=CustomerFactory(name="Secret Rival Ltd"), host="192.0.2.37")
    response = customer_client.post(CREATE, ip_form(host="192.0.2.37"))
    errors = " ".join(field_errors(response, "host"))
    assert "another account" in errors
    assert "Secret Rival" not in response.content.decode()


def test_bulk_delete_asks_first_and_cancel_keeps_the_entries(customer_client, customer):
    doomed = [IpAuthEntryFactory(customer=customer, host=f"192.0.2.{n}") for n in (40, 41)]
    kept = IpAuthEntryFactory(customer=customer, host="192.0.2.42")
    response = customer_client.post(
        reverse("auth_config:ip_delete"), {"ids": [e.pk for e in doomed]}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "192.0.2.40" in html and "192.0.2.41" in html and "192.0.2.42" not in html
    cancel = re.search(r'<a class="button secondary" href="([^"]+)">Cancel', html)[1]
    assert customer_client.get(cancel).status_code == 200
    assert IpAuthEntry.objects.count() == 3

    response = customer_client.post(
        reverse("auth_config:ip_delete"), {"ids": [e.pk for e in doomed], "confirm": "yes"}
    )
    assert response.status_code == 302
    assert list(IpAuthEntry.objects.all()) == [kept]


def test_delete_without_a_selection_explains_what_to_do(customer_client, ip_entry):
    response = customer_client.post(reverse("auth_config:ip_delete"), {}, follow=True)
    assert "Tick the IP-auth entries to delete first" in response.content.decode()
    assert IpAuthEntry.objects.filter(pk=ip_entry.pk).exists()


def test_bulk_delete_including_someone_elses_id_deletes_nothing(customer_client, customer):
    mine = IpAuthEntryFactory(customer=customer)
    theirs = IpAuthEntryFactory()
    response = customer_client.post(
        reverse("auth_config:ip_delete"), {"ids": [mine.pk, theirs.pk], "confirm": "yes"}
    )
    assert response.status_code == 404
    assert IpAuthEntry.objects.count() == 2


def test_garbage_ids_are_a_404_not_a_500(customer_client):
    response = customer_client.post(reverse("auth_config:ip_delete"), {"ids": ["1; drop"]})
    assert response.status_code == 404
