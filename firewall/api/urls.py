from rest_framework.routers import SimpleRouter

from .views import BlockedIpViewSet, SwitchNodeViewSet, SyncViewSet

router = SimpleRouter()
router.register("blocked-ips", BlockedIpViewSet, basename="blocked-ip")
router.register("switches", SwitchNodeViewSet, basename="switch")
router.register("sync", SyncViewSet, basename="sync")

urlpatterns = router.urls
