import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


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


API_KEY_PREFIX = "sap"
MAX_ACTIVE_API_KEYS = 20
# How stale last_used_at may get: recording every request would turn each read into a write.
API_KEY_LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_api_key(token):
    """The stored form of a key: its tokens carry 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def issue(self, *, user, name, read_only=False):
        """Create a key for `user`; returns (api_key, token). The token is never stored."""
        lookup = secrets.token_hex(6)
        token = f"{API_KEY_PREFIX}_{lookup}_{secrets.token_urlsafe(32)}"
        api_key = self.model(
            user=user,
            name=name,
            read_only=read_only,
            prefix=f"{API_KEY_PREFIX}_{lookup}",
            key_hash=hash_api_key(token),
        )
        api_key.full_clean()
        api_key.save()
        return api_key, token


class ApiKey(models.Model):
    """A bearer token for the REST API, acting with its user's rights."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(
        max_length=100, help_text="What the key is for, e.g. the provisioning system using it."
    )
    prefix = models.CharField(
        max_length=16,
        unique=True,
        editable=False,
        help_text="The start of the key, shown so a key can be recognised; not secret.",
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    read_only = models.BooleanField(
        "read-only", default=False, help_text="A read-only key can list and read, never change."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None

    def clean(self):
        if self.pk is None and self.user_id is not None:
            active = ApiKey.objects.active().filter(user_id=self.user_id).count()
            if active >= MAX_ACTIVE_API_KEYS:
                raise ValidationError(
                    f"You already have {active} active API keys; revoke one you no longer "
                    "use first."
                )

    def revoke(self):
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def record_use(self):
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < API_KEY_LAST_USED_RESOLUTION:
            return
        # A conditional update: concurrent requests in the same minute write at most once.
        ApiKey.objects.filter(pk=self.pk).filter(
            models.Q(last_used_at__isnull=True)
            | models.Q(last_used_at__lt=now - API_KEY_LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        self.last_used_at = now
