app_name = "auth_config"
urlpatterns = []
