"""The Auth tab's filters, under the API's parameter names (`search` rather than `q`)."""

import django_filters
from django.core.validators import MaxValueValidator

from auth_config.filtersets import IpAuthEntryFilterSet, SipUserFilterSet


def customer_filter():
    # A plain number, not a choice among customers: validating it against the customer table
    # would tell a customer which other customers' ids exist.
    return django_filters.NumberFilter(
        field_name="customer_id",
        label="Staff: only this customer's objects (customers only ever see their own)",
        min_value=1,
        validators=[MaxValueValidator(2**63 - 1)],
    )


class IpAuthEntryApiFilterSet(IpAuthEntryFilterSet):
    q = None
    search = django_filters.CharFilter(
        method="search", label="Search host, manufacturer and UAC username"
    )

    customer = customer_filter()

    class Meta(IpAuthEntryFilterSet.Meta):
        fields = ["search", "direction", "protocol", "enabled", "customer"]


class SipUserApiFilterSet(SipUserFilterSet):
    q = None
    search = django_filters.CharFilter(method="search", label="Search usernames")

    customer = customer_filter()

    class Meta(SipUserFilterSet.Meta):
        fields = ["search", "protocol", "enabled", "customer"]
