from django.urls import path

from . import views

app_name = "firewall"
urlpatterns = [
    path("", views.FirewallIndexView.as_view(), name="index"),
    path("unblock/", views.UnblockView.as_view(), name="unblock"),
    path("sync/", views.SyncNowView.as_view(), name="sync"),
    path("nodes/add/", views.AddNodeView.as_view(), name="add_node"),
    path("nodes/<int:pk>/enabled/", views.NodeEnabledView.as_view(), name="node_enabled"),
    path("my-blocks/", views.CustomerBlocksView.as_view(), name="customer_blocks"),
]
