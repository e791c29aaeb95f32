import hashlib

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError

from auth_config import services
from auth_config.models import IpAuthEntry, SipUser
from tests.factories import IpAuthEntryFactory, SipUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def errors_of(exc_info):
    return exc_info.value.message_dict


def test_several_hosts_create_one_entry_each(customer_user):
    created = services.create_ip_auth_entries(
        user=customer_user, hosts=["192.0.2.1", "192.0.2.2"], fields={"channels": 10}
    )
    assert [e.host for e in created] == ["192.0.2.1", "192.0.2.2"]
    assert all(e.customer == customer_user.customer and e.channels == 10 for e in created)


def test_one_bad_host_creates_nothing(customer_user):
    with pytest.raises(ValidationError) as exc:
        services.create_ip_auth_entries(
            user=customer_user, hosts=["192.0.2.1", "192.0.2.300"], fields={}
        )
    assert "192.0.2.300" in errors_of(exc)["host"][0]
    assert not IpAuthEntry.objects.exists()


def test_tls_port_defaults_to_5061_and_plain_to_5060(customer_user):
    (tls,) = services.create_ip_auth_entries(
        user=customer_user, hosts=["192.0.2.5"], fields={"protocol": "tls", "port": None}
    )
    (udp,) = services.create_ip_auth_entries(user=customer_user, hosts=["192.0.2.6"], fields={})
    assert (tls.port, udp.port) == (5061, 5060)


def test_tls_on_port_5060_is_refused_on_the_port_field(customer_user):
    with pytest.raises(ValidationError) as exc:
        services.create_ip_auth_entries(
            user=customer_user, hosts=["192.0.2.5"], fields={"protocol": "tls", "port": 5060}
        )
    assert "5061" in errors_of(exc)["port"][0]


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_out_of_range(customer_user, port):
    with pytest.raises(ValidationError) as exc:
        services.create_ip_auth_entries(
            user=customer_user, hosts=["192.0.2.5"], fields={"port": port}
        )
    assert "port" in errors_of(exc)


def test_smpp_is_refused_with_its_reason(customer_user):
    with pytest.raises(ValidationError) as exc:
        services.create_ip_auth_entries(
            user=customer_user, hosts=["192.0.2.5"], fields={"protocol": "smpp"}
        )
    assert "not supported" in errors_of(exc)["protocol"][0]


def test_cidr_only_for_egress(customer_user):
    with pytest.raises(ValidationError) as exc:
        services.create_ip_auth_entries(
            user=customer_user, hosts=["198.51.100.0/24"], fields={"direction": "ingress"}
        )
    assert "range" in errors_of(exc)["host"][0]
    (entry,) = services.create_ip_auth_entries(
        user=customer_user, hosts=["198.51.100.0/24"], fields={"direction": "egress"}
    )
    assert entry.host == "198.51.100.0/24"


def test_egress_address_owned_by_another_customer_is_refused_without_naming_it(customer_user):
    owner = IpAuthEntryFactory(host="192.0.2.50")
    with pytest.raises(ValidationError) as exc:
        services.create_ip_auth_entries(user=customer_user, hosts=["192.0.2.50"], fields={})
    message = errors_of(exc)["host"][0]
    assert "another account" in message
    assert owner.customer.name not in message


def test_same_customer_exact_duplicate_is_refused(customer_user):
    services.create_ip_auth_entries(user=customer_user, hosts=["192.0.2.50"], fields={})
    with pytest.raises(ValidationError) as exc:
        services.create_ip_auth_entries(user=customer_user, hosts=["192.0.2.50"], fields={})
    assert "You already have" in errors_of(exc)["host"][0]


def test_different_tech_prefix_may_share_the_address(staff_user, customer):
    services.create_ip_auth_entries(
        user=staff_user, customer=customer, hosts=["192.0.2.50"], fields={"tech_prefix": "11#"}
    )
    services.create_ip_auth_entries(
        user=staff_user, customer=customer, hosts=["192.0.2.50"], fields={"tech_prefix": "22#"}
    )
    assert IpAuthEntry.objects.count() == 2


