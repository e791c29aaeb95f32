"""Operators browse the firewall's records here; changes go through the firewall page."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from portal.admin import ReadOnlyModelAdmin

from .models import BlockedIp, SwitchNode, SyncRun, UnblockRequest


class ReadOnlyAdmin(ReadOnlyModelAdmin):
    @admin.display(description="firewall page")
    def firewall_link(self, obj):
        return format_html('<a href="{}">Open the firewall page</a>', reverse("firewall:index"))


@admin.register(SwitchNode)
class SwitchNodeAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "rpc_url",
        "enabled",
        "last_success_at",
        "consecutive_failures",
        "failing_since",
        "firewall_link",
    ]
    search_fields = ["name"]


@admin.register(BlockedIp)
class BlockedIpAdmin(ReadOnlyAdmin):
    list_display = ["ip", "node", "reason", "customer", "first_seen", "last_seen", "cleared_at"]
    list_filter = ["node", "reason"]
    list_select_related = ["node", "customer"]
    search_fields = ["ip"]


@admin.register(UnblockRequest)
class UnblockRequestAdmin(ReadOnlyAdmin):
    list_display = ["blocked_ip", "state", "requested_by", "requested_at", "attempts", "applied_at"]
    list_filter = ["state"]
    list_select_related = ["blocked_ip__node", "requested_by"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["node", "started_at", "outcome", "seen", "new", "cleared", "applied", "failed"]
    list_filter = ["node", "outcome"]
    list_select_related = ["node"]
