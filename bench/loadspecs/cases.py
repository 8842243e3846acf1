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
        path="/api/v1/cases/search?limit=20",
        method="POST",
        body=lambda ctx, user, rng: {"q": rng.choice(QUERIES)},
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
