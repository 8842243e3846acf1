from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "ctip.directory"
    label = "directory"
    verbose_name = "Services, shelters and focal persons"

    def ready(self) -> None:
        from ctip.accounts import permissions
        from ctip.accounts.models import Role
        from ctip.directory import sync

        sync.register()  # the directory.entry message type of the exchange

        view, create, change = permissions.VIEW, permissions.CREATE, permissions.CHANGE
        # Every signed-in role may look up services and focal persons (unpublished entries
        # included); only directory editors and node administrators change entries.
        readers = {
            Role.CASEWORKER,
            Role.SUPERVISOR,
            Role.SHELTER_STAFF,
            Role.POLICE_FOCAL,
            Role.CONSULAR_FOCAL,
            Role.ME_OFFICER,
            Role.DATA_PROTECTION_OFFICER,
        }
        editors = {Role.DIRECTORY_EDITOR, Role.NODE_ADMIN}
        permissions.register(
            "directory",
            {
                **{role: {view} for role in readers},
                **{role: {view, create, change} for role in editors},
            },
        )
        # Shelter assessments: seen by those who place victims in shelters, run them or
        # monitor them; recorded and followed up by directory editors and node admins.
        permissions.register(
            "shelter_assessment",
            {
                **{
                    role: {view}
                    for role in (
                        Role.CASEWORKER,
                        Role.SUPERVISOR,
                        Role.SHELTER_STAFF,
                        Role.ME_OFFICER,
                    )
                },
                **{role: {view, create, change} for role in editors},
            },
        )
