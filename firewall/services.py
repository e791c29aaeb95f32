"""Firewall writes and the switch sync (design section 6; docs/firewall.md).

Every change to blocks, unblock requests and switch nodes goes through here. The sync never
keeps a database transaction open while it talks to a switch: it claims the node with a lease
(a conditional UPDATE, atomic on every database), reads the ban table, does its bookkeeping
in short transactions, and sends deletes and reloads between them.
"""

import ipaddress
import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import BooleanField, CharField, Exists, F, Func, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from auth_config import services as auth_services
from auth_config.models import Direction, HostAddress, IpAuthEntry, SipUser

from . import switch_client
from .models import (
    OPEN_UNBLOCK_STATES,
    BanReason,
    BlockedIp,
    SwitchNode,
    SyncOutcome,
    SyncRun,
    UnblockRequest,
    UnblockState,
)

logger = logging.getLogger(__name__)

# Unanswered deletes in a row after which the rest of a batch waits for the next run, so a
# node that dies mid-run does not cost one timeout per pending unblock.
MAX_UNANSWERED_IN_A_ROW = 3
# How long after a change its queued run is expected to have happened.
QUEUED_RUN_GRACE = timedelta(minutes=2)
# A ban this soon after an automatic lift of the same IP means the lift did not help.
RELAPSE_WINDOW = timedelta(days=1)


class LeaseLost(Exception):
    """This run's claim on the node ran out and another run took the node over."""


def _setting(name, default):
    return getattr(settings, name, default)


def _lease_duration():
    return timedelta(seconds=_setting("SWITCH_SYNC_LEASE", 600))


def _client_for(node):
    timeout = (_setting("SWITCH_CONNECT_TIMEOUT", 3.0), _setting("SWITCH_READ_TIMEOUT", 10.0))
    return switch_client.SwitchClient(node.rpc_url, timeout=timeout)


# --- nodes -------------------------------------------------------------------------------


def register_node(name, rpc_url):
    """Add a switch node; raises ValidationError naming the field on bad input."""
    node = SwitchNode(name=(name or "").strip(), rpc_url=(rpc_url or "").strip())
    node.full_clean()
    try:
        with transaction.atomic():
            node.save()
    except IntegrityError as exc:
        raise ValidationError({"name": "A switch node with this name already exists."}) from exc
    transaction.on_commit(lambda: queue_sync(force=True))
    return node


def set_node_enabled(node, enabled):
    """Take a node out of the sync (its bans stay as they are) or bring it back."""
    SwitchNode.objects.filter(pk=node.pk).update(enabled=bool(enabled))
    node.enabled = bool(enabled)
    if enabled:
        transaction.on_commit(lambda: queue_sync(force=True))
    return node


# --- the lease -----------------------------------------------------------------------------


def _claim(node):
    now = timezone.now()
    token = secrets.token_hex(16)
    claimed = (
        SwitchNode.objects.filter(pk=node.pk)
        .filter(Q(sync_claimed_until__isnull=True) | Q(sync_claimed_until__lt=now))
        .update(sync_claim=token, sync_claimed_until=now + _lease_duration())
    )
    return token if claimed else None


def _renew(node, token):
    renewed = SwitchNode.objects.filter(pk=node.pk, sync_claim=token).update(
        sync_claimed_until=timezone.now() + _lease_duration()
    )
    if not renewed:
        raise LeaseLost(f"The claim on {node} ran out; another run has taken the node over.")


def _release(node, token):
    SwitchNode.objects.filter(pk=node.pk, sync_claim=token).update(
        sync_claim="", sync_claimed_until=None
    )


# --- the sync ------------------------------------------------------------------------------


