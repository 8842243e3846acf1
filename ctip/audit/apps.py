from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "ctip.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from ctip.audit import refusals

        # A refused attempt's security event outlives the transaction it was refused in.
        refusals.install()
