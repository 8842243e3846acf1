"""Fixtures of the cases tests: answers of a whole identification form, a person, a case."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ctip.accounts.services import token_create
from ctip.cases.services import (
    PersonInput,
    case_open,
    person_create,
    screening_start,
    screening_submit,
)

CANARY = "Canarysokha Zqxv"

# A Cambodian woman married through a broker in China: act, means and purpose established.
VICTIM_ANSWERS = {
    "interview_date": "2026-11-01",
    "interview_country": "CN",
    "interview_language": "km",
    "interpreter_used": "yes",
    "referral_source": "police",
    "consent_to_interview": "yes",
    "age_at_screening": "24",
    "exploitation_types": "forced_marriage",
    "exploitation_country": "CN",
    "act_recruited": "yes",
    "act_transported": "yes",
    "act_transferred": "no",
    "act_harboured": "unknown",
    "act_received_by_spouse": "yes",
    "means_deception": "yes",
    "means_threats": "no",
    "means_violence": "no",
    "means_confined": "yes",
    "means_documents": "yes",
    "means_debt": "no",
    "means_isolation": "yes",
    "means_vulnerability": "no",
    "means_payment": "yes",
    "purpose_marriage": "yes",
    "purpose_childbearing": "no",
    "immediate_needs": ["shelter", "medical"],
    "risk_if_returned": "no",
    "wants_assistance": "yes",
}


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=None, user=user)}")
    return client


@pytest.fixture
def victim_answers():
    return dict(VICTIM_ANSWERS)


@pytest.fixture
def person_a(caseworker_a):
    return person_create(
        user=caseworker_a,
        data=PersonInput(
            name_latin=CANARY, name_km="សុខា ចាន់", document_number="N9911", sex="female"
        ),
    )


@pytest.fixture
def screening_a(caseworker_a, person_a):
    screening = screening_start(user=caseworker_a, person=person_a)
    return screening_submit(user=caseworker_a, screening=screening, raw=dict(VICTIM_ANSWERS))


@pytest.fixture
def case_a(caseworker_a, person_a, screening_a):
    return case_open(
        user=caseworker_a, person=person_a, screening=screening_a, track="cross_border"
    )
