"""The firewall page's filters under the API's parameter names (`search` rather than `q`)."""

import django_filters

from firewall.filtersets import BlockedIpFilterSet


class BlockedIpApiFilterSet(BlockedIpFilterSet):
    q = None
    search = django_filters.CharFilter(method="search", label="Search IP addresses")

    class Meta(BlockedIpFilterSet.Meta):
        fields = ["search", "node", "reason", "customer", "status"]
