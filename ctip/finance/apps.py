from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "ctip.finance"
    label = "finance"
