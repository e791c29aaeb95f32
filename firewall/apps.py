from django.apps import AppConfig


class FirewallConfig(AppConfig):
    name = "firewall"
    verbose_name = "Firewall"