def sync_all():
    """Sync every enabled node, one after the other; one node's trouble never stops the rest.

    Egress hostnames are looked up first: the switches match addresses, never names.
    """
    retention = timedelta(days=_setting("SWITCH_SYNC_RUN_RETENTION_DAYS", 30))
    SyncRun.objects.filter(started_at__lt=timezone.now() - retention).delete()
    try:
        if auth_services.refresh_host_addresses():
            SwitchNode.objects.filter(address_reload_pending=False).update(
                address_reload_pending=True
            )
    except Exception:
        logger.exception("Looking up egress hostnames failed; the switches keep their addresses")
    runs = []
    for node in SwitchNode.objects.filter(enabled=True):
        try:
            run = sync_node(node)
            logger.info("Switch sync: %s", run.summary)
            runs.append(run)
        except Exception:
            logger.exception("Sync of switch node %s stopped by an unexpected error", node)
            runs.append(SyncRun.objects.filter(node=node).first())
    return runs


def sync_node(node, *, passes=3):
    """Bring one node and the database in line; returns the SyncRun that records it.

    A run that finds the node busy leaves a note (`sync_again`) instead of waiting, and the
    busy run makes one more pass when it is done, so a change committed during a run is not
    left for the next scheduled one. `passes` bounds how often that happens in a row.
    """
    token = _claim(node)
    if token is None:
        SwitchNode.objects.filter(pk=node.pk).update(sync_again=True)
        # The busy run may have finished between the two steps; then this one does the work.
        token = _claim(node)
        if token is None:
            return SyncRun.objects.create(
                node=node,
                outcome=SyncOutcome.SKIPPED,
                finished_at=timezone.now(),
                error="Another sync run was working on this node; it makes one more pass "
                "for this one.",
            )
    run = None
    try:
        SwitchNode.objects.filter(pk=node.pk).update(sync_again=False)
        # Holding the claim means no other run is alive on this node: a "running" run left
        # behind belongs to a worker that stopped.
        SyncRun.objects.filter(node=node, outcome=SyncOutcome.RUNNING).update(
            outcome=SyncOutcome.FAILED,
            finished_at=timezone.now(),
            error="Interrupted before it finished (the worker stopped).",
        )
        run = SyncRun.objects.create(node=node)
        _sync_claimed_node(node, run, token)
    except Exception as exc:
        if run is not None:
            SyncRun.objects.filter(pk=run.pk).update(
                outcome=SyncOutcome.FAILED,
                finished_at=timezone.now(),
                error=f"Interrupted by an internal error: {exc.__class__.__name__}: {exc}",
            )
        raise
    finally:
        _release(node, token)
    if passes > 1 and SwitchNode.objects.filter(pk=node.pk, sync_again=True).exists():
        return sync_node(node, passes=passes - 1)
    run.refresh_from_db()
    return run


def _sync_claimed_node(node, run, token):
    client = _client_for(node)
    SwitchNode.objects.filter(pk=node.pk).update(last_attempt_at=timezone.now())
    try:
        bans = client.dump_bans()
    except switch_client.SwitchClientError as exc:
        _record_unreachable(node, run, exc)
        return

    with transaction.atomic():
        _renew(node, token)
        counts = _reconcile(node, bans)
        lift_unauthorised_blocks(node=node)
        to_send = list(
            UnblockRequest.objects.filter(
                blocked_ip__node=node,
                blocked_ip__cleared_at__isnull=True,
                state__in=[UnblockState.PENDING, UnblockState.RETRYING],
            )
            .select_related("blocked_ip")
            .order_by("requested_at", "id")
        )

    # Reload first: an address just authorised must be known to the switch before its
    # "unauthorised" ban goes, or its next call would be banned again.
    problems = []
    reload_error = _reload_if_pending(node, client)
    if reload_error:
        problems.append(reload_error)
    outcomes = _send_deletes(client, to_send)
    _renew(node, token)
    _record_delete_outcomes(node, run, counts, outcomes, problems)


def _record_unreachable(node, run, exc):
    now = timezone.now()
    message = str(exc)
    SwitchNode.objects.filter(pk=node.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        last_error=message,
        failing_since=Coalesce(F("failing_since"), now),
    )
    run.outcome = SyncOutcome.FAILED
    run.error = message
    run.finished_at = now
    run.save(update_fields=["outcome", "error", "finished_at"])


