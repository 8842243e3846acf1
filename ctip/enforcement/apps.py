from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "ctip.enforcement"
    label = "enforcement"
    verbose_name = "Law-enforcement cooperation"

    def ready(self) -> None:
        from ctip.accounts import permissions as p
        from ctip.accounts.models import Role
        from ctip.enforcement import sync
        from ctip.enforcement.models import INDICATORS, RESOURCE

        sync.register()  # the enforcement.* message types of the exchange

        # Law-enforcement records (suspects, requests, meetings, testimony) are for police
        # focal officers only: social workers, shelter staff, consular staff, the DPO and
        # the node administrator get "not found". M&E officers see the indicators
        # (aggregates, no records).
        p.register(RESOURCE, {Role.POLICE_FOCAL: {p.VIEW, p.CREATE, p.CHANGE}})
        p.register(INDICATORS, {Role.POLICE_FOCAL: {p.VIEW}, Role.ME_OFFICER: {p.VIEW}})
