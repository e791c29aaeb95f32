from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/floor/ip-auth/", views.ip_auth_floor),
    path("bench/floor/ip-auth/<int:pk>/", views.ip_auth_entry_floor),
    path("bench/bare/", views.bare),
    path("", include("portal.urls")),
]