def test_customers_cannot_change_staff_only_fields(customer_user, ip_entry):
    with pytest.raises(ValidationError) as exc:
        services.update_ip_auth_entry(
            user=customer_user, entry=ip_entry, fields={"tech_prefix": "9"}
        )
    assert "contact support" in errors_of(exc)["tech_prefix"][0]


def test_staff_change_staff_only_fields(staff_user, ip_entry):
    entry = services.update_ip_auth_entry(
        user=staff_user, entry=ip_entry, fields={"tech_prefix": "9", "strip_digits": 2}
    )
    assert (entry.tech_prefix, entry.strip_digits) == ("9", 2)


def test_uac_credentials_only_on_ingress(customer_user):
    with pytest.raises(ValidationError) as exc:
        services.create_ip_auth_entries(
            user=customer_user,
            hosts=["192.0.2.9"],
            fields={"direction": "egress", "uac_username": "u", "uac_password": "p"},
        )
    assert "ingress" in errors_of(exc)["uac_username"][0]


def test_uac_password_is_encrypted_and_recoverable(customer_user):
    (entry,) = services.create_ip_auth_entries(
        user=customer_user,
        hosts=["192.0.2.9"],
        fields={"direction": "ingress", "uac_username": "trunk", "uac_password": "s3cret-uac-pass"},
    )
    entry.refresh_from_db()
    assert "s3cret" not in entry.uac_password_encrypted
    assert entry.get_uac_password() == "s3cret-uac-pass"


def test_sip_user_stores_only_digests(customer_user):
    sip_user, generated = services.create_sip_user(
        user=customer_user, fields={"username": "alice"}, password="correct-horse-battery"
    )
    realm = customer_user.customer.sip_realm
    assert generated is None
    assert sip_user.ha1 == hashlib.md5(f"alice:{realm}:correct-horse-battery".encode()).hexdigest()
    assert (
        sip_user.ha1_sha256
        == hashlib.sha256(f"alice:{realm}:correct-horse-battery".encode()).hexdigest()
    )
    assert (
        sip_user.ha1b
        == hashlib.md5(f"alice@{realm}:{realm}:correct-horse-battery".encode()).hexdigest()
    )


def test_generated_password_is_returned_once_and_valid(customer_user):
    sip_user, generated = services.create_sip_user(user=customer_user, fields={"username": "bob"})
    assert len(generated) >= 20
    realm = sip_user.realm
    assert sip_user.ha1 == hashlib.md5(f"bob:{realm}:{generated}".encode()).hexdigest()


@pytest.mark.parametrize(
    ("password", "fragment"),
    [("short-pw", "too short"), ("password1234", "too common"), ("x" * 129, "at most 128")],
)
def test_weak_sip_passwords_are_refused(customer_user, password, fragment):
    with pytest.raises(ValidationError) as exc:
        services.create_sip_user(
            user=customer_user, fields={"username": "carol"}, password=password
        )
    assert any(fragment in m for m in errors_of(exc)["password"])
    assert not SipUser.objects.exists()


def test_sip_username_unique_per_realm(customer_user):
    SipUserFactory(username="dave")
    with pytest.raises(ValidationError) as exc:
        services.create_sip_user(
            user=customer_user, fields={"username": "dave"}, password="a-fine-long-password"
        )
    assert "already taken" in errors_of(exc)["username"][0]


@pytest.mark.parametrize("username", ["bad user", "a@b", "x:y", ""])
def test_sip_username_must_be_a_sip_user_part(customer_user, username):
    with pytest.raises(ValidationError) as exc:
        services.create_sip_user(
            user=customer_user, fields={"username": username}, password="a-fine-long-password"
        )
    assert "username" in errors_of(exc)


def test_whitelist_normalised_and_deduplicated(customer_user):
    sip_user, _ = services.create_sip_user(
        user=customer_user,
        fields={
            "username": "erin",
            "whitelist": [" 198.51.100.0/24", "198.51.100.0/24", "192.0.2.1/32"],
        },
        password="a-fine-long-password",
    )
    assert sip_user.whitelist == ["198.51.100.0/24", "192.0.2.1"]


