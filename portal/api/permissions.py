from rest_framework.permissions import SAFE_METHODS, BasePermission

from portal.models import ApiKey


class KeyScopePermission(BasePermission):
    """A read-only key may read; only a read-write key may change anything."""

    message = "This API key is read-only; use a read-write key to make changes."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return not (isinstance(request.auth, ApiKey) and request.auth.read_only)


class IsStaff(BasePermission):
    """Operator staff only (the firewall, switch nodes); customers' keys get a 403."""

    message = "Only operator staff may use this endpoint."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
