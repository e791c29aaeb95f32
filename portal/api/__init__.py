"""Foundations of the REST API under /api/v1/, shared by every app's endpoints.

Build an app's endpoints on these, so every route authenticates, scopes, paginates and reports
errors alike:

- ``viewsets.CustomerScopedViewSet``: the one base viewset for customer-owned data. Set
  ``queryset = Model.objects.all()`` (the manager must be a ``CustomerScopedQuerySet``); every
  read and write then sees only ``Model.objects.for_user(request.user)``, so another customer's
  object is a 404. Add ``AuditLogMixin`` for ``{id}/audit-log/`` and ``BulkDeleteMixin`` for
  ``bulk-delete/``.
- ``viewsets.StaffViewSet``: for routes only operator staff may use (e.g. the firewall); a
  customer's key gets 403.
- ``authentication.ApiKeyAuthentication``: ``Authorization: Bearer <key>``; ``request.auth`` is
  the ``portal.models.ApiKey``.
- ``permissions.KeyScopePermission`` (read-only keys may only read) and ``permissions.IsStaff``.
- ``serializers.StrictSerializerMixin``: unknown body fields are a 400 naming them.
- ``errors.api_exception_handler``: the one JSON error shape, also for Django ``ValidationError``
  raised by the services (``{"error": {"code", "message", "field", "details": [...]}}``).
- ``schema.PortalAutoSchema``: documents the error responses every operation can return.
"""
