from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "ctip.exchange"
    label = "exchange"
