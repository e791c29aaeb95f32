"""Every write to IP-auth entries and SIP users goes through here.

Views, API views, admin actions and commands call these functions; each validates in full
(model `clean()` plus constraints), saves atomically, writes the audit trail under the
caller's name and asks for a switch sync once the change has committed.
"""

import ipaddress
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.audit import acting_as

from . import resolver
from .models import (
    DEFAULT_SIP_PORT,
    DEFAULT_TLS_PORT,
    HOSTNAME_ENTRIES,
    TLS_PROTOCOLS,
    Direction,
    HostAddress,
    IpAuthEntry,
    SipUser,
    overlaps_another_customers_egress,
)

# Names looked up at once before a sync: lookups wait on the network, not on this process.
PARALLEL_LOOKUPS = 16

SIP_PASSWORD_MIN = 12
SIP_PASSWORD_MAX = 128
_sip_password_validators = [
    password_validation.MinimumLengthValidator(SIP_PASSWORD_MIN),
    password_validation.CommonPasswordValidator(),
    password_validation.NumericPasswordValidator(),
]

_switch_sync_hooks = []


@dataclass(frozen=True)
class SwitchDataChange:
    """What a committed change means for the switches; handed to each hook.

    `addresses`: IP-auth entries changed, so the switches' address tables need a reload.
    `authorised_hosts`: hosts that are now enabled egress entries. Only blocks of these
    addresses can have become liftable, so the hook looks at them alone rather than at
    every open block (thousands, on a busy switch).
    """

    addresses: bool = False
    authorised_hosts: tuple = ()


def on_switch_data_changed(callback):
    """Register `callback(change)`, run after a commit that changed what a switch enforces."""
    _switch_sync_hooks.append(callback)
    return callback


def _after_commit_sync(change):
    for hook in _switch_sync_hooks:
        transaction.on_commit(partial(hook, change))


def _ip_entries_changed(entries=()):
    return SwitchDataChange(
        addresses=True,
        authorised_hosts=tuple(
            entry.host for entry in entries if entry.enabled and entry.direction == Direction.EGRESS
        ),
    )


def _check_staff_only(instance, fields, user):
    if user.is_staff:
        return
    refused = {
        name: "Only operator staff can change this field; please contact support."
        for name in instance.STAFF_ONLY_FIELDS
        if name in fields and fields[name] != getattr(instance, name)
    }
    if refused:
        raise ValidationError(refused)


def _customer_for(user, customer):
    """Customers act for their own customer; staff must say which one."""
    if not user.is_staff:
        return user.customer
    if customer is None:
        raise ValidationError({"customer": "Choose the customer this entry belongs to."})
    return customer


def _save(instance):
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        # Another request won the race past full_clean(); report it as validation failure.
        message = "This entry clashes with one saved a moment ago; reload and try again."
        raise ValidationError({"__all__": ValidationError(message, code="conflict")}) from exc


def _apply_ip_fields(entry, fields):
    fields = dict(fields)
    password = fields.pop("uac_password", None)
    port_given = fields.get("port") not in (None, "")
    if not port_given:
        fields.pop("port", None)
    for name, value in fields.items():
        setattr(entry, name, value)
    if not port_given and (entry.pk is None or "protocol" in fields):
        entry.port = DEFAULT_TLS_PORT if entry.protocol in TLS_PROTOCOLS else DEFAULT_SIP_PORT
    if password is not None:
        entry.set_uac_password(password)


def validate_sip_password(password, sip_user=None):
    if not isinstance(password, str):
        raise ValidationError({"password": "Enter the password as text."})
    errors = []
    if len(password) > SIP_PASSWORD_MAX:
        errors.append(f"The password may be at most {SIP_PASSWORD_MAX} characters long.")
    try:
        password_validation.validate_password(
            password, sip_user, password_validators=_sip_password_validators
        )
    except ValidationError as exc:
        errors.extend(exc.messages)
    if errors:
        raise ValidationError({"password": errors})