class _OwnerMatcher:
    """Which customer an IP belongs to: their IP-auth entries first, then SIP whitelists."""

    def __init__(self, ips, *, egress_only=False):
        self.exact = {}
        self.networks = []
        self.groups = {}
        ips = list(ips)
        if not ips:
            return
        entries = IpAuthEntry.objects.filter(enabled=True)
        if egress_only:
            entries = entries.filter(direction=Direction.EGRESS)
        # An egress entry's address is unique across customers, so it decides first.
        for host, customer_id, direction in entries.filter(host__in=ips).values_list(
            "host", "customer_id", "direction"
        ):
            if host not in self.exact or direction == Direction.EGRESS:
                self.exact[host] = customer_id
        # Then the addresses egress hostnames had at their last lookup: few, so read whole
        # rather than named in a query with thousands of blocked IPs.
        wanted = set(ips)
        for address, customer_id in _resolved_egress_addresses().values_list(
            "address", "entry__customer_id"
        ):
            if _canonical(address) in wanted:
                self.exact.setdefault(_canonical(address), customer_id)
        for host, customer_id in entries.filter(host__contains="/").values_list(
            "host", "customer_id"
        ):
            self._add_network(host, customer_id)
        if not egress_only:
            users = SipUser.objects.filter(enabled=True).exclude(whitelist=[])
            for whitelist, customer_id in users.values_list("whitelist", "customer_id"):
                for item in whitelist:
                    self._add_network(item, customer_id, after_entries=True)
        # Narrowest range wins; SIP whitelists only after every IP-auth range.
        self.networks.sort(key=lambda item: (item[0], -item[1].prefixlen))
        # Ranges grouped by (rank, version, prefix length), in the order above: an address
        # is then looked up once per group instead of tested against every range (10,000
        # blocked IPs against 1,000 whitelists took seconds per sync; docs/benchmarks.md).
        self.groups = {}
        for rank, network, customer_id in self.networks:
            key = (rank, network.version, network.prefixlen)
            self.groups.setdefault(key, {}).setdefault(network, customer_id)

    def _add_network(self, text, customer_id, after_entries=False):
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return
        self.networks.append((1 if after_entries else 0, network, customer_id))

    def owner(self, ip):
        if ip in self.exact:
            return self.exact[ip]
        address = ipaddress.ip_address(ip)
        for (_rank, version, prefixlen), networks in self.groups.items():
            if version == address.version:
                network = ipaddress.ip_network((address, prefixlen), strict=False)
                if network in networks:
                    return networks[network]
        return None


def _canonical(ip):
    return str(ipaddress.ip_address(ip))


def _reconcile(node, bans):
    """Diff the dump against the open episodes of this node. Runs inside a transaction."""
    now = timezone.now()
    open_blocks = {
        _canonical(block.ip): block
        for block in BlockedIp.objects.select_for_update().filter(
            node=node, cleared_at__isnull=True
        )
    }
    lifted = {
        request.blocked_ip_id: request
        for request in UnblockRequest.objects.filter(
            blocked_ip__in=[block.pk for block in open_blocks.values()],
            state=UnblockState.APPLIED,
        )
    }
    cleared_ids, still_banned_ids, new_ips = [], [], []
    for ip, block in open_blocks.items():
        if ip not in bans:
            cleared_ids.append(block.pk)
        elif block.pk in lifted:
            # The switch confirmed the delete, yet the IP is banned now: that is a new ban.
            # The old request stays with its episode and never touches the new one.
            request = lifted[block.pk]
            block.cleared_at = request.applied_at or now
            block.save(update_fields=["cleared_at"])
            request.state = UnblockState.SUPERSEDED
            request.last_error = "Banned again after it was lifted; this is a new block."
            request.save(update_fields=["state", "last_error"])
            new_ips.append(ip)
        else:
            still_banned_ids.append(block.pk)
            if block.reason != bans[ip]:
                block.reason = bans[ip]
                block.save(update_fields=["reason"])
    new_ips.extend(ip for ip in bans if ip not in open_blocks)

    if cleared_ids:
        BlockedIp.objects.filter(pk__in=cleared_ids).update(cleared_at=now)
        UnblockRequest.objects.filter(
            blocked_ip__in=cleared_ids, state__in=OPEN_UNBLOCK_STATES
        ).update(state=UnblockState.VERIFIED, verified_at=now, last_error="")
    if still_banned_ids:
        BlockedIp.objects.filter(pk__in=still_banned_ids).update(last_seen=now)

    unowned = [ip for ip, block in open_blocks.items() if block.customer_id is None]
    matcher = _OwnerMatcher(set(new_ips) | set(unowned))
    BlockedIp.objects.bulk_create(
        BlockedIp(
            ip=ip,
            node=node,
            reason=bans[ip],
            first_seen=now,
            last_seen=now,
            customer_id=matcher.owner(ip),
        )
        for ip in new_ips
    )
    for ip in unowned:
        block = open_blocks[ip]
        owner = matcher.owner(ip)
        if owner is not None and block.pk not in cleared_ids and block.cleared_at is None:
            BlockedIp.objects.filter(pk=block.pk).update(customer_id=owner)
    return {"seen": len(bans), "new": len(new_ips), "cleared": len(cleared_ids)}