def test_whitelist_limit_and_bad_entries(customer_user):
    too_many = [f"10.0.{i // 250}.{i % 250}" for i in range(101)]
    with pytest.raises(ValidationError) as exc:
        services.create_sip_user(
            user=customer_user,
            fields={"username": "frank", "whitelist": too_many},
            password="a-fine-long-password",
        )
    assert "At most 100" in errors_of(exc)["whitelist"][0]
    with pytest.raises(ValidationError) as exc:
        services.create_sip_user(
            user=customer_user,
            fields={"username": "frank", "whitelist": ["198.51.100.1/24", "pbx.example.com"]},
            password="a-fine-long-password",
        )
    assert len(errors_of(exc)["whitelist"]) == 2


def test_customers_cannot_set_sip_channels(customer_user):
    with pytest.raises(ValidationError) as exc:
        services.create_sip_user(
            user=customer_user,
            fields={"username": "gina", "channels": 5},
            password="a-fine-long-password",
        )
    assert "channels" in errors_of(exc)


def test_username_cannot_change(customer_user, sip_user):
    with pytest.raises(ValidationError) as exc:
        services.update_sip_user(user=customer_user, sip_user=sip_user, fields={"username": "new"})
    assert "cannot be changed" in errors_of(exc)["username"][0]


def test_delete_leaves_one_audit_entry_each(customer_user):
    entries = IpAuthEntryFactory.create_batch(3, customer=customer_user.customer)
    deleted = services.delete_ip_auth_entries(
        user=customer_user, entries=IpAuthEntry.objects.filter(pk__in=[e.pk for e in entries])
    )
    assert deleted == 3
    deletions = LogEntry.objects.filter(action=LogEntry.Action.DELETE)
    assert deletions.count() == 3
    assert {d.actor_id for d in deletions} == {customer_user.pk}


def test_scoping_hides_other_customers(customer_user, ip_entry):
    other = UserFactory()
    assert list(IpAuthEntry.objects.for_user(customer_user)) == [ip_entry]
    assert not IpAuthEntry.objects.for_user(other).exists()


def test_secret_never_in_audit_log(customer_user):
    password = "Zq8#kW3!mP5@xR7$tY2%"
    sip_user, _ = services.create_sip_user(
        user=customer_user, fields={"username": "hank"}, password=password
    )
    services.set_sip_user_password(user=customer_user, sip_user=sip_user, password=password[::-1])
    services.create_ip_auth_entries(
        user=customer_user,
        hosts=["192.0.2.77"],
        fields={"direction": "ingress", "uac_username": "t", "uac_password": password},
    )
    dump = " ".join(str(e.changes) + str(e.serialized_data) for e in LogEntry.objects.all())
    for secret in (password, password[::-1]):
        for i in range(len(secret) - 3):
            assert secret[i : i + 4] not in dump
    assert sip_user.ha1 not in dump


def test_every_bad_host_is_reported_at_once(customer_user):
    with pytest.raises(ValidationError) as exc:
        services.create_ip_auth_entries(
            user=customer_user,
            hosts=["192.0.2.1", "192.0.2.300", "198.51.100.7/24"],
            fields={},
        )
    messages = errors_of(exc)["host"]
    assert len(messages) == 2
    assert "192.0.2.300" in messages[0] and "did you mean 198.51.100.0/24" in messages[1]
    assert not IpAuthEntry.objects.exists()


def test_settings_and_password_change_together_or_not_at_all(customer_user, sip_user):
    with pytest.raises(ValidationError) as exc:
        services.update_sip_user_and_password(
            user=customer_user,
            sip_user=sip_user,
            fields={"whitelist": ["192.0.2.0/24"]},
            password="short",
        )
    assert "password" in errors_of(exc)
    sip_user.refresh_from_db()
    assert sip_user.whitelist == []

    updated, generated = services.update_sip_user_and_password(
        user=customer_user, sip_user=sip_user, fields={"whitelist": ["192.0.2.0/24"]}
    )
    assert updated.whitelist == ["192.0.2.0/24"]
    expected = hashlib.md5(f"{updated.username}:{updated.realm}:{generated}".encode()).hexdigest()
    assert updated.ha1 == expected


