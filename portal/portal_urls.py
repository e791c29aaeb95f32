"""Portal pages that belong to no single app (API keys)."""

from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("api-keys/", views.ApiKeysView.as_view(), name="api_keys"),
    path("api-keys/<int:pk>/revoke/", views.RevokeApiKeyView.as_view(), name="api_key_revoke"),
]
