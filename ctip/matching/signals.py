"""Hook into the cases app without changing it: a new person is checked for duplicates
after its transaction commits, in the background worker."""

from __future__ import annotations

from django.db import transaction


def person_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    from ctip.matching.tasks import find_candidates

    person_id = str(instance.pk)
    transaction.on_commit(lambda: find_candidates(person_id))
