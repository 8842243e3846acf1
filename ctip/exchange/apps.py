from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "ctip.exchange"
    label = "exchange"
    verbose_name = _("Exchange with the other node")

    def ready(self) -> None:
        from ctip.accounts import permissions
        from ctip.accounts.models import Role
        from ctip.exchange.builtin import register_builtin_types

        # The node administrator runs the link (peers, retries, pings); the data protection
        # officer reviews it, read-only. Neither sees message bodies: the pages show metadata.
        permissions.register(
            "exchange",
            {
                Role.NODE_ADMIN: {permissions.VIEW, permissions.CHANGE},
                Role.DATA_PROTECTION_OFFICER: {permissions.VIEW},
            },
        )
        register_builtin_types()
