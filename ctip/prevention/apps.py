from django.apps import AppConfig


class PreventionConfig(AppConfig):
    name = "ctip.prevention"
    label = "prevention"
    verbose_name = "Prevention"

    def ready(self) -> None:
        from ctip.accounts import permissions as p
        from ctip.accounts.models import Role
        from ctip.prevention import sync

        sync.register()  # prevention.strategy and prevention.certificate_revocation

        everyone = {role: {p.VIEW} for role in Role.values}
        manage = {p.VIEW, p.CREATE, p.CHANGE}
        # The prevention working group (NCCT secretariat, supervisors) drafts, reviews and
        # agrees the strategy; every signed-in user reads it.
        p.register("strategy", everyone | {Role.ME_OFFICER: manage, Role.SUPERVISOR: manage})
        # Tool packages go on the public site: kept by the M&E officer and directory editors.
        p.register(
            "tool_package", everyone | {Role.ME_OFFICER: manage, Role.DIRECTORY_EDITOR: manage}
        )
        # Dissemination is recorded by those who run it (counts only, no names).
        p.register(
            "dissemination",
            everyone | {Role.ME_OFFICER: manage, Role.SUPERVISOR: manage, Role.CASEWORKER: manage},
        )
        # Certificates hold names and numbers: civil registration officers only.
        p.register("civil_certificate", {Role.CIVIL_REGISTRAR: manage})
