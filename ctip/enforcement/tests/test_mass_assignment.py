"""SECURITY.md #26 (mass assignment) for the law-enforcement API: a police officer cannot
put a case in another agency, seal it, choose its id, reference or opener by adding fields
to an ordinary write; they are ignored, never stored."""

from __future__ import annotations

import pytest

from ctip.cases.tests.conftest import api_for
from ctip.enforcement import services
from ctip.enforcement.models import LeCase, Suspect

pytestmark = pytest.mark.django_db

FOREIGN_ID = "00000000-0000-4000-8000-000000000042"


def extra_fields(agency, user) -> dict:
    return {
        "id": FOREIGN_ID,
        "reference": "KH-L-HIJACK01",
        "owner_agency": agency.code,
        "owner_agency_id": agency.pk,
        "agency": agency.code,
        "sealed": True,
        "opened_by": user.pk,
        "created_by": user.pk,
        "opened_at": "2001-01-01T00:00:00Z",
        "le_case": FOREIGN_ID,
    }


def test_case_open_ignores_owner_sealed_and_ids(police, police_b, police_agency, police_agency_b):
    api = api_for(police)
    response = api.post(
        "/api/v1/enforcement/cases",
        {"offences": ["labour_trafficking"], **extra_fields(police_agency_b, police_b)},
        format="json",
    )
    assert response.status_code == 201, response.content
    le_case = LeCase.objects.get()
    assert str(le_case.pk) != FOREIGN_ID and le_case.reference != "KH-L-HIJACK01"
    assert le_case.owner_agency == police_agency and le_case.opened_by == police
    assert le_case.sealed is False and le_case.opened_at.year > 2001
    assert response.json()["agency"] == police_agency.code
    # Police of the other agency still cannot see it: it did not become theirs.
    assert api_for(police_b).get(f"/api/v1/enforcement/cases/{le_case.pk}").status_code == 404


def test_suspect_add_ignores_owner_sealed_and_case(le_case, police, police_b, police_agency_b):
    other = services.le_case_open(
        user=police_b, data=services.LeCaseInput(offences=("labour_trafficking",))
    )
    api = api_for(police)
    response = api.post(
        f"/api/v1/enforcement/cases/{le_case.pk}/suspects",
        {
            "name": "Suspect Mass Assign",
            "role": Suspect._meta.get_field("role").choices[0][0],
            **extra_fields(police_agency_b, police_b),
            "le_case": str(other.pk),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    suspect = Suspect.objects.get()
    assert str(suspect.pk) != FOREIGN_ID
    assert suspect.le_case == le_case and not other.suspects.exists()
