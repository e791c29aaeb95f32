"""The floors the portal's pages are measured against, served by the same gunicorn."""

import json

from auditlog.context import disable_auditlog
from django.db import connection
from django.http import HttpResponse

from portal.models import hash_api_key

# The columns the API returns for an IP-auth entry, read the cheapest way there is.
FLOOR_COLUMNS = (
    "id, host, direction, channels, flow_speed, restricted_codecs, manufacturer, version, "
    "protocol, port, dial_pattern, cli_prefix, tech_prefix, strip_digits, bandwidth, "
    "force_from, uac_username, uac_password_encrypted <> '' AS uac_password_set, enabled, "
    "ARRAY(SELECT host(h.address) FROM auth_config_hostaddress h "
    "WHERE h.entry_id = auth_config_ipauthentry.id ORDER BY h.address) AS resolved_addresses, "
    "resolved_at, resolution_error, created_at, updated_at"
)
FLOOR_SQL = (
    f"SELECT {FLOOR_COLUMNS} FROM auth_config_ipauthentry WHERE customer_id = %s "
    "ORDER BY host, port, id LIMIT %s"
)


def floor_rows(cursor, customer_id, limit):
    """One raw query and json.dumps: the least any page of these rows can cost."""
    cursor.execute(FLOOR_SQL, [customer_id, limit])
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return json.dumps({"results": rows}, default=str)


def ip_auth_floor(request):
    with connection.cursor() as cursor:
        body = floor_rows(cursor, int(request.GET["customer"]), int(request.GET.get("limit", 100)))
    return HttpResponse(body, content_type="application/json")


# What an authenticated read of one entry cannot do without: find the key's customer (the key
# not revoked, its user and customer active), then read the row within that customer.
FLOOR_KEY_SQL = (
    "SELECT u.customer_id FROM portal_apikey k JOIN portal_user u ON u.id = k.user_id "
    "LEFT JOIN portal_customer c ON c.id = u.customer_id "
    "WHERE k.key_hash = %s AND k.revoked_at IS NULL AND u.is_active "
    "AND (c.id IS NULL OR c.active)"
)
FLOOR_ENTRY_SQL = (
    f"SELECT {FLOOR_COLUMNS} FROM auth_config_ipauthentry WHERE id = %s AND customer_id = %s"
)


def ip_auth_entry_floor(request, pk):
    """The API read of one entry done with two raw queries and json.dumps."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_KEY_SQL, [hash_api_key(token)])
        key = cursor.fetchone()
        if key is None:
            return HttpResponse(status=401)
        cursor.execute(FLOOR_ENTRY_SQL, [pk, key[0]])
        names = [column[0] for column in cursor.description]
        row = cursor.fetchone()
    if row is None:
        return HttpResponse(status=404)
    body = json.dumps(dict(zip(names, row, strict=True)), default=str)
    return HttpResponse(body, content_type="application/json")


def bare(request):
    return HttpResponse(b'{"ok": true}', content_type="application/json")


class AuditSwitchMiddleware:
    """`X-Bench-Audit: off` saves without audit entries, to price the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.headers.get("X-Bench-Audit") == "off":
            with disable_auditlog():
                return self.get_response(request)
        return self.get_response(request)
