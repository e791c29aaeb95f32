from rest_framework.routers import SimpleRouter

from .views import IpAuthEntryViewSet, SipUserViewSet

router = SimpleRouter()
router.register("ip-auth", IpAuthEntryViewSet, basename="ip-auth")
router.register("sip-users", SipUserViewSet, basename="sip-user")

urlpatterns = router.urls
