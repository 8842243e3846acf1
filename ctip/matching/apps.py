from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "ctip.matching"
    label = "matching"
    verbose_name = "Matching"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from ctip.accounts import permissions as p
        from ctip.accounts.models import Role
        from ctip.matching import xborder
        from ctip.matching.signals import person_saved

        # Caseworkers and supervisors review duplicate candidates and merge what they may
        # see; focal officers and supervisors ask the other node (encodings only).
        p.register(
            "matching",
            {
                Role.CASEWORKER: {p.VIEW, p.CHANGE},
                Role.SUPERVISOR: {p.VIEW, p.CHANGE},
            },
        )
        p.register(
            "matching_query",
            {
                Role.SUPERVISOR: {p.VIEW, p.CREATE},
                Role.POLICE_FOCAL: {p.VIEW, p.CREATE},
                Role.CASEWORKER: {p.VIEW, p.CREATE},
            },
        )
        xborder.register()
        post_save.connect(person_saved, sender="cases.Person", dispatch_uid="matching.person")
