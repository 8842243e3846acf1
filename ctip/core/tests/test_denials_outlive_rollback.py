"""A denial inside a service's transaction leaves its security event although the
transaction rolls back (docs/security.md: "a denial leaves a security event in the audit
log"), exactly once, through the service called directly, a page and the API, in two apps
(cases and finance); an allowed call, committed or failed, leaves no security event."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from ctip.accounts.permissions import NotFound
from ctip.accounts.services import grant_access
from ctip.audit.models import Action, AuditEvent
from ctip.audit.services import audit_verify
from ctip.cases import services as cases
from ctip.cases.models import CaseTransfer, Person
from ctip.cases.tests.conftest import (  # noqa: F401 - fixtures
    api_for,
    case_a,
    person_a,
    screening_a,
)
from ctip.finance import services as finance
from ctip.finance.models import Meeting
from ctip.testing import personas

pytestmark = pytest.mark.django_db

PersonInput = cases.PersonInput


def _last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _since(seq: int):
    return AuditEvent.objects.filter(seq__gt=seq).order_by("seq")


def _denials_since(seq: int) -> list[tuple]:
    return list(
        _since(seq)
        .filter(action=Action.SECURITY, details__event="access_denied")
        .values_list("actor_id", "object_type", "object_id", "details")
    )


def _security_since(seq: int) -> int:
    return _since(seq).filter(action=Action.SECURITY).count()


@pytest.fixture
def agency_c(db):
    return personas.agency("kh-agency-c")


@pytest.fixture
def grantee_b(case_a, caseworker_a, caseworker_b):  # noqa: F811
    """A caseworker of agency B with a need-to-know grant on agency A's case: the case's
    pages and API let them in, the transfer service refuses them inside its transaction."""
    grant_access(
        actor=caseworker_a,
        user=caseworker_b,
        resource="case",
        object_id=str(case_a.pk),
        reason="joint follow-up",
    )
    return caseworker_b


# --- cases ---------------------------------------------------------------------------------


def test_person_create_by_a_role_without_the_right_leaves_one_denial(me_officer):
    before, persons = _last_seq(), Person.objects.count()
    with pytest.raises(NotFound):
        cases.person_create(user=me_officer, data=PersonInput(name_latin="Nobody", sex="female"))
    assert _denials_since(before) == [
        (me_officer.pk, "person", "", {"event": "access_denied", "action": "create"})
    ]
    assert _since(before).count() == 1  # the denial only: nothing of the refused write
    assert Person.objects.count() == persons
    assert audit_verify().ok


def test_transfer_refused_inside_the_service_leaves_one_denial(case_a, grantee_b, agency_c):  # noqa: F811
    before = _last_seq()
    with pytest.raises(NotFound):
        cases.case_transfer_propose(user=grantee_b, case=case_a, to_agency=agency_c, reason="x")
    assert _denials_since(before) == [
        (grantee_b.pk, "case", str(case_a.pk), {"event": "access_denied", "action": "transfer"})
    ]
    assert not CaseTransfer.objects.exists()
    assert audit_verify().ok


def test_transfer_refused_through_the_page_leaves_one_denial(
    case_a,  # noqa: F811
    grantee_b,
    agency_c,
    client_of,
):
    before = _last_seq()
    response = client_of(grantee_b).post(
        f"/persons/cases/{case_a.pk}/transfer/", {"to_agency": str(agency_c.pk), "reason": "x"}
    )
    assert response.status_code == 404
    assert _denials_since(before) == [
        (grantee_b.pk, "case", str(case_a.pk), {"event": "access_denied", "action": "transfer"})
    ]
    assert not CaseTransfer.objects.exists()
    assert audit_verify().ok


def test_transfer_refused_through_the_api_leaves_one_denial(case_a, grantee_b, agency_c):  # noqa: F811
    client = api_for(grantee_b)
    before = _last_seq()
    response = client.post(
        f"/api/v1/cases/{case_a.pk}/transfer",
        {"to_agency": agency_c.code, "reason": "x"},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert _denials_since(before) == [
        (grantee_b.pk, "case", str(case_a.pk), {"event": "access_denied", "action": "transfer"})
    ]
    assert not CaseTransfer.objects.exists()
    assert audit_verify().ok


# --- finance -------------------------------------------------------------------------------


def _from_unknown_source(user, source_id: str) -> list[tuple]:
    """Two denials, each once: the training the source id names nothing of (its loader
    handles that one inside the transaction), then the finance meeting refused, which rolls
    the transaction back."""
    return [
        (user.pk, "training", source_id, {"event": "access_denied", "action": "view"}),
        (user.pk, "finance", source_id, {"event": "access_denied", "action": "create"}),
    ]


def test_meeting_create_by_a_role_without_the_right_leaves_one_denial(caseworker_a):
    before = _last_seq()
    with pytest.raises(NotFound):
        finance.meeting_create(
            user=caseworker_a,
            data=finance.MeetingInput(
                title="Workshop",
                kind="workshop",
                host_country="KH",
                place="Phnom Penh",
                starts_on=dt.date(2026, 11, 2),
                ends_on=dt.date(2026, 11, 3),
            ),
        )
    assert _denials_since(before) == [
        (caseworker_a.pk, "finance", "", {"event": "access_denied", "action": "create"})
    ]
    assert not Meeting.objects.exists()
    assert audit_verify().ok


def test_meeting_from_an_unknown_source_leaves_one_denial(me_officer):
    source_id, before = str(uuid.uuid4()), _last_seq()
    with pytest.raises(NotFound):
        finance.meeting_from_source(user=me_officer, source_type="training", source_id=source_id)
    assert _denials_since(before) == _from_unknown_source(me_officer, source_id)
    assert not Meeting.objects.exists()
    assert audit_verify().ok


def test_meeting_from_an_unknown_source_through_the_page_leaves_one_denial(me_officer, client_of):
    source_id, client = str(uuid.uuid4()), client_of(me_officer)
    before = _last_seq()
    response = client.post(
        "/finance/meetings/from/",
        {"source_type": "training", "source_id": source_id, "reporting_currency": "USD"},
    )
    assert response.status_code == 404
    assert _denials_since(before) == _from_unknown_source(me_officer, source_id)
    assert not Meeting.objects.exists()
    assert audit_verify().ok


def test_meeting_from_an_unknown_source_through_the_api_leaves_one_denial(me_officer):
    source_id, client = str(uuid.uuid4()), api_for(me_officer)
    before = _last_seq()
    response = client.post(
        "/api/v1/finance/meetings/from-source",
        {"source_type": "training", "source_id": source_id},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert _denials_since(before) == _from_unknown_source(me_officer, source_id)
    assert not Meeting.objects.exists()
    assert audit_verify().ok


# --- what must not change ------------------------------------------------------------------


def test_an_allowed_call_writes_its_audit_rows_and_no_security_event(caseworker_a):
    before = _last_seq()
    person = cases.person_create(
        user=caseworker_a, data=PersonInput(name_latin="Somebody", sex="female")
    )
    rows = list(_since(before).values_list("action", "object_type", "object_id", "actor_id"))
    assert rows == [(Action.CREATE, "cases.person", str(person.pk), caseworker_a.pk)]
    assert audit_verify().ok


def test_an_allowed_call_that_fails_leaves_no_security_event(case_a, caseworker_a, agency_c):  # noqa: F811
    before = _last_seq()
    with pytest.raises(ValidationError):  # the owner may transfer, but gives no reason
        cases.case_transfer_propose(user=caseworker_a, case=case_a, to_agency=agency_c, reason=" ")
    with pytest.raises(ValidationError):  # a caseworker may create, but not this
        cases.person_create(user=caseworker_a, data=PersonInput(name_latin="X", sex="neither"))
    assert not _since(before).exists()
    assert not CaseTransfer.objects.exists()
    assert audit_verify().ok


def test_a_denial_handled_inside_a_transaction_that_commits_is_written_once(
    me_officer, caseworker_a
):
    before = _last_seq()
    with transaction.atomic():
        with contextlib.suppress(NotFound):  # the caller handles the denial
            cases.person_create(user=me_officer, data=PersonInput(name_latin="X", sex="female"))
        cases.person_create(user=caseworker_a, data=PersonInput(name_latin="Y", sex="female"))
    assert len(_denials_since(before)) == 1
    assert _security_since(before) == 1
    assert _since(before).filter(action=Action.CREATE).count() == 1
    assert audit_verify().ok


def test_a_denial_through_nested_transactions_is_written_once(me_officer, caseworker_a):
    before = _last_seq()
    with pytest.raises(NotFound), transaction.atomic():
        cases.person_create(user=caseworker_a, data=PersonInput(name_latin="Y", sex="female"))
        with transaction.atomic():
            cases.person_create(user=me_officer, data=PersonInput(name_latin="X", sex="female"))
    assert len(_denials_since(before)) == 1
    assert _since(before).count() == 1  # the allowed create went with the outer rollback
    assert not Person.objects.exists()
    assert audit_verify().ok


def test_a_handled_denial_outlives_a_later_failure_of_its_transaction(me_officer, caseworker_a):
    before = _last_seq()
    with pytest.raises(ValidationError), transaction.atomic():
        with contextlib.suppress(NotFound):  # the caller handles the denial
            cases.person_create(user=me_officer, data=PersonInput(name_latin="X", sex="female"))
        cases.person_create(user=caseworker_a, data=PersonInput(name_latin="Y", sex="neither"))
    assert len(_denials_since(before)) == 1
    assert _since(before).count() == 1
    assert audit_verify().ok
