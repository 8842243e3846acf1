from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "ctip.cases"
    label = "cases"
    verbose_name = "Persons and victim cases"

    def ready(self) -> None:
        from ctip.accounts import permissions as p
        from ctip.accounts.models import Role

        p.register(
            "screening",
            {
                Role.CASEWORKER: {p.VIEW, p.CREATE, p.CHANGE, "import"},
                Role.SUPERVISOR: {p.VIEW, p.CREATE, p.CHANGE, "import"},
                Role.POLICE_FOCAL: {p.VIEW, p.CREATE, p.CHANGE},
                Role.SHELTER_STAFF: {p.VIEW},
                Role.CONSULAR_FOCAL: {p.VIEW},
                Role.DATA_PROTECTION_OFFICER: {p.VIEW},
            },
        )
        p.register(
            "case",
            {
                Role.CASEWORKER: {p.VIEW, p.CREATE, p.CHANGE, "break_glass"},
                Role.SUPERVISOR: {p.VIEW, p.CREATE, p.CHANGE, p.SEAL, "approve", "break_glass"},
                Role.SHELTER_STAFF: {p.VIEW, p.CHANGE, "break_glass"},
                Role.POLICE_FOCAL: {p.VIEW, p.CHANGE, "break_glass"},
                Role.CONSULAR_FOCAL: {p.VIEW, p.CHANGE, "break_glass"},
                # The DPO sees that cases exist (no personal fields) and reviews approvals.
                Role.DATA_PROTECTION_OFFICER: {p.VIEW, "review"},
            },
        )
        p.register("person", {Role.POLICE_FOCAL: {p.CREATE}})

        # The exchange app asks one function whether consent covers a cross-border message
        # (DP-1). Guarded so the cases app also runs in a build without the exchange.
        try:
            from ctip.exchange.registry import set_consent_checker
        except ImportError:
            return
        from ctip.cases.consent import exchange_consent_checker

        set_consent_checker(exchange_consent_checker)

        # The repatriation flow's message types (issue 8), and its awaited steps in the
        # deadline reminders.
        from ctip.cases import repatriation, services

        repatriation.register_types()
        if repatriation.due_repatriation_steps not in services.DUE_SOURCES:
            services.DUE_SOURCES.append(repatriation.due_repatriation_steps)