def _reload_if_pending(node, client):
    """Reload the node's address cache if IP-auth data changed; returns an error or None."""
    # Cleared before the reload, so a change committed while it runs sets it again.
    if not SwitchNode.objects.filter(pk=node.pk, address_reload_pending=True).update(
        address_reload_pending=False
    ):
        return None
    attempts = max(1, _setting("SWITCH_RELOAD_ATTEMPTS", 4))
    delay = _setting("SWITCH_RELOAD_RETRY_DELAY", 2.0)
    error = None
    for attempt in range(1, attempts + 1):
        try:
            client.reload_addresses()
            return None
        except switch_client.ReloadInProgress as exc:
            # Kamailio refuses a reload within reload_delta seconds of the previous one.
            error = exc
            if attempt < attempts:
                time.sleep(delay)
        except switch_client.SwitchClientError as exc:
            error = exc
            break
    SwitchNode.objects.filter(pk=node.pk).update(address_reload_pending=True)
    return f"Address reload failed: {error}"


def _send_deletes(client, requests):
    """Lift each ban on the switch; returns [(request id, error or "")]. Never raises."""
    outcomes = []
    unanswered = 0
    for request in requests:
        if unanswered >= MAX_UNANSWERED_IN_A_ROW:
            outcomes.append((request.pk, "Not tried: the node stopped answering during this run."))
            continue
        try:
            client.delete_ban(request.blocked_ip.ip)
        except switch_client.SwitchUnreachable as exc:
            unanswered += 1
            outcomes.append((request.pk, str(exc)))
        except switch_client.SwitchClientError as exc:
            unanswered = 0
            outcomes.append((request.pk, str(exc)))
        else:
            unanswered = 0
            outcomes.append((request.pk, ""))
    return outcomes


def _record_delete_outcomes(node, run, counts, outcomes, problems):
    now = timezone.now()
    applied_ids = [pk for pk, error in outcomes if not error]
    failures = [(pk, error) for pk, error in outcomes if error]
    with transaction.atomic():
        sendable = [UnblockState.PENDING, UnblockState.RETRYING]
        UnblockRequest.objects.filter(pk__in=applied_ids, state__in=sendable).update(
            state=UnblockState.APPLIED,
            applied_at=now,
            attempts=F("attempts") + 1,
            last_error="",
        )
        for pk, error in failures:
            UnblockRequest.objects.filter(pk=pk, state__in=sendable).update(
                state=UnblockState.RETRYING, attempts=F("attempts") + 1, last_error=error
            )
        if failures:
            problems.append(f"{len(failures)} unblock(s) not applied, will retry: {failures[0][1]}")
        run.seen = counts["seen"]
        run.new = counts["new"]
        run.cleared = counts["cleared"]
        run.applied = len(applied_ids)
        run.failed = len(failures)
        run.outcome = SyncOutcome.PARTIAL if problems else SyncOutcome.OK
        run.error = "\n".join(problems)
        run.finished_at = now
        run.save()
        SwitchNode.objects.filter(pk=node.pk).update(
            last_success_at=now,
            consecutive_failures=0,
            failing_since=None,
            last_error=run.error,
        )


