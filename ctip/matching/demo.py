"""Demo data of the matching app (idempotent): the same woman recorded twice in Cambodia
(her family's report in Khmer script and her passport) and once by the Chinese police, so
the review queue and the cross-border query have something to show."""

from __future__ import annotations

from django.db import transaction

from ctip.accounts.models import User
from ctip.cases.models import Person
from ctip.cases.services import PersonInput, person_create

DEMO = {
    "KH": [
        {
            "name_km": "សុខា ចាន់",
            "sex": "female",
            "age_estimate": 24,
            "nationality": "KH",
            "notes": "Family's missing-person report (demo)",
        },
        {
            "name_latin": "CHAN SOKHA",
            "sex": "female",
            "birth_year": 2001,
            "birth_month": 3,
            "birth_day": 14,
            "nationality": "KH",
            "document_type": "passport",
            "notes": "Passport record (demo)",
        },
    ],
    "CN": [
        {
            "name_zh": "索卡·占",
            "sex": "female",
            "age_estimate": 24,
            "nationality": "KH",
            "notes": "Police record (demo)",
        },
    ],
}


@transaction.atomic
def load_demo(node: str) -> None:
    from ctip.matching.services import candidates_for_person

    user = User.objects.filter(username=f"{node.lower()}_caseworker").first()
    if user is None:
        return
    held = {
        (p.name_km or "", p.name_zh or "", p.name_latin or "")
        for p in Person.objects.filter(owner_agency=user.agency)
    }
    for data in DEMO.get(node, []):
        key = (data.get("name_km", ""), data.get("name_zh", ""), data.get("name_latin", ""))
        if key in held:
            continue
        person = person_create(user=user, data=PersonInput(**data))
        candidates_for_person(person_id=person.pk)
