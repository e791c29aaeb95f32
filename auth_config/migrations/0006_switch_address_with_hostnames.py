"""switch_address (migration 0002) with the addresses of egress hostnames.

Kamailio matches the packet's source address and does no DNS lookups, so the portal looks
each enabled egress hostname up before every sync (auth_config.services.
refresh_host_addresses) and keeps the answers in auth_config_hostaddress; the view hands
them to the switch as /32 (or /128) rows carrying the hostname entry's port, limits and tag.

Row ids: an IP entry's rows stay 2 * id and 2 * id + 1 (groups 1 and 2); a resolved
address's rows are -2 * id and -2 * id + 1, so the two kinds never share an id.

PostgreSQL only, like 0002.
"""

import importlib

from django.db import migrations

previous = importlib.import_module("auth_config.migrations.0002_switch_views")

ADDRESS_VIEW = """
CREATE VIEW switch_address AS
WITH authorised AS (
    SELECT CAST(e.id AS bigint) * 2 AS row_id, e.id, CAST(e.host AS inet) AS net, e.port,
           e.protocol, e.channels, e.flow_speed
    FROM auth_config_ipauthentry e
    JOIN portal_customer c ON c.id = e.customer_id
    WHERE e.direction = 'egress' AND e.enabled AND c.active
      AND (e.host ~ '^[0-9.]+(/[0-9]+)?$' OR strpos(e.host, ':') > 0)
    UNION ALL
    SELECT CAST(h.id AS bigint) * -2, e.id, h.address, e.port, e.protocol, e.channels,
           e.flow_speed
    FROM auth_config_hostaddress h
    JOIN auth_config_ipauthentry e ON e.id = h.entry_id
    JOIN portal_customer c ON c.id = e.customer_id
    WHERE e.direction = 'egress' AND e.enabled AND c.active
)
SELECT CAST(a.row_id AS integer) AS id,
       CAST(1 AS integer) AS grp,
       CAST(host(a.net) AS varchar(50)) AS ip_addr,
       CAST(masklen(a.net) AS integer) AS mask,
       CAST(CASE WHEN a.protocol = 'udp' THEN a.port ELSE 0 END AS integer) AS port,
       CAST(a.id || ':' || a.channels || ':' || a.flow_speed AS varchar(64)) AS tag
FROM authorised a
UNION ALL
SELECT CAST(a.row_id + 1 AS integer),
       CAST(2 AS integer),
       CAST(host(a.net) AS varchar(50)),
       CAST(masklen(a.net) AS integer),
       CAST(0 AS integer),
       CAST(a.id || ':' || a.channels || ':' || a.flow_speed AS varchar(64))
FROM authorised a
"""


class Migration(migrations.Migration):
    dependencies = [
        ("auth_config", "0005_host_addresses"),
    ]

    operations = [
        previous.PostgresOnlyRunSQL(
            sql=["DROP VIEW switch_address", ADDRESS_VIEW],
            reverse_sql=["DROP VIEW switch_address", previous.ADDRESS_VIEW],
        ),
    ]
