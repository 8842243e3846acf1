"""Hook into the cases app without changing it: a new person, or one whose names, birth,
sex, nationality or place changed, is checked for duplicates after its transaction
commits, in the background worker (which also stores its blocking keys afresh)."""

from __future__ import annotations

from django.db import transaction

#: The fields of a person that matching compares: a save touching none of them (sealing,
#: say) changes nothing for matching.
MATCHED_FIELDS = frozenset(
    {
        "name_km",
        "name_zh",
        "name_latin",
        "aliases",
        "sex",
        "birth_year",
        "birth_month",
        "birth_day",
        "age_estimate",
        "nationality",
        "place_of_origin",
        "origin_code",
    }
)


def person_saved(
    sender, instance, created: bool, raw: bool = False, update_fields=None, **kwargs
) -> None:
    if raw:
        return
    if not created and update_fields is not None and not MATCHED_FIELDS & set(update_fields):
        return
    from ctip.matching.tasks import find_candidates

    person_id = str(instance.pk)
    transaction.on_commit(lambda: find_candidates(person_id))
