import copy
from collections.abc import Mapping

from auditlog.models import LogEntry
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from portal.audit import OPERATOR_STAFF, REDACTED_EMPTY, REDACTED_SET, redact, visible_actor

# Largest id PostgreSQL's bigint holds; a larger one cannot name any row.
MAX_ID = 2**63 - 1
MAX_BULK_IDS = 1000


class StrictSerializerMixin:
    """Refuse fields the serializer does not know: a typo must not be silently ignored.

    Read-only fields (id, created_at, ...) are known and ignored, so a representation that was
    read can be sent back as it is.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [ErrorDetail("Unknown field; check its spelling.", "unknown_field")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class PortalModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer that builds its fields from the model once per class.

    DRF builds them anew for every serializer, that is for every API request: reading the
    model's fields and their options took 0.4 ms of a 2.8 ms read of one entry
    (docs/benchmarks.md). A copy of the built fields is as good and costs half; what depends
    on the request (StaffCustomerMixin) is applied to the copy.
    """

    def get_fields(self):
        cls = type(self)
        if "_built_fields" not in cls.__dict__:
            cls._built_fields = super().get_fields()
        return copy.deepcopy(cls._built_fields)


class BulkDeleteSerializer(StrictSerializerMixin, serializers.Serializer):
    """The ids to delete: all of them or, if any is not yours, none."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        max_length=MAX_BULK_IDS,
        help_text=f"Ids of the objects to delete, at most {MAX_BULK_IDS}. All must be yours.",
    )


class BulkDeleteResultSerializer(serializers.Serializer):
    """What a bulk delete did."""

    deleted = serializers.IntegerField(help_text="How many objects were deleted.")


class AuditChangeSerializer(serializers.Serializer):
    """A field's value before and after the change."""

    old = serializers.CharField(allow_null=True)
    new = serializers.CharField(allow_null=True)


def _masked(value):
    if value is None or value == "None":
        return None  # no value at all: before creation, after deletion
    return value if value in (REDACTED_SET, REDACTED_EMPTY) else redact(value)


def _shown(value):
    # The audit log records a missing value (before creation, after deletion) as "None".
    return None if value is None or value == "None" else str(value)


ACTION_NAMES = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "access",
}


class AuditLogEntrySerializer(serializers.Serializer):
    """One change to the object: who, when, from where, and which fields (secrets masked)."""

    # The context's `model_field_names` maps model field names to the API's; `secret_fields`
    # lists model fields whose values are never shown. They are masked when written too;
    # masking again on the way out keeps entries written before a field was masked safe.

    id = serializers.IntegerField()
    action = serializers.ChoiceField(choices=list(ACTION_NAMES.values()))
    actor = serializers.CharField(
        allow_null=True,
        help_text=(
            "Username of who made the change; null for the system. Customers see changes "
            f'made by the operator\'s staff as "{OPERATOR_STAFF}", without their address.'
        ),
    )
    timestamp = serializers.DateTimeField()
    remote_addr = serializers.IPAddressField(
        allow_null=True, help_text="The client's address, when the change came from a request."
    )
    changes = serializers.DictField(
        child=AuditChangeSerializer(),
        help_text="Changed fields, each with its old and new value (secrets masked).",
    )

    def to_representation(self, entry):
        names = self.context.get("model_field_names", {})
        secrets = self.context.get("secret_fields", ())
        changes = {}
        for field, values in (entry.changes_dict or {}).items():
            old, new = (list(values) + [None, None])[:2]
            if field in secrets:
                old, new = _masked(old), _masked(new)
            # Nothing existed before a creation or after a deletion, whatever the mask wrote.
            if entry.action == LogEntry.Action.CREATE:
                old = None
            elif entry.action == LogEntry.Action.DELETE:
                new = None
            changes[names.get(field, field)] = {"old": _shown(old), "new": _shown(new)}
        actor, address = visible_actor(entry, self.context["viewer"])
        return {
            "id": entry.pk,
            "action": ACTION_NAMES.get(entry.action, "access"),
            "actor": actor,
            "timestamp": serializers.DateTimeField().to_representation(entry.timestamp),
            "remote_addr": address,
            "changes": changes,
        }


class ErrorDetailSerializer(serializers.Serializer):
    """One problem with the request."""

    field = serializers.CharField(
        allow_null=True, help_text="The field concerned (dotted for list items); null for none."
    )
    code = serializers.CharField(help_text="Machine-readable, e.g. invalid, required, not_found.")
    message = serializers.CharField(help_text="For humans.")


class ErrorBodySerializer(ErrorDetailSerializer):
    """The first problem, and the list of all of them."""

    details = ErrorDetailSerializer(many=True, help_text="Every problem found, the first one too.")


class ErrorSerializer(serializers.Serializer):
    """The one error shape: the first problem at the top, all of them in `details`."""

    error = ErrorBodySerializer()