def test_every_database_constraint_is_checked_first_with_a_message_naming_the_field(
    customer_user,
):
    # The models check their constraints themselves (validate_constraints() does not ask
    # Django to query for each one again); a new constraint needs its check and a line here.
    def ip_entry(host, **fields):
        return services.create_ip_auth_entries(user=customer_user, hosts=[host], fields=fields)

    def sip_user(**fields):
        return services.create_sip_user(user=customer_user, fields=fields)

    ip_entry("192.0.2.7")
    ip_entry("192.0.2.8", direction="ingress")
    sip_user(username="office-pbx")
    violations = {
        "ipauth_unique_egress_address": (lambda: ip_entry("192.0.2.7"), "host"),
        "ipauth_unique_ingress_per_customer": (
            lambda: ip_entry("192.0.2.8", direction="ingress"),
            "host",
        ),
        "ipauth_port_range": (lambda: ip_entry("192.0.2.9", port=70000), "port"),
        "ipauth_protocol_supported": (lambda: ip_entry("192.0.2.9", protocol="smpp"), "protocol"),
        "sipuser_unique_per_realm": (lambda: sip_user(username="Office-PBX"), "username"),
        "sipuser_protocol_supported": (
            lambda: sip_user(username="branch", protocol="smpp"),
            "protocol",
        ),
    }
    constraints = {c.name for model in (IpAuthEntry, SipUser) for c in model._meta.constraints}
    assert constraints == set(violations)
    for name, (violate, field) in violations.items():
        with pytest.raises(ValidationError) as exc:
            violate()
        assert field in errors_of(exc), name


@pytest.mark.parametrize(
    ("theirs", "mine"),
    [
        ("198.51.100.0/24", "198.51.100.7"),  # my address inside their range
        ("198.51.100.7", "198.51.100.0/28"),  # my range holding their address
        ("198.51.100.0/28", "198.51.100.0/24"),  # ranges that overlap
        ("2001:db8::/48", "2001:db8::5"),
    ],
)
def test_egress_addresses_overlapping_another_customers_are_refused(customer_user, theirs, mine):
    owner = IpAuthEntryFactory(host=theirs)
    IpAuthEntryFactory(customer=owner.customer, host="pbx.example.net")  # names are skipped
    with pytest.raises(ValidationError) as exc:
        services.create_ip_auth_entries(user=customer_user, hosts=[mine], fields={})
    message = errors_of(exc)["host"][0]
    assert mine in message and "another account" in message
    assert theirs not in message and owner.customer.name not in message
    assert not IpAuthEntry.objects.filter(customer=customer_user.customer).exists()


def test_overlapping_addresses_are_fine_on_another_port_or_prefix_or_for_the_same_customer(
    customer_user, staff_user
):
    IpAuthEntryFactory(host="198.51.100.0/24")
    IpAuthEntryFactory(customer=customer_user.customer, host="203.0.113.0/24")
    services.create_ip_auth_entries(
        user=customer_user, hosts=["198.51.100.7"], fields={"port": 5070}
    )
    services.create_ip_auth_entries(
        user=staff_user,
        customer=customer_user.customer,
        hosts=["198.51.100.8"],
        fields={"tech_prefix": "77#"},
    )
    services.create_ip_auth_entries(user=customer_user, hosts=["203.0.113.9"], fields={})
    # Ingress entries are where we send calls; the switch matches nothing on them.
    services.create_ip_auth_entries(
        user=customer_user, hosts=["198.51.100.9"], fields={"direction": "ingress"}
    )
    assert IpAuthEntry.objects.filter(customer=customer_user.customer).count() == 5


def test_an_entry_saved_before_overlaps_were_refused_can_still_be_edited(customer_user):
    IpAuthEntryFactory(host="198.51.100.0/24")
    legacy = IpAuthEntryFactory(customer=customer_user.customer, host="198.51.100.7")
    services.update_ip_auth_entry(user=customer_user, entry=legacy, fields={"channels": 4})
    # Moved off the overlap (another port), it cannot move back.
    services.update_ip_auth_entry(user=customer_user, entry=legacy, fields={"port": 5070})
    with pytest.raises(ValidationError) as exc:
        services.update_ip_auth_entry(user=customer_user, entry=legacy, fields={"port": 5060})
    assert "another account" in errors_of(exc)["host"][0]