# --- unblocking ----------------------------------------------------------------------------


def request_unblock(*, user, blocked_ips):
    """Ask for the given blocks to be lifted; returns their unblock requests.

    Idempotent: a block that already has an open request returns it. A request belongs to
    its blocking episode, so it can never lift a later ban of the same IP.
    """
    if user is None or not user.is_authenticated or not user.is_staff:
        raise PermissionDenied("Only operator staff can lift a block.")
    ids = []
    for item in blocked_ips:
        ids.append(item.pk if isinstance(item, BlockedIp) else item)
    if not ids:
        raise ValidationError({"blocked_ips": "Select at least one blocked IP."})
    created = False
    results = []
    with transaction.atomic():
        blocks = {
            block.pk: block
            for block in BlockedIp.objects.select_for_update()
            .filter(pk__in=ids)
            .select_related("node")
        }
        missing = [str(pk) for pk in ids if pk not in blocks]
        if missing:
            message = f"No such blocked IP: {', '.join(missing)}."
            raise ValidationError({"blocked_ips": ValidationError(message, code="not_found")})
        for pk in dict.fromkeys(ids):
            block = blocks[pk]
            request = block.unblocks.filter(state__in=OPEN_UNBLOCK_STATES).first()
            if request is None and block.cleared_at is not None:
                request = block.unblocks.first()
                if request is None:
                    message = (
                        f"{block.ip} on {block.node} is no longer blocked "
                        f"(cleared at {_hhmm(block.cleared_at)}); nothing to lift."
                    )
                    raise ValidationError(
                        {"blocked_ips": ValidationError(message, code="not_blocked")}
                    )
            if request is None:
                request = UnblockRequest.objects.create(blocked_ip=block, requested_by=user)
                created = True
            results.append(request)
    if created:
        transaction.on_commit(queue_sync)
    return results


def lift_unauthorised_blocks(node=None, hosts=None):
    """Request an unblock for every "unauthorised" block whose IP is now an enabled egress entry.

    This is the product page's case of a new IP that called before it was authorised: once
    the customer has authorised it, the block is lifted through the normal unblock path.
    Other reasons stay for an admin to judge. With `hosts` (addresses or ranges just
    authorised), only blocks inside them are considered. Returns the requests created.
    """
    candidates = BlockedIp.objects.filter(
        cleared_at__isnull=True, reason=BanReason.UNAUTHORISED
    ).exclude(unblocks__state__in=OPEN_UNBLOCK_STATES)
    if node is not None:
        candidates = candidates.filter(node=node)
    if hosts is not None:
        candidates = _inside_hosts(candidates, hosts)
    candidates = list(_inside_enabled_egress_entries(candidates))
    if not candidates:
        return []
    matcher = _OwnerMatcher({_canonical(block.ip) for block in candidates}, egress_only=True)
    relapsed = _relapsed_after_automatic_lift(candidates)
    created = []
    for block in candidates:
        owner = matcher.owner(_canonical(block.ip))
        if owner is None:
            continue
        if block.pk in relapsed and not _egress_entry_changed_since(block.ip, block.first_seen):
            # Banned again right after an automatic lift: the switch still refuses the address
            # (a port that differs from the entry's, say). Lifting it again would only repeat
            # that on every run; the next change to the entry tries again.
            continue
        try:
            with transaction.atomic():
                created.append(UnblockRequest.objects.create(blocked_ip=block, requested_by=None))
                if block.customer_id is None:
                    BlockedIp.objects.filter(pk=block.pk).update(customer_id=owner)
        except IntegrityError:
            continue  # another process opened a request for this block a moment ago
    return created


