from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "ctip.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring and evaluation"

    def ready(self) -> None:
        from ctip.accounts import permissions as p
        from ctip.accounts.models import Role
        from ctip.monitoring import catalogue, sources, sync

        sync.register()  # the monitoring.statistics message type of the exchange
        sources.register_all()
        catalogue.register_all()

        # Aggregates only (DP-4). The M&E officer (NCCT secretariat) keeps the statistics,
        # the review notes and exports; supervisors and the DPO see the dashboard.
        p.register(
            "monitoring",
            {
                Role.ME_OFFICER: {p.VIEW, p.CREATE, p.CHANGE},
                Role.SUPERVISOR: {p.VIEW},
                Role.DATA_PROTECTION_OFFICER: {p.VIEW},
            },
        )
