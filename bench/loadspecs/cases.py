"""Cases under load (issue 5): case list, overdue list, search by name across scripts, case
detail, and screening submission (the whole identification form, scored), on
``BENCH_CASES`` cases (100,000 by default) split between the two benchmark agencies.

Seeding shortcut: cases, their persons and screenings are written with ``bulk_create``
under one data key (fields still encrypted by the model fields, search tokens computed by
the service's function, the screening answers cleaned and scored by the form engine once),
because 100,000 runs of the services with an audit row each would take longer than the
benchmark. The endpoints measured are the real API with tokens of caseworkers.
"""

from __future__ import annotations

import os

from bench.load import Endpoint

CASES = int(os.environ.get("BENCH_CASES", "100000"))
PICK_IDS = 2000  # case ids kept per agency for the detail endpoint

GIVEN = [
    ("សុខា", "SOKHA"),
    ("ស្រីល័ក្ខ", "SREYLEAK"),
    ("ដារា", "DARA"),
    ("ពិសិដ្ឋ", "PISETH"),
    ("ចាន់ធី", "CHANTHY"),
    ("វណ្ណា", "VANNA"),
    ("ស្រីនាង", "SREYNEANG"),
    ("សុភា", "SOPHEA"),
]
FAMILY = [
    ("ចាន់", "CHAN"),
    ("ម៉ៅ", "MAO"),
    ("សុខ", "SOK"),
    ("ហេង", "HENG"),
    ("ខៀវ", "KHIEU"),
    ("ឡុង", "LONG"),
    ("សៅ", "SAO"),
    ("គឹម", "KIM"),
]
HAN = ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "黄丽", "赵强"]
# What users type: Latin for Khmer-script names, pinyin for Chinese ones, Khmer script.
QUERIES = ["sokha", "Sreyleak Mao", "dara", "wang", "li na", "ចាន់", "chanthy", "zhang"]

ANSWERS = {
    "interview_date": "2026-11-01",
    "interview_country": "KH",
    "interview_language": "km",
    "interpreter_used": "no",
    "referral_source": "police",
    "consent_to_interview": "yes",
    "age_at_screening": "24",
    "exploitation_types": ["forced_criminality"],
    "exploitation_country": "KH",
    "act_recruited": "yes",
    "act_transported": "yes",
    "act_transferred": "no",
    "act_harboured": "yes",
    "means_deception": "yes",
    "means_threats": "yes",
    "means_violence": "no",
    "means_confined": "yes",
    "means_documents": "yes",
    "means_debt": "no",
    "means_isolation": "yes",
    "means_vulnerability": "unknown",
    "means_payment": "no",
    "purpose_wages": "yes",
    "purpose_hours": "yes",
    "purpose_scam": "yes",
    "purpose_quotas": "yes",
    "immediate_needs": ["shelter"],
    "risk_if_returned": "no",
    "wants_assistance": "yes",
}

ENDPOINTS = [
    Endpoint("cases: list", path="/api/v1/cases?limit=20", weight=3),
    Endpoint("cases: overdue", path="/api/v1/cases?overdue=true&limit=20", weight=1),
    Endpoint(
        "cases: search",
        path=lambda ctx, user, rng: f"/api/v1/cases?limit=20&q={_quote(rng.choice(QUERIES))}",
        weight=2,
    ),
    Endpoint(
        "cases: detail",
        path=lambda ctx, user, rng: f"/api/v1/cases/{ctx.pick('case', user, rng)}",
        weight=3,
    ),
    Endpoint(
        "screenings: submit",
        method="POST",
        path="/api/v1/screenings",
        body=lambda ctx, user, rng: {
            "person": ctx.pick("person", user, rng),
            "submit": True,
            "answers": ANSWERS,
        },
        ok=(201,),
        weight=1,
    ),
]


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def seed(ctx) -> None:
    import datetime as dt
    import json
    import random

    from django.db import transaction
    from django.utils import timezone

    from ctip.accounts.models import User
    from ctip.cases import formdefs
    from ctip.cases.idform import clean_answers, score_answers
    from ctip.cases.models import Case, Person, Screening
    from ctip.cases.services import person_search_tokens
    from ctip.core.models import DataKey

    rng = random.Random(11)  # noqa: S311 - synthetic data
    definition = formdefs.current_definition()
    row = formdefs.form_version_row(definition)
    cleaned = clean_answers(definition, ANSWERS)
    score = score_answers(definition, cleaned.answers)
    answers_json = json.dumps(cleaned.answers, ensure_ascii=False)
    findings_json = json.dumps(score.as_json())
    key = DataKey.issue()
    now = timezone.now()
    agencies = sorted({u.agency for u in ctx.users})
    authors = {
        a: User.objects.get(username=next(u.username for u in ctx.users if u.agency == a))
        for a in agencies
    }
    per_agency = CASES // max(len(agencies), 1)
    for agency in agencies:
        author = authors[agency]
        picked: list[str] = []
        for start in range(0, per_agency, 2000):
            persons, screenings, cases = [], [], []
            for n in range(start, min(start + 2000, per_agency)):
                if rng.random() < 0.35:
                    names = {"name_zh": rng.choice(HAN)}
                else:
                    (gk, gl), (fk, fl) = rng.choice(GIVEN), rng.choice(FAMILY)
                    names = {"name_km": f"{gk} {fk}", "name_latin": f"{fl} {gl}"}
                person = Person(
                    reference=f"KH-P-{agency[-1].upper()}{n:07d}",
                    owner_agency=author.agency,
                    created_by=author,
                    data_key=key,
                    sex=rng.choice(["female", "male"]),
                    nationality="KH",
                    **names,
                )
                person.search_tokens = person_search_tokens(person)
                persons.append(person)
                screening = Screening(
                    reference=f"KH-S-{agency[-1].upper()}{n:07d}",
                    data_key=key,
                    owner_agency=author.agency,
                    person=person,
                    form_version=row,
                    status="submitted",
                    answers=answers_json,
                    findings=findings_json,
                    result=score.result,
                    child=False,
                    created_by=author,
                    submitted_at=now,
                )
                screenings.append(screening)
                entered = now - dt.timedelta(days=rng.randrange(0, 40))
                cases.append(
                    Case(
                        reference=f"KH-C-{agency[-1].upper()}{n:07d}",
                        data_key=key,
                        owner_agency=author.agency,
                        person=person,
                        screening=screening,
                        track=rng.choice(["cross_border", "in_country"]),
                        stage=rng.choice(["identified", "protected", "reintegration"]),
                        stage_entered_at=entered,
                        stage_due_at=entered + dt.timedelta(days=30),
                        sop_version="bench",
                        assigned_to=author,
                        opened_at=entered,
                        opened_by=author,
                    )
                )
            with transaction.atomic():
                Person.objects.bulk_create(persons)
                Screening.objects.bulk_create(screenings)
                Case.objects.bulk_create(cases)
            if len(picked) < PICK_IDS:
                picked.extend(str(c.pk) for c in cases[: PICK_IDS - len(picked)])
        ctx.add_ids("case", agency, picked)
