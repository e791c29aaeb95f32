"""Base viewsets: every API route is built on one of these."""

from auditlog.models import LogEntry
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from portal.models import CustomerScopedQuerySet

from .permissions import IsStaff, KeyScopePermission
from .serializers import (
    AuditLogEntrySerializer,
    BulkDeleteResultSerializer,
    BulkDeleteSerializer,
)


class ApiViewSet(viewsets.GenericViewSet):
    """What every API viewset shares: answers are about one caller's data, so none is cached."""

    def filter_queryset(self, queryset):
        # Filters and ordering are parameters of lists. DRF applies them to one object's route
        # too, building and validating the filter form on every read, update and delete: a
        # tenth of an API read's time (docs/benchmarks.md), for parameters nobody sends there.
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response.setdefault("Cache-Control", "no-store")
        return response


class CustomerScopedViewSet(ApiViewSet):
    """The one place API queries are scoped: `Model.objects.for_user(request.user)`.

    Subclasses set `queryset = Model.objects.all()` (ordering and select_related are kept).
    Reads, updates and deletes all go through `get_queryset()`, so another customer's object is
    simply not there: a 404, never a 403 that would confirm it exists. Ownership of new objects
    comes from the request's user (in the services), never from the payload.

    `model_field_names` maps model field names to the API's where they differ, so that errors
    raised by services and audit entries speak the API's names.
    """

    model_field_names = {}

    def get_queryset(self):
        queryset = super().get_queryset()
        if not isinstance(queryset, CustomerScopedQuerySet):
            raise TypeError(
                f"{type(self).__name__} needs a model whose manager is a CustomerScopedQuerySet"
            )
        return queryset.for_user(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "model_field_names": self.model_field_names}


class StaffViewSet(ApiViewSet):
    """For routes only operator staff may use (switch nodes, sync); customers' keys get 403."""

    permission_classes = [IsAuthenticated, KeyScopePermission, IsStaff]


class AuditLogMixin:
    """`GET {id}/audit-log/`: the object's audit entries, newest first, secrets masked.

    Set `audit_secret_fields` to the model fields whose values must never be shown.
    """

    audit_secret_fields = ()

    @extend_schema(
        request=None,
        responses=AuditLogEntrySerializer(many=True),
        filters=False,
        summary="Audit log of one object, newest first",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="audit-log",
        url_name="audit-log",
        filter_backends=[],
    )
    def audit_log(self, request, *args, **kwargs):
        obj = self.get_object()
        entries = (
            LogEntry.objects.get_for_object(obj)
            .select_related("actor")
            .order_by("-timestamp", "-id")
        )
        page = self.paginate_queryset(entries)
        context = {
            "model_field_names": self.model_field_names,
            "secret_fields": self.audit_secret_fields,
            "viewer": request.user,
        }
        serializer = AuditLogEntrySerializer(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)


class BulkDeleteMixin:
    """`POST bulk-delete/` with `{"ids": [...]}`: all or nothing.

    Every id must be the caller's: if any is not (or does not exist) nothing is deleted and the
    answer is a 404 naming the ids not found. Subclasses implement `bulk_delete(queryset)` by
    calling their service, which deletes inside one transaction.
    """

    @extend_schema(
        request=BulkDeleteSerializer,
        responses={200: BulkDeleteResultSerializer},
        filters=False,
        summary="Delete several objects at once (all or nothing)",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="bulk-delete",
        url_name="bulk-delete",
        filter_backends=[],
        pagination_class=None,
    )
    def bulk_delete_action(self, request, *args, **kwargs):
        serializer = BulkDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = set(serializer.validated_data["ids"])
        with transaction.atomic():
            queryset = self.get_queryset().filter(pk__in=ids)
            # Locked, so what was found is still there when the service deletes it.
            found = set(queryset.select_for_update().values_list("pk", flat=True))
            missing = sorted(ids - found)
            if missing:
                shown = ", ".join(str(pk) for pk in missing[:20])
                more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
                raise NotFound(f"Nothing was deleted: no object with id {shown}{more}.")
            deleted = self.bulk_delete(queryset)
        return Response({"deleted": deleted}, status=status.HTTP_200_OK)

    def bulk_delete(self, queryset):
        raise NotImplementedError
