"""The one JSON error shape of the API.

    {"error": {"code": "invalid", "message": "...", "field": "host",
               "details": [{"field": "host", "code": "invalid", "message": "..."}]}}

`field` is null when the error concerns the request as a whole. Services raise Django's
ValidationError (keyed by model field); it is reported like a serializer's, with the model's
field names translated to the API's.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

# Keys that mean "the request as a whole" rather than one field.
NON_FIELD_KEYS = {"__all__", "non_field_errors"}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


# Codes the models and services give errors caused by other data, not by the request itself
# (a taken username, an address another entry has or overlaps, a concurrent save): answered
# with 409.
CONFLICT_CODES = {"unique", "overlap", "conflict"}


def django_validation_error_to_drf(exc, field_names=None):
    """Translate a service's ValidationError into DRF's, keeping each message's code."""
    field_names = field_names or {}
    if hasattr(exc, "error_dict"):
        detail = {}
        for field, errors in exc.error_dict.items():
            key = "non_field_errors" if field in NON_FIELD_KEYS else field_names.get(field, field)
            detail.setdefault(key, []).extend(
                exceptions.ErrorDetail(message, code=error.code or "invalid")
                for error in errors
                for message in error.messages
            )
        codes = {message.code for messages in detail.values() for message in messages}
        if codes <= CONFLICT_CODES:
            return Conflict(detail)
        return exceptions.ValidationError(detail)
    return exceptions.ValidationError(
        {
            "non_field_errors": [
                exceptions.ErrorDetail(message, code=error.code or "invalid")
                for error in exc.error_list
                for message in error.messages
            ]
        }
    )


def _flatten(detail, path=()):
    """Yield (field path, ErrorDetail) for every message in a DRF error detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, path + (str(key),))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            # A list of messages belongs to the field itself; a list of dicts or lists is
            # per item (whitelist entries, ids), so the index becomes part of the path.
            yield from _flatten(
                value, path + ((str(index),) if isinstance(value, (dict, list)) else ())
            )
    else:
        yield path, detail


def _field_of(path):
    if not path or path[0] in NON_FIELD_KEYS:
        return None
    return ".".join(path)


def error_body(exc):
    """The error document for an APIException."""
    details = []
    if isinstance(exc.detail, (dict, list)):
        for path, message in _flatten(exc.detail):
            details.append(
                {
                    "field": _field_of(path),
                    "code": getattr(message, "code", None) or exc.default_code,
                    "message": str(message),
                }
            )
    if not details:
        details.append(
            {
                "field": None,
                "code": getattr(exc.detail, "code", None) or exc.default_code,
                "message": str(exc.detail),
            }
        )
    first = details[0]
    if isinstance(exc, exceptions.ValidationError) and len(details) > 1:
        fields = sorted({d["field"] for d in details if d["field"]})
        message = (
            f"Invalid input in {', '.join(fields)}: {first['message']}"
            if fields
            else first["message"]
        )
    else:
        message = first["message"]
    return {
        "error": {
            "code": first["code"],
            "message": message,
            "field": first["field"],
            "details": details,
        }
    }


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        view = context.get("view")
        exc = django_validation_error_to_drf(exc, getattr(view, "model_field_names", None))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"
    set_rollback()
    return Response(error_body(exc), status=exc.status_code, headers=headers)
