"""SECURITY.md #26 (BOPLA, mass assignment) for the persons, screenings and cases API: fields
the caller may not set (owning agency, sealing, ids, who created it, the SOP stage, consent
bookkeeping) sent with an ordinary write are ignored (each input serializer names what it
takes), never stored."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from ctip.cases.models import Case, Consent, Person, Screening, Stage
from ctip.cases.tests.conftest import api_for

pytestmark = pytest.mark.django_db

FOREIGN_ID = "00000000-0000-4000-8000-000000000042"


def forbidden_fields(agency_b, other_user) -> dict:
    """What a caller must never set through an ordinary write, in the shapes a client
    would try (model field names, the output names and the raw foreign keys)."""
    return {
        "id": FOREIGN_ID,
        "pk": FOREIGN_ID,
        "reference": "KH-P-HIJACK01",
        "owner_agency": agency_b.code,
        "owner_agency_id": agency_b.pk,
        "agency": agency_b.code,
        "sealed": True,
        "created_by": other_user.pk,
        "created_by_id": other_user.pk,
        "created_at": "2001-01-01T00:00:00Z",
        "search_tokens": "planted",
        "data_key": FOREIGN_ID,
    }


def assert_not_stored(obj, agency_a, actor):
    obj.refresh_from_db()
    assert str(obj.pk) != FOREIGN_ID
    assert obj.owner_agency == agency_a
    assert obj.sealed is False
    assert obj.reference != "KH-P-HIJACK01"


def test_person_create_and_update_ignore_owner_sealed_ids_and_creator(
    caseworker_a, caseworker_b, agency_a, agency_b
):
    api = api_for(caseworker_a)
    extra = forbidden_fields(agency_b, caseworker_b)
    created = api.post(
        "/api/v1/persons", {"name_latin": "MASS ASSIGN", "sex": "female", **extra}, format="json"
    )
    assert created.status_code == 201
    assert not Person.objects.filter(pk=FOREIGN_ID).exists()
    person = Person.objects.get(pk=created.json()["id"])
    assert_not_stored(person, agency_a, caseworker_a)
    assert person.created_by == caseworker_a
    assert person.created_at.year == timezone.now().year
    assert person.search_tokens != "planted"
    assert created.json()["owner_agency"] == agency_a.code
    # B does not see it (it did not become B's record).
    assert api_for(caseworker_b).get(f"/api/v1/persons/{person.pk}").status_code == 404

    updated = api.put(
        f"/api/v1/persons/{person.pk}", {"name_latin": "MASS ASSIGN", **extra}, format="json"
    )
    assert updated.status_code == 200
    assert_not_stored(person, agency_a, caseworker_a)
    assert person.created_by == caseworker_a
    assert Person.objects.count() == 1


def test_screening_create_and_draft_ignore_owner_sealed_status_and_result(
    person_a, caseworker_a, caseworker_b, agency_a, agency_b
):
    api = api_for(caseworker_a)
    extra = {
        **forbidden_fields(agency_b, caseworker_b),
        "status": "submitted",
        "result": "victim",
        "child": True,
        "submitted_at": "2026-01-01T00:00:00Z",
        "external_id": "planted",
        "form_version": "1900.1",
    }
    created = api.post(
        "/api/v1/screenings",
        {"person": str(person_a.pk), "answers": {"interview_date": "2026-11-01"}, **extra},
        format="json",
    )
    assert created.status_code == 201
    assert not Screening.objects.filter(pk=FOREIGN_ID).exists()
    screening = Screening.objects.get(pk=created.json()["id"])
    assert_not_stored(screening, agency_a, caseworker_a)
    assert screening.status == "draft" and screening.submitted_at is None
    assert screening.result != "victim" and screening.external_id == ""
    assert screening.created_by == caseworker_a

    patched = api.patch(
        f"/api/v1/screenings/{screening.pk}",
        {"answers": {"consent_to_interview": "yes"}, **extra},
        format="json",
    )
    assert patched.status_code == 200
    assert_not_stored(screening, agency_a, caseworker_a)
    assert screening.status == "draft" and screening.submitted_at is None


def test_case_open_ignores_owner_sealed_stage_and_opener(
    person_a, screening_a, caseworker_a, caseworker_b, agency_a, agency_b
):
    api = api_for(caseworker_a)
    extra = {
        **forbidden_fields(agency_b, caseworker_b),
        "stage": Stage.CLOSED,
        "stage_due_at": None,
        "opened_by": caseworker_b.pk,
        "assigned_to": caseworker_b.username,
        "closed_at": "2026-01-01T00:00:00Z",
        "closure_reason": "declined",
        "sop_version": "0",
    }
    created = api.post(
        "/api/v1/cases",
        {
            "person": str(person_a.pk),
            "screening": str(screening_a.pk),
            "track": "cross_border",
            **extra,
        },
        format="json",
    )
    assert created.status_code == 201
    assert not Case.objects.filter(pk=FOREIGN_ID).exists()
    case = Case.objects.get(pk=created.json()["id"])
    assert_not_stored(case, agency_a, caseworker_a)
    assert case.stage == Stage.IDENTIFIED and case.closed_at is None and case.closure_reason == ""
    assert case.opened_by == caseworker_a and case.assigned_to != caseworker_b
    assert case.sop_version != "0"
    # Sealing did not slip through to the person either.
    person_a.refresh_from_db()
    assert person_a.sealed is False


def test_case_assign_and_advance_change_nothing_else(
    case_a, caseworker_a, colleague_a, caseworker_b, agency_a, agency_b
):
    api = api_for(caseworker_a)
    extra = {
        **forbidden_fields(agency_b, caseworker_b),
        "stage": Stage.CLOSED,
        "closure_reason": "declined",
        "closed_at": "2026-01-01T00:00:00Z",
    }
    patched = api.patch(
        f"/api/v1/cases/{case_a.pk}", {"assigned_to": colleague_a.username, **extra}, format="json"
    )
    assert patched.status_code == 200
    assert_not_stored(case_a, agency_a, caseworker_a)
    assert case_a.stage == Stage.IDENTIFIED and case_a.closed_at is None

    # A jump is not possible through advance either: it goes one stage on, whatever is sent.
    advanced = api.post(f"/api/v1/cases/{case_a.pk}/advance", extra, format="json")
    assert advanced.status_code in (200, 400, 403)
    assert_not_stored(case_a, agency_a, caseworker_a)
    assert case_a.stage in (Stage.IDENTIFIED, Stage.PROTECTED)
    assert case_a.closed_at is None and case_a.closure_reason == ""


def test_consent_record_ignores_its_bookkeeping_fields(
    case_a, caseworker_a, caseworker_b, agency_b
):
    api = api_for(caseworker_a)
    today = timezone.localdate()
    response = api.post(
        f"/api/v1/cases/{case_a.pk}/consents",
        {
            "decision": "given",
            "purpose": "nationality_verification",
            "recipient_country": "CN",
            "data_categories": ["identity"],
            "given_on": today.isoformat(),
            "how_given": "written",
            "language": "km",
            # Not the caller's to set:
            "id": FOREIGN_ID,
            "case": str(uuid.uuid4()),
            "recorded_by": caseworker_b.pk,
            "recorded_at": "2001-01-01T00:00:00Z",
            "withdrawn_at": None,
            "withdrawn_by": None,
            "owner_agency": agency_b.code,
            "sealed": True,
            "basis": "override",
        },
        format="json",
    )
    assert response.status_code == 201
    assert not Consent.objects.filter(pk=FOREIGN_ID).exists()
    consent = Consent.objects.get(pk=response.json()["id"])
    assert consent.case == case_a and consent.recorded_by == caseworker_a
    assert consent.recorded_at > timezone.now() - dt.timedelta(minutes=5)
    case_a.refresh_from_db()
    assert case_a.sealed is False


def test_a_role_that_may_not_seal_cannot_seal_through_the_api(
    person_a, caseworker_a, agency_a, agency_b, caseworker_b
):
    """The caseworker has no SEAL capability: sealed=True on an update leaves the record
    open, and B still cannot see it (sealing would also not have moved it)."""
    api = api_for(caseworker_a)
    response = api.put(
        f"/api/v1/persons/{person_a.pk}",
        {"name_latin": "SEAL ATTEMPT", "sealed": True, "sealed_for": [caseworker_b.pk]},
        format="json",
    )
    assert response.status_code == 200
    person_a.refresh_from_db()
    assert person_a.sealed is False
    from ctip.accounts.models import AccessGrant

    assert not AccessGrant.objects.filter(user=caseworker_b).exists()
