from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "ctip.monitoring"
    label = "monitoring"
