"""The Auth tab's filters, under the API's parameter names (`search` rather than `q`)."""

import django_filters

from auth_config.filtersets import IpAuthEntryFilterSet, SipUserFilterSet


class IpAuthEntryApiFilterSet(IpAuthEntryFilterSet):
    q = None
    search = django_filters.CharFilter(
        method="search", label="Search host, manufacturer and UAC username"
    )

    class Meta(IpAuthEntryFilterSet.Meta):
        fields = ["search", "direction", "protocol", "enabled"]


class SipUserApiFilterSet(SipUserFilterSet):
    q = None
    search = django_filters.CharFilter(method="search", label="Search usernames")

    class Meta(SipUserFilterSet.Meta):
        fields = ["search", "protocol", "enabled"]
