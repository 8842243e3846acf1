from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "ctip.audit"
    label = "audit"
    verbose_name = "Audit log"
