"""Filters shared by the firewall page and the firewall API, so both search and filter alike."""

import django_filters
from django.db.models import Q

from portal.models import Customer

from .models import BanReason, BlockedIp, SwitchNode


def _customers(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_staff:
        return Customer.objects.all()
    if user is not None and getattr(user, "customer_id", None):
        return Customer.objects.filter(pk=user.customer_id)
    return Customer.objects.none()


class BlockedIpFilterSet(django_filters.FilterSet):
    STATUS_CHOICES = [("open", "Blocked now"), ("cleared", "Lifted or expired"), ("all", "All")]

    q = django_filters.CharFilter(method="search", label="IP address")
    node = django_filters.ModelChoiceFilter(
        queryset=SwitchNode.objects.all(), label="Switch node", empty_label="All nodes"
    )
    reason = django_filters.ChoiceFilter(
        choices=BanReason.choices, label="Reason", empty_label="Any reason"
    )
    customer = django_filters.ModelChoiceFilter(
        queryset=_customers, label="Customer", empty_label="Any customer"
    )
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="by_status", label="Status", empty_label=None
    )

    class Meta:
        model = BlockedIp
        fields = ["q", "node", "reason", "customer", "status"]

    def __init__(self, data=None, *args, **kwargs):
        # Without a status the page shows what is blocked now.
        if data is not None and not data.get("status"):
            data = data.copy()
            data["status"] = "open"
        super().__init__(data, *args, **kwargs)

    def search(self, queryset, name, value):
        value = value.strip().lower()
        if not value:
            return queryset
        return queryset.filter(Q(ip__contains=value))

    def by_status(self, queryset, name, value):
        if value == "open":
            return queryset.filter(cleared_at__isnull=True)
        if value == "cleared":
            return queryset.filter(cleared_at__isnull=False)
        return queryset
