"""DNS lookups of egress hostnames: the only code here that asks a name server anything.

The switches match a caller's source address and do no DNS of their own, so the portal
looks each egress hostname up and hands the switches the addresses it has now.
"""

from dataclasses import dataclass

import dns.exception
import dns.resolver
from django.conf import settings


@dataclass(frozen=True)
class Lookup:
    """What a name resolved to. `addresses` is None when the answer is unknown (a timeout, a
    failing server): the caller then keeps what it had, rather than cut a customer off."""

    addresses: frozenset | None
    error: str = ""


def _resolver():
    resolver = dns.resolver.Resolver(configure=settings.DNS_NAMESERVER is None)
    if settings.DNS_NAMESERVER is not None:
        address, port = settings.DNS_NAMESERVER
        resolver.nameservers = [address]
        resolver.port = port
    resolver.lifetime = settings.DNS_TIMEOUT
    return resolver


def lookup(name):
    """The IPv4 and IPv6 addresses `name` has now."""
    resolver = _resolver()
    addresses = set()
    for record_type in ("A", "AAAA"):
        try:
            answer = resolver.resolve(name, record_type, search=False)
        except dns.resolver.NXDOMAIN:
            return Lookup(frozenset(), f"{name} does not exist in DNS.")
        except dns.resolver.NoAnswer:
            continue
        except dns.resolver.YXDOMAIN:
            return Lookup(frozenset(), f"{name} is too long to look up.")
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            return Lookup(None, f"Looking up {name} failed: {_short(exc)}")
        addresses.update(record.address for record in answer)
    if not addresses:
        return Lookup(frozenset(), f"{name} has no IPv4 or IPv6 address in DNS.")
    return Lookup(frozenset(addresses))


def _short(exc):
    if isinstance(exc, dns.exception.Timeout):
        return "no name server answered in time."
    return "the name servers could not answer."
