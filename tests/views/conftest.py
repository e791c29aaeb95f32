import pytest

from tests.factories import UserFactory

from .helpers import login


@pytest.fixture
def customer_client(customer_user):
    return login(customer_user)


@pytest.fixture
def other_client(other_customer_user):
    return login(other_customer_user)


@pytest.fixture
def staff_client(staff_user):
    return login(staff_user)


@pytest.fixture
def unlinked_user(db):
    return UserFactory(customer=None)
