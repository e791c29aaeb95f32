"""Present blocks, unblock requests and switch nodes; nothing here decides anything."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from firewall import services
from firewall.models import BlockedIp, SwitchNode, UnblockRequest
from portal.api.serializers import PortalModelSerializer


class UnblockRequestSerializer(PortalModelSerializer):
    """One request to lift one blocking episode, and where it stands."""

    blocked_ip = serializers.PrimaryKeyRelatedField(read_only=True)
    ip = serializers.CharField(source="blocked_ip.ip", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    automatic = serializers.SerializerMethodField(
        help_text="True when the portal asked for it itself: the IP called before it was "
        "authorised and is now an enabled egress entry."
    )
    status = serializers.SerializerMethodField(
        help_text="What the state means now, e.g. 'effective by 14:47' or 'delayed: node "
        "unreachable since 14:15'."
    )
    effective_by = serializers.SerializerMethodField(
        help_text="When the unblock will be live (pending, retrying) or confirmed (applied) at "
        "the latest; null when that cannot be said."
    )

    class Meta:
        model = UnblockRequest
        fields = [
            "id",
            "blocked_ip",
            "ip",
            "state",
            "status",
            "effective_by",
            "requested_by",
            "automatic",
            "requested_at",
            "attempts",
            "last_error",
            "applied_at",
            "verified_at",
        ]
        read_only_fields = fields

    def _status(self, request):
        cache = self.context.setdefault("unblock_status", {})
        if request.pk not in cache:
            cache[request.pk] = services.unblock_status(
                request, next_sync=self.context.get("next_sync")
            )
        return cache[request.pk]

    def get_automatic(self, request) -> bool:
        return request.requested_by_id is None

    def get_status(self, request) -> str:
        return self._status(request)[1]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_effective_by(self, request):
        eta = self._status(request)[2]
        return serializers.DateTimeField().to_representation(eta) if eta else None


class BlockedIpSerializer(PortalModelSerializer):
    """One blocking episode of one IP on one switch node."""

    node = serializers.SlugRelatedField(slug_field="name", read_only=True)
    reason_text = serializers.CharField(read_only=True)
    unblock = serializers.SerializerMethodField(
        help_text="The latest unblock request of this episode, or null."
    )

    class Meta:
        model = BlockedIp
        fields = [
            "id",
            "ip",
            "node",
            "reason",
            "reason_text",
            "first_seen",
            "last_seen",
            "cleared_at",
            "customer",
            "unblock",
        ]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        view = self.context.get("view")
        if getattr(view, "swagger_fake_view", False):
            return fields
        if request is None or not request.user.is_staff:
            # Customers see blocks on their own IPs; node names and owners are operator data.
            fields.pop("node", None)
            fields.pop("customer", None)
        return fields

    @extend_schema_field(UnblockRequestSerializer(allow_null=True))
    def get_unblock(self, block):
        history = getattr(block, "unblock_history", None)
        if history is None:
            history = list(block.unblocks.order_by("-requested_at", "-id")[:1])
        if not history:
            return None
        request = history[0]
        request.blocked_ip = block
        return UnblockRequestSerializer(request, context=self.context).data


class SyncRunSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    seen = serializers.IntegerField(help_text="IPs in the node's ban table.")
    new = serializers.IntegerField()
    cleared = serializers.IntegerField()
    applied = serializers.IntegerField(help_text="Unblocks the node accepted in this run.")
    failed = serializers.IntegerField(help_text="Unblocks that will be retried.")
    error = serializers.CharField()


class SwitchNodeSerializer(PortalModelSerializer):
    """A Kamailio node the portal keeps in sync."""

    last_run = serializers.SerializerMethodField()

    class Meta:
        model = SwitchNode
        fields = [
            "id",
            "name",
            "rpc_url",
            "enabled",
            "last_success_at",
            "last_attempt_at",
            "consecutive_failures",
            "failing_since",
            "last_error",
            "address_reload_pending",
            "last_run",
        ]
        read_only_fields = fields

    @extend_schema_field(SyncRunSerializer(allow_null=True))
    def get_last_run(self, node):
        run = node.sync_runs.exclude(outcome="skipped").order_by("-started_at", "-id").first()
        return SyncRunSerializer(run).data if run else None


class SyncResultSerializer(serializers.Serializer):
    queued = serializers.BooleanField(help_text="The run was handed to the worker.")
    ran_inline = serializers.BooleanField(
        help_text="The task queue was unreachable, so the run happened within this request."
    )
    message = serializers.CharField()
    runs = serializers.ListField(
        child=serializers.CharField(), help_text="What each node's run did (inline runs only)."
    )
