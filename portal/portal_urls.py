"""Portal pages that belong to no single app (API keys)."""

app_name = "portal"
urlpatterns = []
