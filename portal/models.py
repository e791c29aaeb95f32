from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


def default_sip_realm():
    return settings.SIP_REALM


class Customer(models.Model):
    name = models.CharField(max_length=120, unique=True)
    sip_realm = models.CharField(
        "SIP realm",
        max_length=128,
        default=default_sip_realm,
        help_text="Digest realm of this customer's SIP users.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A portal login. Customer users belong to exactly one customer; operator staff to none."""

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )


class CustomerScopedQuerySet(models.QuerySet):
    """The one place where rows are scoped to the caller's customer."""

    def for_user(self, user):
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        if user.customer_id is None:
            return self.none()
        return self.filter(customer_id=user.customer_id)


class CustomerOwnedModel(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="%(class)s_set")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerScopedQuerySet.as_manager()

    class Meta:
        abstract = True
