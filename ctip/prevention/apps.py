from django.apps import AppConfig


class PreventionConfig(AppConfig):
    name = "ctip.prevention"
    label = "prevention"
