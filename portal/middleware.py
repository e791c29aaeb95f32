from auditlog.middleware import AuditlogMiddleware
from django.conf import settings

from .audit import in_request_context


def client_ip(request):
    """The client's address: the socket peer, or the entry added by our own trusted proxies.

    X-Forwarded-For is only believed for the hops we run (TRUSTED_PROXY_COUNT), so a client
    cannot choose the address that ends up in the audit log.
    """
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return request.META.get("REMOTE_ADDR")


class AuditContextMiddleware(AuditlogMiddleware):
    """Attach the actor and the real client address to audit entries written by a request."""

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)

    @staticmethod
    def _get_remote_port(request):
        # The stock middleware reads X-Forwarded-Port, which any client can set.
        return None

    def __call__(self, request):
        token = in_request_context.set(True)
        try:
            return super().__call__(request)
        finally:
            in_request_context.reset(token)
