from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "ctip.finance"
    label = "finance"
    verbose_name = "Finance: cost sharing and the reintegration budget"

    def ready(self) -> None:
        from ctip.accounts import permissions as p
        from ctip.accounts.models import Role

        # The M&E officer is the NCCT secretariat: it records meetings, costs, donors and the
        # budget. Supervisors and node administrators look; every other role sees nothing.
        p.register(
            "finance",
            {
                Role.ME_OFFICER: {p.VIEW, p.CREATE, p.CHANGE},
                Role.SUPERVISOR: {p.VIEW},
                Role.NODE_ADMIN: {p.VIEW},
            },
        )

        from ctip.finance import sources

        # Trainings and law-enforcement meetings can become finance meetings.
        sources.register_installed()
