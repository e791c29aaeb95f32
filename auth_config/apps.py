from django.apps import AppConfig


class AuthConfigConfig(AppConfig):
    name = "auth_config"
    verbose_name = "Authentication"

    def ready(self):
        from auditlog.registry import auditlog

        from .models import IpAuthEntry, SipUser

        auditlog.register(
            IpAuthEntry,
            # The lookup results are the portal's bookkeeping, not a change anyone made.
            exclude_fields=["created_at", "updated_at", "resolved_at", "resolution_error"],
            mask_fields=["uac_password_encrypted"],
        )
        auditlog.register(
            SipUser,
            exclude_fields=["created_at", "updated_at", "ha1_sha256", "ha1b"],
            mask_fields=["ha1"],
        )
