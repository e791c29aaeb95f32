"""The SQL views the reference switch reads: what they contain, and their Kamailio types."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from auth_config import services
from firewall.models import BlockedIp, SwitchNode, UnblockRequest
from tests.factories import CustomerFactory, UserFactory

PASSWORD = "correct-horse-battery-7"
VIEWS = [
    "switch_address",
    "switch_ipban",
    "switch_sip_whitelist",
    "switch_subscriber",
    "switch_version",
]


def rows(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def existing_views():
    return sorted(
        name
        for (name,) in rows(
            "SELECT table_name FROM information_schema.views WHERE table_name LIKE 'switch_%%'"
        )
    )


def authorise(user, host, **fields):
    return services.create_ip_auth_entries(user=user, hosts=[host], fields=fields)[0]


def add_sip_user(user, username, **fields):
    return services.create_sip_user(
        user=user, fields={"username": username, **fields}, password=PASSWORD
    )[0]


@pytest.mark.django_db
def test_every_column_has_a_type_kamailio_reads():
    columns = rows(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_name LIKE 'switch_%%' ORDER BY 1, 2"
    )
    assert sorted({table for table, _, _ in columns}) == VIEWS
    wrong = [(t, c, d) for t, c, d in columns if d not in ("integer", "character varying")]
    assert wrong == []


@pytest.mark.django_db
def test_versions_of_the_tables_kamailio_checks():
    assert dict(rows("SELECT table_name, table_version FROM switch_version")) == {
        "switch_address": 6,
        "switch_subscriber": 7,
    }


@pytest.mark.django_db
def test_address_view_holds_enabled_egress_addresses(customer_user):
    trunk = authorise(customer_user, "192.0.2.10", port=5062, channels=4, flow_speed=2)
    network = authorise(customer_user, "198.51.100.0/24", protocol="tcp", port=5080)
    v6 = authorise(customer_user, "2001:DB8::7")
    authorise(customer_user, "pbx.example.com")
    authorise(customer_user, "192.0.2.11", enabled=False)
    authorise(customer_user, "192.0.2.12", direction="ingress")
    inactive = CustomerFactory(active=False)
    authorise(UserFactory(customer=inactive), "192.0.2.13")

    found = rows("SELECT grp, ip_addr, mask, port, tag FROM switch_address ORDER BY grp, ip_addr")
    assert found == [
        (1, "192.0.2.10", 32, 5062, f"{trunk.pk}:4:2"),
        # TCP clients send from an ephemeral port.
        (1, "198.51.100.0", 24, 0, f"{network.pk}:0:0"),
        (1, "2001:db8::7", 128, 5060, f"{v6.pk}:0:0"),
        (2, "192.0.2.10", 32, 0, f"{trunk.pk}:4:2"),
        (2, "198.51.100.0", 24, 0, f"{network.pk}:0:0"),
        (2, "2001:db8::7", 128, 0, f"{v6.pk}:0:0"),
    ]


@pytest.mark.django_db
def test_subscriber_view_holds_digests_of_enabled_users_only(customer, customer_user, staff_user):
    alice = services.create_sip_user(
        user=staff_user,
        customer=customer,
        fields={"username": "alice", "whitelist": ["192.0.2.1", "10.1.0.0/16"], "channels": 3},
        password=PASSWORD,
    )[0]
    add_sip_user(customer_user, "off", enabled=False)
    inactive = CustomerFactory(active=False)
    add_sip_user(UserFactory(customer=inactive), "gone")

    found = rows(
        "SELECT id, username, domain, ha1, ha1b, ha1_sha256, channels, flow_speed, "
        "whitelist_size FROM switch_subscriber"
    )
    assert found == [
        (
            alice.pk,
            "alice",
            customer.sip_realm,
            alice.ha1,
            alice.ha1b,
            alice.ha1_sha256,
            3,
            0,
            2,
        )
    ]
    assert rows("SELECT sip_user_id, cidr FROM switch_sip_whitelist ORDER BY cidr") == [
        (alice.pk, "10.1.0.0/16"),
        (alice.pk, "192.0.2.1"),
    ]


@pytest.mark.django_db
def test_ipban_view_holds_open_bans_nobody_is_lifting(staff_user):
    now = timezone.now()
    edge1 = SwitchNode.objects.create(name="edge-1", rpc_url="http://127.0.0.1:1/RPC")
    edge2 = SwitchNode.objects.create(name="edge-2", rpc_url="http://127.0.0.1:2/RPC")

    def block(ip, reason="unauthorised", node=edge1, unblock=None, **fields):
        blocked = BlockedIp.objects.create(
            ip=ip, node=node, reason=reason, first_seen=now, last_seen=now, **fields
        )
        if unblock:
            UnblockRequest.objects.create(
                blocked_ip=blocked, requested_by=staff_user, state=unblock
            )
        return blocked

    block("192.0.2.1")
    block("192.0.2.1", node=edge2)  # one ban per address, whichever node saw it
    block("192.0.2.2", reason="auth_failures")
    block("2001:db8::2")
    block("192.0.2.3", unblock="superseded")  # an old request does not lift a ban
    for n, state in enumerate(("pending", "applied", "retrying", "verified")):
        block(f"198.51.100.{n}", unblock=state)
    block("192.0.2.4", cleared_at=now)
    block("192.0.2.5", reason="flood")

    found = rows(
        "SELECT key_name, key_type, value_type, key_value, expires FROM switch_ipban "
        "ORDER BY key_name"
    )
    assert found == [
        ("192.0.2.1", 0, 0, "unauthorised", 0),
        ("192.0.2.2", 0, 0, "auth_failures", 0),
        ("192.0.2.3", 0, 0, "unauthorised", 0),
        ("2001:db8::2", 0, 0, "unauthorised", 0),
    ]


@pytest.mark.django_db(transaction=True)
def test_migration_applies_and_unapplies():
    executor = MigrationExecutor(connection)
    key = ("auth_config", "0002_switch_views")
    migration = executor.loader.get_migration(*key)
    state = executor.loader.project_state(key, at_end=True)
    assert existing_views() == VIEWS

    try:
        with connection.schema_editor() as editor:
            migration.unapply(state, editor)
        assert existing_views() == []
    finally:
        with connection.schema_editor() as editor:
            migration.apply(executor.loader.project_state(key, at_end=False), editor)
    assert existing_views() == VIEWS
