from django.apps import AppConfig

# Actions on the resource "plan": view it; change status and indicator values; amend the
# plan (new versions, endorsements, progress reports); load the plan file.
VIEW, CHANGE, AMEND, LOAD = "view", "change", "amend", "load"


class PlanConfig(AppConfig):
    name = "ctip.plan"
    label = "plan"
    verbose_name = "Plan of Action"

    def ready(self):
        from ctip.accounts import permissions
        from ctip.accounts.models import Role
        from ctip.plan import sync

        sync.register()  # the plan.endorsement and plan.report message types of the exchange

        # Everyone signed in may view the plan; the NCCT secretariat (M&E officer) keeps it,
        # supervisors may report status, the node administrator loads the plan file.
        grants: dict[str, set[str]] = {role: {VIEW} for role in Role.values}
        grants[Role.ME_OFFICER] |= {CHANGE, AMEND}
        grants[Role.SUPERVISOR] |= {CHANGE}
        grants[Role.NODE_ADMIN] |= {LOAD}
        permissions.register("plan", grants)
