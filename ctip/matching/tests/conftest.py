"""Fixtures shared by the matching tests: the other node pinned offline, and a woman whose
record is in Khmer script and Latin letters."""

from __future__ import annotations

import pytest

from ctip.cases.services import PersonInput, person_create
from ctip.testing.peers import pin_offline_peer


@pytest.fixture
def cn_peer(db):
    return pin_offline_peer("CN")


@pytest.fixture
def sokha(caseworker_a):
    return person_create(
        user=caseworker_a,
        data=PersonInput(name_km="សុខា ចាន់", name_latin="CHAN SOKHA", sex="female", birth_year=2001),
    )
