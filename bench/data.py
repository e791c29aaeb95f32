"""The benchmark's own database and its data, made with bulk inserts (seconds, not minutes).

The rows are what the portal would hold, but written without the services: generating
100,000 entries one validated save at a time would take longer than the benchmarks.
"""

import secrets
from urllib.parse import urlparse, urlunparse

import psycopg2
from psycopg2 import sql


def database_url(base_url, name):
    """`base_url` with its database replaced by `name`."""
    return urlunparse(urlparse(base_url)._replace(path=f"/{name}"))


def _maintenance_connection(base_url):
    # The server's own `postgres` database: the one named in the URL may not exist yet.
    connection = psycopg2.connect(database_url(base_url, "postgres"))
    connection.autocommit = True
    return connection


def recreate_database(base_url, name):
    connection = _maintenance_connection(base_url)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()


def drop_database(base_url, name):
    connection = _maintenance_connection(base_url)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    connection.close()


def address(network, number):
    """The `number`th address of a /8 written as its first octet."""
    return f"{network}.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"


def ban_address(number):
    return address(172, number + 1)


def generate(scale, *, rpc_url):
    """Customers with their entries, SIP users, users, an API key, a switch node and its bans.

    Returns what the benchmarks need to address this data.
    """
    from django.utils import timezone

    from auth_config.models import IpAuthEntry, SipUser
    from firewall.models import BlockedIp, SwitchNode
    from portal.models import ApiKey, Customer, User

    customers = Customer.objects.bulk_create(
        Customer(name=f"Bench carrier {n}") for n in range(scale.customers)
    )
    number = 0
    batch = []
    for customer in customers:
        for _ in range(scale.entries_per_customer):
            # Half egress (what the switch authenticates), half ingress.
            direction = "egress" if number % 2 == 0 else "ingress"
            batch.append(
                IpAuthEntry(customer=customer, host=address(10, number + 1), direction=direction)
            )
            number += 1
            if len(batch) == 5000:
                IpAuthEntry.objects.bulk_create(batch)
                batch = []
    IpAuthEntry.objects.bulk_create(batch)

    SipUser.objects.bulk_create(
        SipUser(
            customer=customers[n % len(customers)],
            username=f"bench-{n}",
            realm=customers[n % len(customers)].sip_realm,
            ha1=secrets.token_hex(16),
            ha1_sha256=secrets.token_hex(32),
            ha1b=secrets.token_hex(16),
            whitelist=[f"198.51.{n % 250}.0/24"],
        )
        for n in range(scale.sip_users)
    )

    customer = customers[0]
    user = User.objects.create_user("bench-customer", customer=customer)
    session = _session_for(user)
    _, token = ApiKey.objects.issue(user=user, name="benchmarks")
    node = SwitchNode.objects.create(name="bench-edge", rpc_url=rpc_url)
    now = timezone.now()
    BlockedIp.objects.bulk_create(
        (
            BlockedIp(
                ip=ban_address(n),
                node=node,
                reason="unauthorised",
                first_seen=now,
                last_seen=now,
            )
            for n in range(scale.bans)
        ),
        batch_size=5000,
    )
    return {"customer_id": customer.pk, "token": token, "session": session, "node_id": node.pk}


def _session_for(user):
    """A logged-in browser session for `user`, as the login form would leave it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    # The backend that checks passwords records the login (the throttle before it never does).
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return {settings.SESSION_COOKIE_NAME: store.session_key}


def set_address_view_size(rows):
    """Enable just enough egress entries for the switch's address view to hold `rows` rows.

    Every enabled egress address is in the view twice (its port, and any port), so
    `rows / 2` entries are enabled. Returns the view's row count.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE auth_config_ipauthentry e SET enabled = chosen.id IS NOT NULL
            FROM auth_config_ipauthentry a
            LEFT JOIN (
                SELECT id FROM auth_config_ipauthentry WHERE direction = 'egress'
                ORDER BY id LIMIT %s
            ) chosen ON chosen.id = a.id
            WHERE e.id = a.id AND e.direction = 'egress'
            """,
            [rows // 2],
        )
        cursor.execute("SELECT count(*) FROM switch_address")
        return cursor.fetchone()[0]
