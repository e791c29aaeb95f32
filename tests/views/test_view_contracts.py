"""Every Auth-tab page against the access rules of contract.py."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from auth_config import urls as auth_urls
from auth_config.models import IpAuthEntry, SipUser
from firewall.models import SwitchNode
from tests.factories import IpAuthEntryFactory, SipUserFactory
from tests.firewall.conftest import open_block

from .contract import AuthTabViewContract, StaffOnlyFieldsContract
from .helpers import ip_form, sip_form

pytestmark = pytest.mark.django_db


def ip_state(customer):
    return sorted(
        IpAuthEntry.objects.filter(customer=customer).values_list(
            "host", "channels", "cli_prefix", "tech_prefix", "enabled"
        )
    )


def sip_state(customer):
    return sorted(
        SipUser.objects.filter(customer=customer).values_list(
            "username", "channels", "flow_speed", "ha1", "enabled"
        )
    )


class TestIndex(AuthTabViewContract):
    url_names = ["index"]

    def make_entry(self, customer):
        IpAuthEntryFactory(customer=customer, host="192.0.2.201")
        SipUserFactory(customer=customer, username="listed-user")

    def url(self, entry):
        return reverse("auth_config:index")

    def assert_out_of_reach(self, response, entry, customer):
        html = response.content.decode()
        assert response.status_code == 200
        assert "192.0.2.201" not in html and "listed-user" not in html

    def assert_staff_allowed(self, response, entry):
        html = response.content.decode()
        assert response.status_code == 200
        assert "192.0.2.201" in html and "listed-user" in html


class CreateContract(AuthTabViewContract):
    method = "post"

    def assert_out_of_reach(self, response, entry, customer):
        # The customer named in the payload is ignored: ownership comes from the login.
        assert response.status_code == 302
        assert self.created().customer != customer

    def assert_staff_allowed(self, response, entry):
        assert response.status_code == 302
        assert self.created() is not None


class TestIpCreate(CreateContract, StaffOnlyFieldsContract):
    url_names = ["ip_create"]
    staff_only_value = {"cli_prefix": "0044"}

    def url(self, entry):
        return reverse("auth_config:ip_create")

    def payload(self, entry, user):
        return ip_form(user, host="192.0.2.150", customer=self.customer_pk)

    def make_entry(self, customer):
        self.customer_pk = customer.pk

    def state(self, customer):
        return ip_state(customer)

    def created(self):
        return IpAuthEntry.objects.filter(host="192.0.2.150").first()

    def assert_staff_only_value_saved(self, customer):
        assert IpAuthEntry.objects.get(host="192.0.2.150", customer=customer).cli_prefix == "0044"


class TestIpHostCheck(AuthTabViewContract):
    url_names = ["ip_host_check"]

    def make_entry(self, customer):
        node = SwitchNode.objects.create(name="check-sw", rpc_url="http://127.0.0.1:9/RPC")
        return open_block(node, "192.0.2.210", "auth_failures", customer=customer)

    def url(self, entry):
        query = urlencode({"host": "192.0.2.210", "customer": entry.customer_id})
        return f"{reverse('auth_config:ip_host_check')}?{query}"

    def assert_out_of_reach(self, response, entry, customer):
        # Another customer's block is not theirs to see, even for the same address.
        assert response.status_code == 200
        assert "192.0.2.210" not in response.content.decode()

    def assert_staff_allowed(self, response, entry):
        assert response.status_code == 200
        assert "192.0.2.210 is blocked on the switch" in response.content.decode()


class TestIpEdit(AuthTabViewContract, StaffOnlyFieldsContract):
    url_names = ["ip_edit"]
    method = "post"
    staff_only_value = {"tech_prefix": "77#"}

    def make_entry(self, customer):
        return IpAuthEntryFactory(customer=customer, host="192.0.2.160", channels=3)

    def url(self, entry):
        return reverse("auth_config:ip_edit", args=[entry.pk])

    def payload(self, entry, user):
        return ip_form(user, host=entry.host, channels="9")

    def state(self, customer):
        return ip_state(customer)

    def assert_staff_allowed(self, response, entry):
        assert response.status_code == 302
        entry.refresh_from_db()
        assert entry.channels == 9

    def assert_staff_only_value_saved(self, customer):
        assert IpAuthEntry.objects.get(customer=customer).tech_prefix == "77#"

    def test_other_customer_cannot_even_open_it(self, customer, other_client):
        entry = self.make_entry(customer)
        assert other_client.get(self.url(entry)).status_code == 404


class TestIpAudit(AuthTabViewContract):
    url_names = ["ip_audit"]

    def make_entry(self, customer):
        return IpAuthEntryFactory(customer=customer)

    def url(self, entry):
        return reverse("auth_config:ip_audit", args=[entry.pk])


class DeleteContract(AuthTabViewContract):
    method = "post"

    def payload(self, entry, user):
        return {"ids": [entry.pk], "confirm": "yes"}

    def assert_staff_allowed(self, response, entry):
        assert response.status_code == 302
        assert not type(entry).objects.filter(pk=entry.pk).exists()


class TestIpDelete(DeleteContract):
    url_names = ["ip_delete"]

    def make_entry(self, customer):
        return IpAuthEntryFactory(customer=customer)

    def url(self, entry):
        return reverse("auth_config:ip_delete")

    def state(self, customer):
        return ip_state(customer)


class TestSipCreate(CreateContract, StaffOnlyFieldsContract):
    url_names = ["sip_create"]
    staff_only_value = {"channels": "12"}

    def make_entry(self, customer):
        self.customer_pk = customer.pk

    def url(self, entry):
        return reverse("auth_config:sip_create")

    def payload(self, entry, user):
        return sip_form(
            user, username="contract-user", password="Tq8vLm3xRz5wKp2n", customer=self.customer_pk
        )

    def state(self, customer):
        return sip_state(customer)

    def created(self):
        return SipUser.objects.filter(username="contract-user").first()

    def assert_staff_only_value_saved(self, customer):
        assert SipUser.objects.get(username="contract-user", customer=customer).channels == 12


class TestSipEdit(AuthTabViewContract, StaffOnlyFieldsContract):
    url_names = ["sip_edit"]
    method = "post"
    staff_only_value = {"flow_speed": "4"}

    def make_entry(self, customer):
        return SipUserFactory(customer=customer)

    def url(self, entry):
        return reverse("auth_config:sip_edit", args=[entry.pk])

    def payload(self, entry, user):
        return sip_form(user, dial_pattern="national")

    def state(self, customer):
        return sip_state(customer)

    def assert_staff_allowed(self, response, entry):
        assert response.status_code == 302
        entry.refresh_from_db()
        assert entry.dial_pattern == "national"

    def assert_staff_only_value_saved(self, customer):
        assert SipUser.objects.get(customer=customer).flow_speed == 4

    def test_other_customer_cannot_even_open_it(self, customer, other_client):
        entry = self.make_entry(customer)
        assert other_client.get(self.url(entry)).status_code == 404


class TestSipPassword(AuthTabViewContract):
    url_names = ["sip_password"]

    def make_entry(self, customer):
        return SipUserFactory(customer=customer)

    def url(self, entry):
        return reverse("auth_config:sip_password", args=[entry.pk])


class TestSipAudit(AuthTabViewContract):
    url_names = ["sip_audit"]

    def make_entry(self, customer):
        return SipUserFactory(customer=customer)

    def url(self, entry):
        return reverse("auth_config:sip_audit", args=[entry.pk])


class TestSipDelete(DeleteContract):
    url_names = ["sip_delete"]

    def make_entry(self, customer):
        return SipUserFactory(customer=customer)

    def url(self, entry):
        return reverse("auth_config:sip_delete")

    def state(self, customer):
        return sip_state(customer)


def contract_classes(base=AuthTabViewContract):
    for subclass in base.__subclasses__():
        yield subclass
        yield from contract_classes(subclass)


def test_every_auth_tab_url_has_a_contract_test_class():
    covered = {
        name
        for cls in contract_classes()
        if cls.__name__.startswith("Test")
        for name in cls.url_names
    }
    patterns = {pattern.name for pattern in auth_urls.urlpatterns}
    assert patterns - covered == set(), "URLs without a test class inheriting the contract"
    assert covered - patterns == set(), "test classes naming URLs that no longer exist"
