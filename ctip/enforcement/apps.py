from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "ctip.enforcement"
    label = "enforcement"