def _inside_enabled_egress_entries(blocks):
    """Narrow `blocks` in the database to those an enabled egress entry covers.

    This runs after every saved change: with thousands of open blocks, matching each one in
    Python on every save cost seconds (docs/benchmarks.md). An exact address is found through
    the egress host index; ranges are few and passed as one array.
    """
    if connection.vendor != "postgresql":
        # The narrowing uses PostgreSQL's inet functions; elsewhere (SQLite under `make run`)
        # every candidate goes on to the matching in Python, which gives the same answer.
        return blocks
    entries = IpAuthEntry.objects.filter(enabled=True, direction=Direction.EGRESS)
    exact = entries.filter(host=Func(OuterRef("ip"), function="host", output_field=CharField()))
    covered = Q(Exists(exact))
    # Ranges and the addresses of hostnames are few: passed as one array.
    networks = list(entries.filter(host__contains="/").order_by().values_list("host", flat=True))
    networks += _resolved_egress_addresses().values_list("address", flat=True)
    if networks:
        blocks = blocks.annotate(in_egress_range=_ip_inside_any(networks))
        covered |= Q(in_egress_range=True)
    return blocks.filter(covered)


def _resolved_egress_addresses():
    return HostAddress.objects.filter(entry__enabled=True, entry__direction=Direction.EGRESS)


def _inside_hosts(blocks, hosts):
    """Narrow `blocks` to the IPs inside `hosts` (addresses and ranges; names match nothing)."""
    addresses, networks = set(), []
    for host in hosts:
        try:
            network = ipaddress.ip_network(host, strict=False)
        except ValueError:
            continue  # a hostname: the switches' address tables hold no names
        if network.num_addresses == 1:
            addresses.add(str(network.network_address))
        else:
            networks.append(str(network))
    covered = Q(ip__in=addresses)
    if networks:
        if connection.vendor != "postgresql":
            return blocks  # see _inside_enabled_egress_entries
        blocks = blocks.annotate(in_changed_range=_ip_inside_any(networks))
        covered |= Q(in_changed_range=True)
    return blocks.filter(covered)


def _ip_inside_any(networks):
    return RawSQL(
        '"firewall_blockedip"."ip" <<= ANY(%s::inet[])',
        (list(networks),),
        output_field=BooleanField(),
    )


def _relapsed_after_automatic_lift(blocks):
    """Ids of the blocks that began within a day of an automatic lift of the same IP."""
    blocks = list(blocks)
    if not blocks:
        return set()
    lifted = UnblockRequest.objects.filter(
        state=UnblockState.SUPERSEDED,
        requested_by__isnull=True,
        blocked_ip__node_id__in={block.node_id for block in blocks},
        blocked_ip__ip__in={block.ip for block in blocks},
        blocked_ip__cleared_at__gte=min(block.first_seen for block in blocks) - RELAPSE_WINDOW,
    ).values_list("blocked_ip__node_id", "blocked_ip__ip", "blocked_ip__cleared_at")
    relapsed = set()
    for node_id, ip, cleared_at in lifted:
        for block in blocks:
            if (
                (block.node_id, _canonical(block.ip)) == (node_id, _canonical(ip))
                and cleared_at <= block.first_seen
                and block.first_seen - cleared_at <= RELAPSE_WINDOW
            ):
                relapsed.add(block.pk)
    return relapsed


def _egress_entry_changed_since(ip, moment):
    address = ipaddress.ip_address(ip)
    changed = IpAuthEntry.objects.filter(
        enabled=True, direction=Direction.EGRESS, updated_at__gt=moment
    ).filter(Q(host=_canonical(ip)) | Q(host__contains="/"))
    for host in changed.values_list("host", flat=True):
        network = ipaddress.ip_network(host, strict=False)
        if address.version == network.version and address in network:
            return True
    return False


# --- queueing ------------------------------------------------------------------------------


