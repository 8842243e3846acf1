"""The endpoints that exist since the Foundation: health, sign-in page, persons, agencies, me."""

from __future__ import annotations

from bench.load import Endpoint

SYLLABLES = ["so", "kha", "chan", "mao", "srey", "leak", "li", "wei", "dara", "vann", "pich"]
AGENCIES = ["kh-bench-a", "kh-bench-b"]
PERSONS_PER_AGENCY = 250


def synthetic_person(rng) -> dict:
    def word():
        return "".join(rng.choice(SYLLABLES) for _ in range(2)).upper()

    return {
        "name_latin": f"{word()} {word()}",
        "sex": rng.choice(["female", "male", "unknown"]),
        "birth_year": rng.randrange(1970, 2010),
        "nationality": "KH",
        "document_number": f"B{rng.randrange(10**7):07d}",
        "notes": "synthetic record for the load benchmark",
    }


ENDPOINTS = [
    Endpoint("healthz", path="/healthz", auth=False, weight=1),
    Endpoint("sign-in page", path="/accounts/login/", auth=False, weight=1),
    Endpoint("api: me", path="/api/v1/me", weight=2),
    Endpoint("api: agencies", path="/api/v1/agencies", weight=2),
    Endpoint("api: persons list", path="/api/v1/persons?limit=20", weight=4),
    Endpoint(
        "api: person detail",
        path=lambda ctx, user, rng: f"/api/v1/persons/{ctx.pick('person', user, rng)}",
        weight=4,
    ),
    Endpoint(
        "api: person create",
        method="POST",
        path="/api/v1/persons",
        body=lambda ctx, user, rng: synthetic_person(rng),
        ok=(201,),
        weight=2,
    ),
]


def seed(ctx) -> None:
    """Two agencies, the benchmark's caseworkers (each with an API token), persons."""
    import random

    from ctip.accounts.services import AgencyInput, agency_upsert, token_create, user_create
    from ctip.cases.services import PersonInput, person_create

    rng = random.Random(7)  # noqa: S311 - synthetic data
    agencies = [
        agency_upsert(actor=None, data=AgencyInput(code, f"Bench agency {code}", "ngo", "KH"))
        for code in AGENCIES
    ]
    users = []
    for i in range(ctx.user_count):
        agency = agencies[i % len(agencies)]
        new = user_create(
            actor=None, username=f"bench_user_{i}", agency=agency, roles=["caseworker"]
        )
        ctx.add_user(new.user.username, agency.code, token_create(actor=None, user=new.user))
        users.append(new.user)
    for agency in agencies:
        author = next(u for u in users if u.agency_id == agency.pk)
        ids = [
            str(person_create(user=author, data=PersonInput(**synthetic_person(rng))).pk)
            for _ in range(PERSONS_PER_AGENCY)
        ]
        ctx.add_ids("person", agency.code, ids)
