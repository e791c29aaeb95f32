from auditlog.context import auditlog_value
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from portal.audit import in_request_context
from portal.models import ApiKey, hash_api_key


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>`: acts as the key's user; `request.auth` is the ApiKey."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the key as `Authorization: Bearer <key>`, with nothing else in the header."
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Unknown API key.") from None
        try:
            # get(), not first(): the hash is unique, and first()'s ORDER BY costs a fifth of
            # this lookup, which every API request makes.
            api_key = ApiKey.objects.select_related("user", "user__customer").get(
                key_hash=hash_api_key(token)
            )
        except ApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Unknown API key.") from None
        if not api_key.is_active:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        user = api_key.user
        if not user.is_active or (user.customer_id and not user.customer.active):
            raise exceptions.AuthenticationFailed(
                "The account this API key belongs to is disabled."
            )
        api_key.record_use()
        self._attribute_audit_entries(user)
        return user, api_key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'

    @staticmethod
    def _attribute_audit_entries(user):
        # The audit middleware ran before DRF authenticated and took its actor from the session
        # (none, or a browser user who is not the key's owner). What this request writes is done
        # with the key's rights, so the key's user is the actor.
        if in_request_context.get():
            context = auditlog_value.get(None)
            if context is not None:
                context["actor"] = user


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API key from the portal's API keys page (or `manage.py create_api_key`), "
                "sent as `Authorization: Bearer <key>`."
            ),
        }
