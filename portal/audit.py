"""Audit-log helpers shared by the apps."""

import contextlib
from contextvars import ContextVar

from auditlog.context import auditlog_value, set_actor

# True while a request's audit context (opened by portal.middleware) is active.
in_request_context = ContextVar("in_request_context", default=False)

REDACTED_SET = "[set]"
REDACTED_EMPTY = "[not set]"
# How operator staff appear in a customer's audit log: the customer learns that the operator
# made the change, not who at the operator, nor from which of the operator's addresses.
OPERATOR_STAFF = "operator staff"


def redact(value):
    """Mask a secret completely: the log says whether a value is set, never any of it.

    django-auditlog's default mask keeps half of the string, which leaks secrets.
    """
    if value in (None, "", "None"):
        return REDACTED_EMPTY
    return REDACTED_SET


@contextlib.contextmanager
def acting_as(user):
    """Attribute the audit entries written inside the block to `user`.

    Inside a request the middleware has already opened an audit context with the client's
    address, but its actor is empty when the caller authenticated after the middleware ran
    (an API key): fill it in rather than open a second context, which would end the first.
    """
    actor = user if user is not None and user.is_authenticated else None
    if in_request_context.get():
        context = auditlog_value.get()
        if context.get("actor") is None:
            context["actor"] = actor
        yield
        return
    with set_actor(actor):
        yield


def visible_actor(log_entry, viewer):
    """Who made a logged change and from where, as `viewer` may see it: (name, address).

    The name is None for a change made by the system (a sync, a command).
    """
    if not log_entry.actor_id:
        return None, log_entry.remote_addr
    actor = log_entry.actor
    if actor.is_staff and not viewer.is_staff:
        return OPERATOR_STAFF, None
    return actor.get_username(), log_entry.remote_addr
