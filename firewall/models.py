from django.conf import settings
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

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


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
    FAILED = "failed", "Failed"


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