def generate_sip_password():
    return secrets.token_urlsafe(18)


def create_ip_auth_entries(*, user, hosts, fields, customer=None):
    """Create one entry per host, all or none. Errors name the host they concern."""
    customer = _customer_for(user, customer)
    if not hosts:
        raise ValidationError({"host": "Enter at least one IP address or hostname."})
    probe = IpAuthEntry(customer=customer)
    _check_staff_only(probe, fields, user)
    created = []
    errors = {}
    with acting_as(user), transaction.atomic():
        for host in hosts:
            entry = IpAuthEntry(customer=customer)
            try:
                _apply_ip_fields(entry, {**fields, "host": host})
                _save(entry)
            except ValidationError as exc:
                # Report every bad host at once; the block still rolls back as a whole.
                _merge_errors(errors, exc)
                continue
            created.append(entry)
        if errors:
            raise ValidationError(errors)
        _after_commit_sync(_ip_entries_changed(created))
    return created


def _merge_errors(errors, exc):
    for field, field_errors in exc.update_error_dict({}).items():
        known = errors.setdefault(field, [])
        for error in field_errors:
            if all(list(error) != list(seen) for seen in known):
                known.append(error)


def update_ip_auth_entry(*, user, entry, fields):
    _check_staff_only(entry, fields, user)
    with acting_as(user), transaction.atomic():
        entry = IpAuthEntry.objects.select_for_update().get(pk=entry.pk)
        host_before = entry.host
        _apply_ip_fields(entry, fields)
        if entry.host != host_before:
            # The old name's addresses are not the new name's; the queued sync looks it up.
            entry.resolved_at, entry.resolution_error = None, ""
            entry.resolved_addresses.all().delete()
        _save(entry)
        _after_commit_sync(_ip_entries_changed([entry]))
    return entry


def delete_ip_auth_entries(*, user, entries):
    """Delete the given entries (already scoped to the caller); returns how many."""
    with acting_as(user), transaction.atomic():
        doomed = list(entries.select_for_update())
        for entry in doomed:
            entry.delete()  # one by one, so each deletion has its audit entry
        _after_commit_sync(_ip_entries_changed())
    return len(doomed)


def create_sip_user(*, user, fields, password=None, customer=None):
    """Create a SIP user. Without a password one is generated; returns (sip_user, generated)."""
    customer = _customer_for(user, customer)
    sip_user = SipUser(customer=customer, realm=customer.sip_realm)
    _check_staff_only(sip_user, fields, user)
    for name, value in fields.items():
        setattr(sip_user, name, value)
    generated = None
    if password in (None, ""):
        password = generated = generate_sip_password()
    validate_sip_password(password, sip_user)
    sip_user.set_password(password)
    sip_user.password_changed_at = timezone.now()
    with acting_as(user), transaction.atomic():
        _save(sip_user)
        _after_commit_sync(SwitchDataChange())
    return sip_user, generated


def update_sip_user(*, user, sip_user, fields):
    _check_staff_only(sip_user, fields, user)
    if "username" in fields and fields["username"] != sip_user.username:
        # The digests cover the username, so the old ones would no longer authenticate.
        raise ValidationError(
            {"username": "The username cannot be changed; create a new SIP user instead."}
        )
    with acting_as(user), transaction.atomic():
        sip_user = SipUser.objects.select_for_update().get(pk=sip_user.pk)
        for name, value in fields.items():
            setattr(sip_user, name, value)
        _save(sip_user)
        _after_commit_sync(SwitchDataChange())
    return sip_user


def update_sip_user_and_password(*, user, sip_user, fields, password=None):
    """Change the settings and the password as one change: both are saved or neither.

    The password is the given one, or a generated one; returns (sip_user, generated or None).
    """
    with transaction.atomic():
        sip_user = update_sip_user(user=user, sip_user=sip_user, fields=fields)
        generated = set_sip_user_password(user=user, sip_user=sip_user, password=password)
    sip_user.refresh_from_db()
    return sip_user, generated


