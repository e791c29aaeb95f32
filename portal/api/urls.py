from django.urls import include, path

urlpatterns = [
    path("", include("auth_config.api.urls")),
    path("firewall/", include("firewall.api.urls")),
]
