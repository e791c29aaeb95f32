"""The firewall pages: operator admins see and lift blocks; customers see blocks on their IPs.

Views parse the request and call firewall.services; every blocked IP they show is looked up
through `FirewallView.scoped()`, the one place the caller's customer is applied.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views import View

from . import services
from .filtersets import BlockedIpFilterSet
from .forms import SwitchNodeForm
from .models import BlockedIp, SwitchNode, SyncOutcome, UnblockRequest

PAGE_SIZE = 50
RECENT_RUNS = 5
RECENT_UNBLOCKS = 20


class FirewallView(LoginRequiredMixin, View):
    """Base of every firewall page: login required, staff only unless `customers_allowed`."""

    customers_allowed = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.is_staff and not self.customers_allowed:
            return TemplateResponse(request, "403.html", status=403)
        return super().dispatch(request, *args, **kwargs)

    def scoped(self):
        return BlockedIp.objects.for_user(self.request.user)


def with_unblocks(blocks):
    return blocks.select_related("node", "customer").prefetch_related(
        Prefetch(
            "unblocks",
            queryset=UnblockRequest.objects.select_related("requested_by").order_by(
                "-requested_at", "-id"
            ),
            to_attr="unblock_history",
        )
    )


def block_rows(blocks):
    """Each block with its latest unblock request and what that request's state means now."""
    now = timezone.now()
    next_sync = services.next_scheduled_sync(now)
    rows = []
    for block in blocks:
        request = block.unblock_history[0] if block.unblock_history else None
        status = None
        if request is not None:
            status = services.unblock_status(request, node=block.node, now=now, next_sync=next_sync)
        rows.append({"block": block, "request": request, "status": status})
    return rows


class FirewallIndexView(FirewallView):
    def get(self, request):
        filterset = BlockedIpFilterSet(request.GET, queryset=self.scoped(), request=request)
        blocks = filterset.qs if filterset.is_valid() else self.scoped().open()
        page = Paginator(with_unblocks(blocks), PAGE_SIZE).get_page(request.GET.get("page"))
        nodes = list(SwitchNode.objects.all())
        for node in nodes:
            node.recent_runs = list(node.sync_runs.order_by("-started_at", "-id")[:RECENT_RUNS])
        recent = with_unblocks(
            BlockedIp.objects.filter(
                pk__in=UnblockRequest.objects.order_by("-requested_at", "-id").values("blocked_ip")[
                    :RECENT_UNBLOCKS
                ]
            )
        ).order_by("-id")
        other_params = [(key, value) for key, value in request.GET.items() if key != "page"]
        return TemplateResponse(
            request,
            "firewall/index.html",
            {
                "filter": filterset,
                "page": page,
                "rows": block_rows(page.object_list),
                "nodes": nodes,
                "recent_rows": block_rows(recent),
                "other_params": other_params,
                "next_sync": services.next_scheduled_sync(),
                "sync_interval_minutes": max(1, settings.SWITCH_SYNC_INTERVAL // 60),
            },
        )


class UnblockView(FirewallView):
    """Unblock one or many: a confirmation page first, then the requests."""

    def selected(self, data):
        ids = [value for value in data.getlist("ids") if value.isdigit()]
        return with_unblocks(self.scoped().filter(pk__in=ids)).order_by("ip")

    def get(self, request):
        return self.confirm(request, self.selected(request.GET))

    def post(self, request):
        blocks = self.selected(request.POST)
        if request.POST.get("confirm") != "yes":
            return self.confirm(request, blocks)
        try:
            results = services.request_unblock(user=request.user, blocked_ips=list(blocks))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("firewall:index")
        ips = ", ".join(str(request_.blocked_ip.ip) for request_ in results)
        detail = services.unblock_status(results[0])[1] if results else ""
        messages.success(request, f"Unblock requested for {ips}: {detail}.")
        return redirect("firewall:index")

    def confirm(self, request, blocks):
        open_blocks = [block for block in blocks if block.cleared_at is None]
        if not open_blocks:
            messages.warning(request, "Tick the blocked IPs to unblock first.")
            return redirect("firewall:index")
        return TemplateResponse(
            request,
            "firewall/confirm_unblock.html",
            {"rows": block_rows(open_blocks), "next_sync": services.next_scheduled_sync()},
        )


class SyncNowView(FirewallView):
    def post(self, request):
        if services.queue_sync(force=True):
            messages.success(
                request,
                "Sync queued: the worker runs it in a moment; reload this page to see the result.",
            )
            return redirect("firewall:index")
        runs = [run for run in services.sync_all() if run is not None]
        summary = "; ".join(run.summary for run in runs) or "no enabled switch nodes"
        level = (
            messages.success
            if all(run.outcome == SyncOutcome.OK for run in runs)
            else messages.warning
        )
        level(
            request,
            f"The task queue is not reachable, so the sync ran here and now: {summary}.",
        )
        return redirect("firewall:index")


class AddNodeView(FirewallView):
    template_name = "firewall/add_node.html"

    def get(self, request):
        return TemplateResponse(request, self.template_name, {"form": SwitchNodeForm()})

    def post(self, request):
        form = SwitchNodeForm(request.POST)
        if form.is_valid():
            try:
                node = services.register_node(
                    form.cleaned_data["name"], form.cleaned_data["rpc_url"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request, f"Added switch node {node.name}; its first sync has been asked for."
                )
                return redirect(reverse("firewall:index") + "#nodes")
        return TemplateResponse(request, self.template_name, {"form": form}, status=400)


class NodeEnabledView(FirewallView):
    def post(self, request, pk):
        node = get_object_or_404(SwitchNode, pk=pk)
        enabled = request.POST.get("enabled") == "yes"
        services.set_node_enabled(node, enabled)
        if enabled:
            messages.success(request, f"{node.name} is synced again; a sync has been asked for.")
        else:
            messages.success(
                request,
                f"{node.name} is no longer synced. Its bans stay on the switch as they are.",
            )
        return redirect(reverse("firewall:index") + "#nodes")


class CustomerBlocksView(FirewallView):
    """Read-only: the blocks on a customer's own IPs."""

    customers_allowed = True

    def get(self, request):
        if request.user.is_staff:
            return redirect("firewall:index")
        filterset = BlockedIpFilterSet(request.GET, queryset=self.scoped(), request=request)
        blocks = filterset.qs if filterset.is_valid() else self.scoped().open()
        page = Paginator(with_unblocks(blocks), PAGE_SIZE).get_page(request.GET.get("page"))
        return TemplateResponse(
            request,
            "firewall/customer_blocks.html",
            {
                "filter": filterset,
                "page": page,
                "rows": block_rows(page.object_list),
                "other_params": [(k, v) for k, v in request.GET.items() if k != "page"],
            },
        )
