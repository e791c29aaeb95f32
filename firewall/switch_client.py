"""The only code that talks to a switch: Kamailio's JSON-RPC over HTTP.

Kamailio answers a failed command with the HTTP status equal to the error code and a body
`{"error": {"code": ..., "message": ...}}`. Batch requests are not supported, so every call
is one POST. Errors are split in two so callers can decide what to retry:

- `SwitchUnreachable`: no answer (connection refused, timeout) or a 5xx. Try again later.
- `SwitchError`: the switch answered, but with something we cannot use (a 4xx, a body that
  is not JSON-RPC). Retrying the same call will not help until someone looks at it.
"""

import ipaddress
import itertools
import logging
import re

import requests

logger = logging.getLogger(__name__)

BAN_TABLE = "ipban"
DEFAULT_TIMEOUT = (3.0, 10.0)  # (connect, read) seconds

_request_ids = itertools.count(1)


class SwitchClientError(Exception):
    """Base of every failure talking to a switch."""


class SwitchUnreachable(SwitchClientError):
    """No usable answer now: connection error, timeout or a server error."""


class ReloadInProgress(SwitchUnreachable):
    """Kamailio refused an address reload because the previous one was too recent."""


class SwitchError(SwitchClientError):
    """The switch answered with an error that retrying will not fix."""


class DeleteOutcome:
    DELETED = "deleted"
    NOT_FOUND = "not_found"


class SwitchClient:
    def __init__(self, rpc_url, timeout=DEFAULT_TIMEOUT):
        self.rpc_url = rpc_url
        self.timeout = timeout
        self._session = requests.Session()
        # Switches are reached directly on a private network; an HTTP proxy from the
        # environment would only get in the way (or see the commands).
        self._session.trust_env = False

    def __repr__(self):
        return f"SwitchClient({self.rpc_url!r})"

    def call(self, method, *params):
        """Run one JSON-RPC command; return its result or raise a SwitchClientError."""
        payload = {"jsonrpc": "2.0", "method": method, "params": list(params)}
        payload["id"] = next(_request_ids)
        try:
            response = self._session.post(self.rpc_url, json=payload, timeout=self.timeout)
        except requests.Timeout as exc:
            raise SwitchUnreachable(f"{method}: no answer within {self._read_timeout()} s") from exc
        except requests.RequestException as exc:
            raise SwitchUnreachable(f"{method}: cannot connect ({_short(exc)})") from exc

        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if error is not None or response.status_code >= 400:
            code, message = _error_details(error, response)
            raise self._error_for(method, code, message, response.status_code)
        if not isinstance(body, dict) or "result" not in body:
            raise SwitchError(f"{method}: the answer is not a JSON-RPC result")
        return body["result"]

    def dump_bans(self):
        """The node's whole ban table as {canonical IP: reason code}."""
        buckets = self.call("htable.dump", BAN_TABLE)
        return parse_ban_dump(buckets)

    def delete_ban(self, ip):
        """Lift the ban on `ip`. A key that is already gone counts as done (NOT_FOUND)."""
        try:
            self.call("htable.delete", BAN_TABLE, str(ipaddress.ip_address(ip)))
        except SwitchError as exc:
            # Only the htable's own answer counts: a 404 from a wrong URL path must not pass
            # for a lifted ban.
            if getattr(exc, "code", None) == 404 and "key not found" in str(exc).lower():
                return DeleteOutcome.NOT_FOUND
            raise
        return DeleteOutcome.DELETED

    def reload_addresses(self):
        """Make the node re-read the authorised addresses (permissions module)."""
        return self.call("permissions.addressReload")

    def _read_timeout(self):
        return self.timeout[1] if isinstance(self.timeout, tuple) else self.timeout

    @staticmethod
    def _error_for(method, code, message, status):
        text = f"{method}: {code} {message}".strip()
        lowered = message.lower()
        if "ongoing reload" in lowered:
            exc = ReloadInProgress(text)
        elif "method not found" in lowered:
            # The module is not loaded: a configuration problem, not a passing outage.
            exc = SwitchError(text)
        elif status >= 500 or (isinstance(code, int) and code >= 500):
            exc = SwitchUnreachable(text)
        else:
            exc = SwitchError(text)
        exc.code = code
        return exc


def parse_ban_dump(buckets):
    """Turn an `htable.dump` answer (buckets, each with a `slot` list) into {ip: reason}.

    An empty table may come back as an empty list or no result at all. Keys that are not IP
    addresses are not ours to manage and are left out (and logged).
    """
    if buckets in (None, "", {}):
        return {}
    if isinstance(buckets, dict):
        buckets = [buckets]
    if not isinstance(buckets, list):
        raise SwitchError("htable.dump: unexpected answer shape")
    bans = {}
    for bucket in buckets:
        slots = bucket.get("slot", []) if isinstance(bucket, dict) else None
        if isinstance(slots, dict):
            slots = [slots]
        if not isinstance(slots, list):
            raise SwitchError("htable.dump: a bucket without a slot list")
        for item in slots:
            if not isinstance(item, dict) or "name" not in item:
                raise SwitchError("htable.dump: a slot without a name")
            try:
                ip = str(ipaddress.ip_address(str(item["name"]).strip()))
            except ValueError:
                logger.warning("Ignoring ban key that is not an IP address: %r", item["name"])
                continue
            value = item.get("value", "")
            bans[ip] = "" if value is None else str(value)
    return bans


def _error_details(error, response):
    if isinstance(error, dict):
        code = error.get("code", response.status_code)
        message = str(error.get("message", "")).strip()
    else:
        code = response.status_code
        message = response.reason or ""
    return code, message


def _short(exc):
    text = str(exc)
    # requests wraps the socket error several layers deep; the OS's words are what help.
    cause = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if cause:
        return cause.group(1).strip().lower()
    return text if len(text) <= 200 else text[:197] + "..."
