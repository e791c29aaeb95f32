from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from portal.models import Customer, CustomerScopedQuerySet


class SwitchNode(models.Model):
    name = models.CharField(max_length=64, unique=True)
    rpc_url = models.URLField(
        "JSON-RPC URL", help_text="Kamailio's JSON-RPC over HTTP, e.g. http://127.0.0.1:5071/RPC"
    )
    enabled = models.BooleanField(default=True)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    # Set when IP-auth data changed since the node last reloaded its address cache.
    address_reload_pending = models.BooleanField(default=True, editable=False)
    # When a sync run was last handed to the task queue: an unblock asked for before then is
    # carried within moments, one asked for after a failed hand-over waits for the beat.
    sync_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Start of the current run of failed syncs; None while the node answers.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    # A lease rather than a lock held by a transaction: a sync run talks to the switch between
    # its database steps and must not keep a transaction open meanwhile. A crashed worker's
    # lease simply runs out.
    sync_claim = models.CharField(max_length=32, blank=True, editable=False)
    sync_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Left by a run that found the node busy: the busy run makes one more pass.
    sync_again = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.rpc_url and not self.rpc_url.lower().startswith(("http://", "https://")):
            raise ValidationError(
                {"rpc_url": "Kamailio's JSON-RPC is reached over HTTP: use an http:// URL."}
            )


class BanReason(models.TextChoices):
    # The codes the reference switch writes into its ban table (see docs/firewall.md).
    UNAUTHORISED = "unauthorised", "Called before it was authorised"
    AUTH_FAILURES = "auth_failures", "Repeated failed SIP authentication"
    FLOOD = "flood", "Flood of requests (temporary ban)"


def reason_text(code):
    try:
        return BanReason(code).label
    except ValueError:
        return f"Reported by the switch as “{code}”" if code else "No reason given by the switch"


class BlockedIpQuerySet(CustomerScopedQuerySet):
    def open(self):
        return self.filter(cleared_at__isnull=True)


class BlockedIp(models.Model):
    """One blocking episode of one IP on one switch node, as the node's ban table reported it."""

    ip = models.GenericIPAddressField("IP address")
    node = models.ForeignKey(SwitchNode, on_delete=models.CASCADE, related_name="blocks")
    reason = models.CharField(max_length=200, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    # The customer whose IP-auth entry or whitelist covers this IP, when one does.
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="blocked_ips"
    )

    objects = BlockedIpQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen", "id"]
        verbose_name = "blocked IP"
        constraints = [
            models.UniqueConstraint(
                fields=["node", "ip"],
                condition=Q(cleared_at__isnull=True),
                name="blockedip_one_open_episode",
            )
        ]
        indexes = [models.Index(fields=["ip"], name="blockedip_ip")]

    def __str__(self):
        return f"{self.ip} on {self.node}"

    @property
    def reason_text(self):
        return reason_text(self.reason)

    @property
    def is_open(self):
        return self.cleared_at is None


class UnblockState(models.TextChoices):
    PENDING = "pending", "Pending"
    APPLIED = "applied", "Applied, awaiting confirmation"
    VERIFIED = "verified", "Verified"
    RETRYING = "retrying", "Retrying"
    SUPERSEDED = "superseded", "Superseded"


OPEN_UNBLOCK_STATES = [UnblockState.PENDING, UnblockState.APPLIED, UnblockState.RETRYING]


class UnblockRequest(models.Model):
    blocked_ip = models.ForeignKey(BlockedIp, on_delete=models.CASCADE, related_name="unblocks")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=12, choices=UnblockState.choices, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["blocked_ip"],
                condition=Q(state__in=["pending", "applied", "retrying"]),
                name="unblock_one_open_per_block",
            )
        ]

    def __str__(self):
        return f"unblock {self.blocked_ip} ({self.state})"


class SyncOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    OK = "ok", "OK"
    # The ban table was read, but some deletes or the address reload did not go through.
    PARTIAL = "partial", "Partly done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped: another run was busy with this node"


class SyncRun(models.Model):
    node = models.ForeignKey(SwitchNode, on_delete=models.CASCADE, related_name="sync_runs")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=SyncOutcome.choices, default="running")
    seen = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    cleared = models.PositiveIntegerField(default=0)
    applied = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "id"]

    def __str__(self):
        return f"sync of {self.node} at {self.started_at:%Y-%m-%d %H:%M:%S} ({self.outcome})"

    @property
    def summary(self):
        if self.outcome in (SyncOutcome.FAILED, SyncOutcome.SKIPPED, SyncOutcome.RUNNING):
            text = f"{self.node}: {self.get_outcome_display()}"
            return f"{text}: {self.error}" if self.error else text
        text = (
            f"{self.node}: {self.get_outcome_display()}: {self.seen} banned, {self.new} new, "
            f"{self.cleared} cleared, {self.applied} unblocks applied, {self.failed} failed"
        )
        return f"{text} ({self.error})" if self.error else text
