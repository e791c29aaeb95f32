"""Parsing of the addresses customers type: IPs, CIDR ranges and hostnames.

Every function returns the canonical form or raises ValidationError with a message a
customer can act on; nothing else escapes.
"""

import ipaddress
import re

import idna
from django.core.exceptions import ValidationError

HOSTNAME_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# A range wider than this would authorise a large part of the internet to call on a
# customer's account.
MIN_PREFIX = {4: 16, 6: 32}


def _hostname(value):
    name = value.rstrip(".")
    if not name.isascii():
        # IDNA 2008 with UTS #46 mapping, as browsers and resolvers use; Python's own codec
        # implements IDNA 2003, which accepts symbols such as "☎".
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise ValidationError(f"“{value}” is not a valid hostname.", code="invalid") from None
    labels = name.split(".")
    if len(name) > 253 or not all(HOSTNAME_LABEL.match(label) for label in labels):
        raise ValidationError(
            f"“{value}” is neither an IP address nor a valid hostname.", code="invalid"
        )
    if len(labels) < 2:
        raise ValidationError(
            f"“{value}” is not a fully qualified hostname (for example pbx.example.com).",
            code="invalid",
        )
    if labels[-1].isdigit():
        raise ValidationError(f"“{value}” is not a valid IP address.", code="invalid")
    return name


def _network(value):
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        try:
            corrected = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValidationError(f"“{value}” is not a valid CIDR range.", code="invalid") from None
        raise ValidationError(
            f"“{value}” has host bits set; did you mean {corrected}?", code="host_bits"
        ) from None
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise ValidationError(
            f"“{value}” is too wide; the widest range allowed is "
            f"/{MIN_PREFIX[network.version]} for IPv{network.version}.",
            code="too_wide",
        )
    return network


def normalize_address(raw, *, allow_cidr=True, allow_hostname=True):
    """Canonical form of one IP address, CIDR range or hostname.

    A single-address range (/32 or /128) becomes the plain address.
    """
    if not isinstance(raw, str):
        raise ValidationError("Enter an address as text.", code="invalid")
    value = raw.strip().lower()
    if not value:
        raise ValidationError("Enter an IP address or hostname.", code="required")
    if any(ch.isspace() for ch in value):
        raise ValidationError(f"“{raw.strip()}” contains spaces.", code="invalid")
    if "/" in value:
        address_part = value.split("/", 1)[0]
        try:
            ipaddress.ip_address(address_part)
        except ValueError:
            raise ValidationError(f"“{value}” is not a valid CIDR range.", code="invalid") from None
        network = _network(value)
        if network.num_addresses == 1:
            return str(network.network_address)
        if not allow_cidr:
            raise ValidationError(
                f"“{value}” is a range; a range can only be authorised to send calls "
                "(egress), we cannot send calls to a range.",
                code="cidr_not_allowed",
            )
        return str(network)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if not allow_hostname or ":" in value:
        raise ValidationError(f"“{value}” is not a valid IP address.", code="invalid")
    return _hostname(value)


def normalize_whitelist_entry(raw):
    return normalize_address(raw, allow_cidr=True, allow_hostname=False)


def split_addresses(text):
    """Addresses typed one per line (commas and spaces also separate them), de-duplicated."""
    seen = []
    for token in re.split(r"[\s,;]+", text or ""):
        if token and token not in seen:
            seen.append(token)
    return seen
