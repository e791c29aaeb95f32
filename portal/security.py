"""Response headers and failure handling that every page and API answer share.

Django 5.2 has no Content-Security-Policy of its own, so the portal sets one here. Every
script and style the portal uses is a file under /static/ (Swagger UI's page is overridden in
templates/drf_spectacular/ for that), so nothing inline is allowed: an injected <script> or
on* handler never runs.
"""

import logging
import sys

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views import defaults

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Swagger UI draws its icons from data: URLs.
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Content-Security-Policy on every response, and the headers Django's own middleware sets
    repeated here: this one is outermost, so it also covers answers that an inner middleware
    produced from an error (a bad Host header, a lost database) before those ran."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        return response


DATABASE_DOWN_MESSAGE = (
    "The portal's database cannot be reached just now. Nothing was changed; "
    "please try again in a few minutes."
)


class DatabaseUnavailableMiddleware:
    """Answer 503 with a clear message when PostgreSQL cannot be reached, instead of a 500.

    A request's writes run in one transaction (services use transaction.atomic), so a
    connection lost half way rolls back and nothing is half-written.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError) as exc:
            return self.unavailable(request, exc)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            return self.unavailable(request, exception)
        return None

    @staticmethod
    def unavailable(request, exc):
        # The exception text can hold the database URL's host and user, never a password we
        # log: only its class is recorded.
        log.error("Database unavailable for %s %s: %s", request.method, request.path, type(exc))
        headers = {"Retry-After": "30"}
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {
                    "error": {
                        "code": "service_unavailable",
                        "message": DATABASE_DOWN_MESSAGE,
                        "field": None,
                        "details": [],
                    }
                },
                status=503,
                headers=headers,
            )
        else:
            html = render_to_string("503.html", {"message": DATABASE_DOWN_MESSAGE})
            response = HttpResponse(html, status=503, headers=headers)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response["Cache-Control"] = "no-store"
        return response


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come with a request.

    A login without one (Django's test Client.login, a script in the shell) has no client
    address to throttle; every web and admin login passes its request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_locked_out(request, original_response, credentials):
    """django-axes' answer to a locked-out login: the login page again, saying why and for
    how long, with 429 so scripts can tell it from a wrong password."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/locked_out.html",
        {"cooloff_minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


def server_error(request):
    """handler500: a lost database is a 503 with a clear message wherever it surfaced (in a
    view, or in a middleware such as the session save); anything else is the plain 500."""
    exc = sys.exc_info()[1]
    if isinstance(exc, (OperationalError, InterfaceError)):
        return DatabaseUnavailableMiddleware.unavailable(request, exc)
    return defaults.server_error(request)