def queue_sync(*, force=False):
    """Queue a sync run now; returns False (and logs) when the broker cannot take it.

    A change must never fail to save because the broker is down: the scheduled run carries
    it then. Without `force`, nothing is queued while every enabled node still has a queued
    run that has not started: that run will see this change too, and a burst of saves must
    not become a burst of runs (and address reloads, which Kamailio spaces out).
    """
    from .tasks import sync_switches

    if not force and _queued_run_outstanding():
        return True
    # Noted before the hand-over, so a run that starts at once is seen as started.
    queued_at = timezone.now()
    try:
        SwitchNode.objects.filter(enabled=True).update(sync_queued_at=queued_at)
    except DatabaseError:
        logger.exception("Could not note the queued sync")
    try:
        sync_switches.apply_async(
            retry=True,
            retry_policy={
                "max_retries": 1,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.2,
            },
        )
    except Exception as exc:  # kombu and the transports raise many types for "broker down"
        logger.warning(
            "Could not queue a switch sync (%s: %s); the scheduled run will carry the change.",
            exc.__class__.__name__,
            exc,
        )
        try:
            SwitchNode.objects.filter(sync_queued_at=queued_at).update(sync_queued_at=None)
        except DatabaseError:
            logger.exception("Could not note the failed hand-over")
        return False
    return True


def _queued_run_outstanding():
    nodes = SwitchNode.objects.filter(enabled=True)
    not_waiting = nodes.filter(
        Q(sync_queued_at__isnull=True) | Q(last_attempt_at__gte=F("sync_queued_at"))
    )
    return nodes.exists() and not not_waiting.exists()


def switch_data_changed(change):
    """Run after a commit that changed what a switch enforces (registered in apps.py).

    `change` is an `auth_config.services.SwitchDataChange`: what to reload, which blocks
    may have become liftable.
    """
    try:
        if change.addresses:
            # Conditional, so a burst of saves writes the flag once, not once per save.
            SwitchNode.objects.filter(address_reload_pending=False).update(
                address_reload_pending=True
            )
        if change.authorised_hosts:
            lift_unauthorised_blocks(hosts=change.authorised_hosts)
    except Exception:
        # Runs after the customer's change has committed: report, never undo it.
        logger.exception("Could not prepare the switch sync after a change")
    queue_sync()


# --- what users see ------------------------------------------------------------------------


def _hhmm(moment):
    return timezone.localtime(moment).strftime("%H:%M")


