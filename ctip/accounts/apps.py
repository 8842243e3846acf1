from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ctip.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from ctip.accounts import signals  # noqa: F401  (login audit receivers)
