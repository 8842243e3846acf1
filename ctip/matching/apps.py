from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "ctip.matching"
    label = "matching"
