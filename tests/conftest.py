import pytest

from tests.factories import (
    CustomerFactory,
    IpAuthEntryFactory,
    SipUserFactory,
    StaffFactory,
    UserFactory,
)


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def customer_user(customer):
    return UserFactory(customer=customer)


@pytest.fixture
def other_customer_user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return StaffFactory()


@pytest.fixture
def ip_entry(customer):
    return IpAuthEntryFactory(customer=customer)


@pytest.fixture
def sip_user(customer):
    return SipUserFactory(customer=customer)


from tests.browser import browser, page_as  # noqa: E402,F401  (shared browser fixtures)


@pytest.fixture
def name_server(settings):
    """A DNS server of the test's own, which the portal asks for egress hostnames."""
    from tests.nameserver import LoopbackNameServer

    server = LoopbackNameServer()
    settings.DNS_NAMESERVER = server.address
    settings.DNS_TIMEOUT = 1
    yield server
    server.close()
