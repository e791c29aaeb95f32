"""The firewall over the API: blocked IPs (customers read their own), unblock, nodes, sync."""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.functional import cached_property
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from firewall import services
from firewall.models import BlockedIp, SwitchNode, UnblockRequest
from portal.api.errors import Conflict
from portal.api.permissions import IsStaff, KeyScopePermission
from portal.api.viewsets import CustomerScopedViewSet, StaffViewSet

from .filters import BlockedIpApiFilterSet
from .serializers import (
    BlockedIpSerializer,
    SwitchNodeSerializer,
    SyncResultSerializer,
    UnblockRequestSerializer,
)


class NextSyncContextMixin:
    @cached_property
    def next_sync(self):
        return services.next_scheduled_sync()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "next_sync": self.next_sync}


@extend_schema_view(
    list=extend_schema(
        summary="List blocked IPs (staff: all; customers: the blocks on their own IPs)",
        description="Without `status` only the IPs blocked now are listed.",
    ),
    retrieve=extend_schema(summary="Read one blocked IP"),
)
class BlockedIpViewSet(
    NextSyncContextMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, CustomerScopedViewSet
):
    """IPs the switches' fraud detection has blocked, one object per blocking episode."""

    queryset = BlockedIp.objects.select_related("node", "customer").prefetch_related(
        Prefetch(
            "unblocks",
            queryset=UnblockRequest.objects.select_related("requested_by").order_by(
                "-requested_at", "-id"
            ),
            to_attr="unblock_history",
        )
    )
    serializer_class = BlockedIpSerializer
    filterset_class = BlockedIpApiFilterSet
    ordering_fields = ["id", "ip", "first_seen", "last_seen"]
    ordering = ["-last_seen", "id"]

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(
                UnblockRequestSerializer,
                description="The unblock request of this block (a new one, or the open one: "
                "repeating the call is harmless).",
            ),
            409: OpenApiResponse(description="The IP is no longer blocked."),
        },
        filters=False,
        summary="Lift a block (staff only)",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="unblock",
        url_name="unblock",
        permission_classes=[IsAuthenticated, KeyScopePermission, IsStaff],
        filter_backends=[],
    )
    def unblock(self, request, *args, **kwargs):
        block = self.get_object()
        try:
            (unblock_request,) = services.request_unblock(user=request.user, blocked_ips=[block])
        except ValidationError as exc:
            if any(error.code == "not_blocked" for error in exc.error_dict["blocked_ips"]):
                raise Conflict(exc.message_dict["blocked_ips"][0]) from None
            raise
        serializer = UnblockRequestSerializer(
            unblock_request, context=self.get_serializer_context()
        )
        return Response(serializer.data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(list=extend_schema(summary="List switch nodes and their sync state"))
class SwitchNodeViewSet(mixins.ListModelMixin, StaffViewSet):
    """The Kamailio nodes the portal keeps in sync (staff only)."""

    queryset = SwitchNode.objects.all()
    serializer_class = SwitchNodeSerializer
    ordering_fields = ["name", "last_success_at", "consecutive_failures"]
    ordering = ["name"]


class SyncViewSet(StaffViewSet):
    """Run the switch sync now (staff only)."""

    serializer_class = SyncResultSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(SyncResultSerializer, description="Queued for the worker."),
            200: OpenApiResponse(
                SyncResultSerializer,
                description="The task queue was unreachable; the sync ran within the request.",
            ),
        },
        summary="Sync the switches now",
    )
    def create(self, request, *args, **kwargs):
        if services.queue_sync(force=True):
            body = {
                "queued": True,
                "ran_inline": False,
                "message": "Sync queued; the worker runs it in a moment.",
                "runs": [],
            }
            return Response(body, status=status.HTTP_202_ACCEPTED)
        runs = [run for run in services.sync_all() if run is not None]
        body = {
            "queued": False,
            "ran_inline": True,
            "message": "The task queue is not reachable, so the sync ran within this request.",
            "runs": [run.summary for run in runs],
        }
        return Response(body, status=status.HTTP_200_OK)