def set_sip_user_password(*, user, sip_user, password=None):
    """Set the given password, or generate one; returns the generated password or None."""
    generated = None
    if password in (None, ""):
        password = generated = generate_sip_password()
    validate_sip_password(password, sip_user)
    with acting_as(user), transaction.atomic():
        sip_user = SipUser.objects.select_for_update().get(pk=sip_user.pk)
        sip_user.set_password(password)
        sip_user.password_changed_at = timezone.now()
        _save(sip_user)
        _after_commit_sync(SwitchDataChange())
    return generated


def delete_sip_users(*, user, sip_users):
    with acting_as(user), transaction.atomic():
        doomed = list(sip_users.select_for_update())
        for sip_user in doomed:
            sip_user.delete()
        _after_commit_sync(SwitchDataChange())
    return len(doomed)


def customer_access_changed(customer):
    """After a customer was enabled, disabled or deleted (in the admin).

    The switches' views carry only active customers' entries and users, so the address
    tables need a reload; re-enabled entries may lift blocks made in the meantime.
    """
    entries = ()
    if customer.pk is not None and customer.active:
        entries = customer.ipauthentry_set.all()
    _after_commit_sync(_ip_entries_changed(entries))


def refresh_host_addresses():
    """Look up every enabled egress hostname and store the addresses each has now.

    Run before every sync (firewall.services.sync_all). A lookup that fails without an answer
    (a timeout) keeps the addresses found before; a name that no longer exists loses them.
    Returns whether any entry's addresses changed, so that the switches reload.
    """
    entries = list(
        IpAuthEntry.objects.filter(
            HOSTNAME_ENTRIES, direction=Direction.EGRESS, enabled=True, customer__active=True
        )
        # The oldest entry keeps an address two customers' names share.
        .order_by("id")
        .only("id", "host", "port", "tech_prefix", "customer_id")
    )
    stale = HostAddress.objects.exclude(entry_id__in=[entry.pk for entry in entries]).delete()[0]
    known = {}
    for entry_id, address in HostAddress.objects.values_list("entry_id", "address"):
        known.setdefault(entry_id, set()).add(address)
    with ThreadPoolExecutor(max_workers=PARALLEL_LOOKUPS) as pool:
        lookups = list(pool.map(lambda entry: resolver.lookup(entry.host), entries))
    changed = bool(stale)
    now = timezone.now()
    for entry, found in zip(entries, lookups, strict=True):
        had = known.get(entry.pk, set())
        with transaction.atomic():
            addresses, error = _accepted_addresses(entry, found)
            if addresses is not None and addresses != had:
                HostAddress.objects.filter(entry=entry).exclude(address__in=addresses).delete()
                HostAddress.objects.bulk_create(
                    [HostAddress(entry=entry, address=a) for a in addresses - had],
                    ignore_conflicts=True,
                )
                changed = True
            IpAuthEntry.objects.filter(pk=entry.pk).update(resolved_at=now, resolution_error=error)
    return changed


def _accepted_addresses(entry, found):
    """The looked-up addresses the entry may have, and what to tell the customer.

    A name pointed at another customer's address must not take that customer's calls: such
    addresses are left out, as an address entry overlapping theirs would be refused.
    """
    if found.addresses is None:
        return None, found.error
    taken = sorted(
        address
        for address in found.addresses
        if overlaps_another_customers_egress(
            ipaddress.ip_network(address),
            port=entry.port,
            tech_prefix=entry.tech_prefix,
            customer_id=entry.customer_id,
        )
    )
    if not taken:
        return found.addresses, found.error
    message = (
        f"{', '.join(taken)} {'is' if len(taken) == 1 else 'are'} registered to another "
        "account, so calls from there are not accepted for this entry. Contact support if "
        "the address is yours."
    )
    return found.addresses - set(taken), message
