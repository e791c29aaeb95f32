app_name = "firewall"
urlpatterns = []
