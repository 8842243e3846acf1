"""Identified victims to compute indicators on, made through the cases services (as the
pages would), with known sexes, ages, nationalities, provinces and forms of exploitation."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from ctip.cases import services as cases
from ctip.cases.demo import _answers


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def identify(
    user,
    *,
    sex,
    birth_year=None,
    age=None,
    nationality="KH",
    origin="KH-1404",
    kind="forced_marriage",
    country="CN",
    open_case=False,
    track="cross_border",
):
    person = cases.person_create(
        user=user,
        data=cases.PersonInput(
            name_latin="TEST PERSON",
            sex=sex,
            birth_year=birth_year,
            age_estimate=age if birth_year is None else None,
            nationality=nationality,
            origin_code=origin,
        ),
    )
    screening = cases.screening_start(user=user, person=person)
    screening = cases.screening_submit(
        user=user,
        screening=screening,
        raw=_answers(kind, age=age or 30, country=country),
    )
    case = None
    if open_case and screening.result in cases.OPENING_RESULTS:
        case = cases.case_open(user=user, person=person, screening=screening, track=track)
    return person, screening, case


@pytest.fixture
def victims(caseworker_a):
    """12 identified victims: 7 women (forced marriage, in China), 5 men (forced
    criminality, in Cambodia); two of the men are Chinese; one case opened."""
    made = []
    for i in range(7):
        made.append(
            identify(caseworker_a, sex="female", age=19 + i, kind="forced_marriage", country="CN")
        )
    for i in range(5):
        made.append(
            identify(
                caseworker_a,
                sex="male",
                age=30,
                nationality="CN" if i < 2 else "KH",
                origin="" if i < 2 else "KH-0301",
                kind="forced_criminality",
                country="KH",
                open_case=i == 4,
                track="in_country",
            )
        )
    return made
