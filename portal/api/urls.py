from django.urls import include, path, re_path

from .views import not_found

app_name = "api"
urlpatterns = [
    path("", include("auth_config.api.urls")),
    path("firewall/", include("firewall.api.urls")),
    # Anything else under /api/v1/ is a 404 in the API's JSON error shape, not an HTML page.
    re_path(r"^.*$", not_found, name="not-found"),
]
