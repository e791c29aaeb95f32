"""Filters shared by the Auth tab and the REST API, so both search and filter alike."""

import django_filters
from django.db.models import Q

from .models import Direction, IpAuthEntry, Protocol, SipUser


class IpAuthEntryFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    protocol = django_filters.ChoiceFilter(choices=Protocol.choices)
    enabled = django_filters.BooleanFilter()

    class Meta:
        model = IpAuthEntry
        fields = ["q", "direction", "protocol", "enabled"]

    def search(self, queryset, name, value):
        value = value.strip().lower()
        if not value:
            return queryset
        return queryset.filter(
            Q(host__contains=value)
            | Q(manufacturer__icontains=value)
            | Q(uac_username__icontains=value)
        )


class SipUserFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    protocol = django_filters.ChoiceFilter(choices=Protocol.choices)
    enabled = django_filters.BooleanFilter()

    class Meta:
        model = SipUser
        fields = ["q", "protocol", "enabled"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(username__icontains=value)
