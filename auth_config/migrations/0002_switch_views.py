"""SQL views the reference Kamailio switch reads (deploy/kamailio/kamailio.cfg).

Kamailio rejects rows whose column types it does not know (bigint ids, text), so every
column is cast to the type of Kamailio's own schema. The names carry a `switch_` prefix so
they can never clash with Django's `<app>_<model>` tables; the switch is pointed at them by
module parameters and the core `version_table` setting.

PostgreSQL only: on any other database (`make run` uses SQLite) this migration does nothing.

PostgreSQL refuses to change the type of a column a view reads: a later migration that alters
such a column must drop the affected view first and create it again afterwards.
"""

from django.db import migrations

# Egress entries with an IP address or CIDR range. Hostnames are left out: Kamailio matches
# the packet's source address and does no DNS lookups. Canonical IPv4 text is digits and dots
# only (hostnames may not end in a numeric label) and only IPv6 contains ':'.
#
# grp 1: the entry's address and port, as the customer registered it. TCP and TLS clients
# send from an ephemeral port, so for them any port matches (0).
# grp 2: the same addresses with any port: a known customer address calling from a port it
# did not register is refused, but never banned.
#
# tag = "<entry id>:<channels>:<flow speed>", so the script can enforce the entry's limits
# without a database query per call. Limits change on the next address reload.
ADDRESS_VIEW = """
CREATE VIEW switch_address AS
WITH authorised AS (
    SELECT e.id, CAST(e.host AS inet) AS net, e.port, e.protocol, e.channels, e.flow_speed
    FROM auth_config_ipauthentry e
    JOIN portal_customer c ON c.id = e.customer_id
    WHERE e.direction = 'egress' AND e.enabled AND c.active
      AND (e.host ~ '^[0-9.]+(/[0-9]+)?$' OR strpos(e.host, ':') > 0)
)
SELECT CAST(a.id * 2 AS integer) AS id,
       CAST(1 AS integer) AS grp,
       CAST(host(a.net) AS varchar(50)) AS ip_addr,
       CAST(masklen(a.net) AS integer) AS mask,
       CAST(CASE WHEN a.protocol = 'udp' THEN a.port ELSE 0 END AS integer) AS port,
       CAST(a.id || ':' || a.channels || ':' || a.flow_speed AS varchar(64)) AS tag
FROM authorised a
UNION ALL
SELECT CAST(a.id * 2 + 1 AS integer),
       CAST(2 AS integer),
       CAST(host(a.net) AS varchar(50)),
       CAST(masklen(a.net) AS integer),
       CAST(0 AS integer),
       CAST(a.id || ':' || a.channels || ':' || a.flow_speed AS varchar(64))
FROM authorised a
"""

# Digest credentials of enabled SIP users of active customers. Only HA1 digests exist (the
# portal never stores a password); `ha1_sha256` is used by a switch running SHA-256
# (RFC 8760). channels, flow_speed and whitelist_size are loaded with the credentials.
SUBSCRIBER_VIEW = """
CREATE VIEW switch_subscriber AS
SELECT CAST(u.id AS integer) AS id,
       CAST(u.username AS varchar(64)) AS username,
       CAST(u.realm AS varchar(128)) AS domain,
       CAST(u.ha1 AS varchar(64)) AS ha1,
       CAST(u.ha1b AS varchar(64)) AS ha1b,
       CAST(u.ha1_sha256 AS varchar(64)) AS ha1_sha256,
       CAST(u.channels AS integer) AS channels,
       CAST(u.flow_speed AS integer) AS flow_speed,
       CAST(CASE WHEN jsonb_typeof(u.whitelist) = 'array'
                 THEN jsonb_array_length(u.whitelist) ELSE -1 END AS integer) AS whitelist_size
FROM auth_config_sipuser u
JOIN portal_customer c ON c.id = u.customer_id
WHERE u.enabled AND c.active AND u.ha1 <> '' AND u.ha1_sha256 <> ''
"""

# One row per whitelist address or range of a SIP user (normalised by the portal).
WHITELIST_VIEW = """
CREATE VIEW switch_sip_whitelist AS
SELECT CAST(u.id AS integer) AS sip_user_id,
       CAST(w.cidr AS varchar(64)) AS cidr
FROM auth_config_sipuser u
CROSS JOIN LATERAL jsonb_array_elements_text(
    CASE WHEN jsonb_typeof(u.whitelist) = 'array' THEN u.whitelist ELSE '[]'::jsonb END
) AS w(cidr)
"""

# The bans Kamailio loads into its `ipban` htable at start: open blocking episodes that no
# unblock request is lifting or has lifted, so a restart keeps bans and never brings back a
# lifted one. Flood bans are temporary on the switch and are not restored.
IPBAN_VIEW = """
CREATE VIEW switch_ipban AS
SELECT CAST(min(b.id) AS integer) AS id,
       CAST(host(b.ip) AS varchar(64)) AS key_name,
       CAST(0 AS integer) AS key_type,
       CAST(0 AS integer) AS value_type,
       CAST(min(CASE WHEN b.reason = 'auth_failures' THEN 'auth_failures'
                     ELSE 'unauthorised' END) AS varchar(64)) AS key_value,
       CAST(0 AS integer) AS expires
FROM firewall_blockedip b
WHERE b.cleared_at IS NULL
  AND b.reason <> 'flood'
  AND NOT EXISTS (
      SELECT 1 FROM firewall_unblockrequest r
      WHERE r.blocked_ip_id = b.id
        AND r.state IN ('pending', 'applied', 'retrying', 'verified')
  )
GROUP BY host(b.ip)
"""

# Kamailio checks the schema version of the tables it reads; these are the versions of the
# Kamailio 5.x `address` and `subscriber` tables whose columns the views reproduce.
VERSION_VIEW = """
CREATE VIEW switch_version AS
SELECT CAST('switch_address' AS varchar(32)) AS table_name, CAST(6 AS integer) AS table_version
UNION ALL
SELECT CAST('switch_subscriber' AS varchar(32)), CAST(7 AS integer)
"""

VIEWS = {
    "switch_address": ADDRESS_VIEW,
    "switch_subscriber": SUBSCRIBER_VIEW,
    "switch_sip_whitelist": WHITELIST_VIEW,
    "switch_ipban": IPBAN_VIEW,
    "switch_version": VERSION_VIEW,
}


class PostgresOnlyRunSQL(migrations.RunSQL):
    """RunSQL that does nothing on databases other than PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("auth_config", "0001_initial"),
        ("firewall", "0001_initial"),
        ("portal", "0001_initial"),
    ]

    operations = [
        PostgresOnlyRunSQL(sql=create, reverse_sql=f"DROP VIEW IF EXISTS {name}")
        for name, create in VIEWS.items()
    ]