def next_scheduled_sync(now=None):
    """When the periodic run is expected next (worst case for a change not yet carried)."""
    now = now or timezone.now()
    interval = timedelta(seconds=_setting("SWITCH_SYNC_INTERVAL", 900))
    last = (
        SyncRun.objects.exclude(outcome=SyncOutcome.SKIPPED)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    if last is not None and last + interval >= now:
        return last + interval
    return now + interval


def unblock_status(request, *, node=None, now=None, next_sync=None):
    """What an unblock request's state means right now, for people: (label, detail, eta)."""
    now = now or timezone.now()
    node = node or request.blocked_ip.node
    state = request.state
    if state == UnblockState.VERIFIED:
        when = request.verified_at or now
        return "verified", f"verified: the switch no longer lists it ({_hhmm(when)})", None
    if state == UnblockState.SUPERSEDED:
        return "superseded", "banned again after it was lifted; this needs a new unblock", None
    if next_sync is None:
        next_sync = next_scheduled_sync(now)
    if state == UnblockState.APPLIED:
        applied = _hhmm(request.applied_at or now)
        return (
            "applied",
            f"lifted on the switch at {applied}; confirmed by the next sync",
            next_sync,
        )
    if node.consecutive_failures and node.failing_since:
        return (
            state,
            f"delayed: node unreachable since {_hhmm(node.failing_since)}",
            None,
        )
    eta = next_sync
    queued = node.sync_queued_at
    if state == UnblockState.PENDING and queued is not None:
        # A run queued after the request carries it; so does one queued earlier that has
        # not started yet.
        not_started = node.last_attempt_at is None or node.last_attempt_at < queued
        if queued >= request.requested_at or not_started:
            expected = max(queued, request.requested_at) + QUEUED_RUN_GRACE
            if expected > now:
                eta = min(eta, expected)
    if state == UnblockState.RETRYING:
        return (
            state,
            f"retrying after {request.attempts} attempt(s); effective by {_hhmm(eta)}",
            eta,
        )
    return state, f"effective by {_hhmm(eta)}", eta


def open_blocks_by_host(customer_id, hosts):
    """Open blocks on the given hosts of one customer, as {host: [BlockedIp, ...]}.

    One query. A host may be an IP (exact match) or a CIDR range (blocks inside it). A block
    not yet matched to any customer is included when its IP is exactly one of the hosts: that
    is the address a customer has just added after it was blocked. Each block carries
    `open_unblock_state` (None without an open request). Hostnames match nothing.
    """
    return open_blocks_by_customer_host({customer_id: hosts}).get(customer_id, {})


def open_blocks_for_entries(entries):
    """{entry id: [open BlockedIp, ...]} for IP-auth entries of any customers, in one query."""
    entries = list(entries)
    wanted = {}
    for entry in entries:
        wanted.setdefault(entry.customer_id, []).append(entry.host)
    found = open_blocks_by_customer_host(wanted)
    return {
        entry.pk: found[entry.customer_id][entry.host]
        for entry in entries
        if entry.host in found.get(entry.customer_id, {})
    }


def _parse_hosts(hosts):
    addresses, networks = {}, {}
    for host in dict.fromkeys(hosts):
        try:
            addresses[host] = ipaddress.ip_address(host)
            continue
        except ValueError:
            pass
        if "/" in host:
            try:
                networks[host] = ipaddress.ip_network(host, strict=False)
            except ValueError:
                pass
    return addresses, networks


def open_blocks_by_customer_host(hosts_by_customer):
    """{customer id: {host: [BlockedIp, ...]}} for {customer id: hosts}; one query in all."""
    parsed = {cid: _parse_hosts(hosts) for cid, hosts in hosts_by_customer.items()}
    scope = Q(pk__in=[])
    all_exact = set()
    for customer_id, (addresses, networks) in parsed.items():
        exact = {str(address) for address in addresses.values()}
        all_exact |= exact
        if networks:
            scope |= Q(customer_id=customer_id)
        elif exact:
            scope |= Q(customer_id=customer_id, ip__in=sorted(exact))
    if all_exact:
        scope |= Q(customer__isnull=True, ip__in=sorted(all_exact))
    if not all_exact and not any(networks for _, networks in parsed.values()):
        return {}
    open_request = UnblockRequest.objects.filter(
        blocked_ip=OuterRef("pk"), state__in=OPEN_UNBLOCK_STATES
    ).values("state")[:1]
    blocks = (
        BlockedIp.objects.filter(cleared_at__isnull=True)
        .filter(scope)
        .select_related("node")
        .annotate(open_unblock_state=Subquery(open_request))
        .order_by("first_seen", "id")
    )
    found = {}
    for block in blocks:
        address = ipaddress.ip_address(block.ip)
        for customer_id, (addresses, networks) in parsed.items():
            if block.customer_id not in (None, customer_id):
                continue
            hosts = found.setdefault(customer_id, {})
            for host, wanted in addresses.items():
                if address == wanted:
                    hosts.setdefault(host, []).append(block)
            if block.customer_id == customer_id:
                for host, network in networks.items():
                    if address.version == network.version and address in network:
                        hosts.setdefault(host, []).append(block)
    return {cid: hosts for cid, hosts in found.items() if hosts}


def block_notices(customer_id, hosts):
    """Messages for a customer who has just saved entries for `hosts` that are blocked."""
    notices = []
    next_sync = None
    for host, blocks in open_blocks_by_host(customer_id, hosts).items():
        for block in blocks:
            if block.reason == BanReason.UNAUTHORISED and block.open_unblock_state:
                if next_sync is None:
                    next_sync = next_scheduled_sync()
                request = block.unblocks.filter(state__in=OPEN_UNBLOCK_STATES).first()
                detail = unblock_status(request, node=block.node, next_sync=next_sync)[1]
                notices.append(
                    f"{block.ip} was blocked for calling before it was authorised; the block "
                    f"is being lifted ({detail})."
                )
            elif block.reason == BanReason.UNAUTHORISED:
                notices.append(
                    f"{block.ip} is blocked because it called before it was authorised. It is "
                    "lifted automatically once the address is an enabled egress entry."
                )
            else:
                notices.append(
                    f"{host} is blocked on the switch ({block.reason_text}) since "
                    f"{_hhmm(block.first_seen)}; an operator has to lift this block, please "
                    "contact support."
                )
    return notices
