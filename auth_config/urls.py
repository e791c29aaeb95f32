from django.urls import path

from . import views

app_name = "auth_config"
urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("ip/new/", views.IpEntryCreateView.as_view(), name="ip_create"),
    path("ip/check-hosts/", views.IpHostCheckView.as_view(), name="ip_host_check"),
    path("ip/delete/", views.IpEntryDeleteView.as_view(), name="ip_delete"),
    path("ip/<int:pk>/", views.IpEntryUpdateView.as_view(), name="ip_edit"),
    path("ip/<int:pk>/audit-log/", views.IpEntryAuditView.as_view(), name="ip_audit"),
    path("sip-users/new/", views.SipUserCreateView.as_view(), name="sip_create"),
    path("sip-users/delete/", views.SipUserDeleteView.as_view(), name="sip_delete"),
    path("sip-users/<int:pk>/", views.SipUserUpdateView.as_view(), name="sip_edit"),
    path(
        "sip-users/<int:pk>/new-password/",
        views.GeneratedPasswordView.as_view(),
        name="sip_password",
    ),
    path("sip-users/<int:pk>/audit-log/", views.SipUserAuditView.as_view(), name="sip_audit"),
]
