import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from auth_config.models import IpAuthEntry, SipUser
from portal.management.commands.seed_demo import DEMO_PASSWORD
from portal.models import Customer, User

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def stdin_password(monkeypatch):
    def feed(text):
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    return feed


def test_create_customer_reads_the_password_from_stdin(stdin_password):
    stdin_password("a-good-long-login-password\n")
    output = run("create_customer", "ACME", "--user", "acme", "--email", "ops@acme.example")
    user = User.objects.get(username="acme")
    assert "Created customer ACME" in output
    assert user.customer == Customer.objects.get(name="ACME")
    assert not user.is_staff
    assert Client().login(username="acme", password="a-good-long-login-password")


def test_create_customer_refuses_a_weak_password_and_creates_nothing(stdin_password):
    stdin_password("password\n")
    with pytest.raises(CommandError, match="Password refused"):
        run("create_customer", "ACME", "--user", "acme", "--email", "ops@acme.example")
    assert not Customer.objects.exists() and not User.objects.exists()


def test_create_customer_refuses_duplicates(stdin_password, customer):
    stdin_password("a-good-long-login-password\n")
    with pytest.raises(CommandError, match="already exists"):
        run("create_customer", customer.name, "--user", "x", "--email", "x@example.com")


def test_create_customer_needs_a_password(stdin_password):
    stdin_password("")
    with pytest.raises(CommandError, match="standard input"):
        run("create_customer", "ACME", "--user", "acme", "--email", "ops@acme.example")


def test_seed_demo_gives_working_logins_and_is_idempotent():
    first = run("seed_demo")
    run("seed_demo")
    assert DEMO_PASSWORD in first
    demo = User.objects.get(username="demo")
    assert User.objects.get(username="admin").is_staff
    assert IpAuthEntry.objects.filter(customer=demo.customer).count() == 3
    assert SipUser.objects.filter(customer=demo.customer).count() == 1
    client = Client()
    assert client.login(username="demo", password=DEMO_PASSWORD)
    page = client.get("/auth/").content.decode()
    assert "198.51.100.10" in page and "demo-office" in page
