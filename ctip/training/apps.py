from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "ctip.training"
    label = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        from ctip.accounts import permissions as p
        from ctip.accounts.models import Role

        # Supervisors and M&E officers manage trainings and the manual (object rule: only
        # trainings their agency organises); officials view trainings and their own
        # certificates; the node administrator views (no participant names).
        manage = {p.VIEW, p.CREATE, p.CHANGE}
        p.register(
            "training",
            {
                Role.SUPERVISOR: manage,
                Role.ME_OFFICER: manage,
                Role.CASEWORKER: {p.VIEW},
                Role.POLICE_FOCAL: {p.VIEW},
                Role.CONSULAR_FOCAL: {p.VIEW},
                Role.NODE_ADMIN: {p.VIEW},
            },
        )
