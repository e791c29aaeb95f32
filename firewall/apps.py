from django.apps import AppConfig


class FirewallConfig(AppConfig):
    name = "firewall"
    verbose_name = "Firewall"

    def ready(self):
        from auth_config.services import on_switch_data_changed

        from .services import switch_data_changed

        on_switch_data_changed(switch_data_changed)
