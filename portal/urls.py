from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import two_factor

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="auth_config:index"), name="home"),
    path("accounts/2fa/", two_factor.VerifyView.as_view(), name="otp_verify"),
    path("accounts/2fa/setup/", two_factor.SetupView.as_view(), name="otp_setup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("auth/", include("auth_config.urls")),
    path("firewall/", include("firewall.urls")),
    path("", include("portal.portal_urls")),
    path("api/v1/", include("portal.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, as the CSP requires.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler500 = "portal.security.server_error"
