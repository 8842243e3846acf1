"""Transfers of a case between agencies (proposed by the owner, accepted by the receiver;
the old agency keeps access only if named) and deadline reminders through the worker
(one per stage entry and threshold)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from ctip.accounts.permissions import NotFound
from ctip.audit.models import AuditEvent
from ctip.cases import services
from ctip.cases.models import (
    Case,
    CaseEvent,
    CaseTransfer,
    EventKind,
    ReminderThreshold,
    StageReminder,
    TransferStatus,
)
from ctip.cases.selectors import access_case, access_transfer, my_reminders, transfers_incoming
from ctip.cases.tests.conftest import CANARY, api_for
from ctip.testing import personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency_c(db):
    return personas.agency("kh-agency-c", type="shelter")


@pytest.fixture
def caseworker_c(agency_c):
    return personas.make_user("caseworker_c", agency_c, "caseworker").user


def test_transfer_proposed_then_accepted_moves_the_case_and_its_person(
    case_a, caseworker_a, colleague_a, supervisor_a, caseworker_b, agency_b
):
    transfer = services.case_transfer_propose(
        user=caseworker_a,
        case=case_a,
        to_agency=agency_b,
        reason="The person moved to the NGO's shelter",
        keep_access=[colleague_a],
    )
    # Nothing moved yet: A still owns it, B does not see the case, only the proposal.
    case_a.refresh_from_db()
    assert case_a.owner_agency.code == "kh-agency-a"
    with pytest.raises(NotFound):
        access_case(caseworker_b, case_a.pk)
    assert list(transfers_incoming(user=caseworker_b)) == [transfer]

    services.case_transfer_decide(user=caseworker_b, transfer=transfer, accept=True)
    case_a.refresh_from_db()
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ACCEPTED and transfer.decided_by == caseworker_b
    assert case_a.owner_agency == agency_b and case_a.assigned_to == caseworker_b
    assert case_a.person.owner_agency == agency_b
    assert case_a.screening.owner_agency == agency_b
    assert access_case(caseworker_b, case_a.pk) == case_a
    # The old agency lost access, except the colleague named to keep it.
    for lost in (caseworker_a, supervisor_a):
        with pytest.raises(NotFound):
            access_case(lost, case_a.pk)
    assert access_case(colleague_a, case_a.pk) == case_a
    kinds = list(case_a.events.values_list("kind", flat=True))
    assert kinds[-3:] == [EventKind.TRANSFER_PROPOSED, EventKind.ASSIGNED, "transfer_decided"]
    audited = AuditEvent.objects.filter(object_type="cases.casetransfer").values_list(
        "action", flat=True
    )
    assert sorted(audited) == ["create", "update"]
    # The reason is encrypted at rest and never in the timeline.
    assert CANARY not in str(list(CaseEvent.objects.values_list("details", flat=True)))


def test_declined_or_cancelled_transfer_leaves_the_case(case_a, caseworker_a, caseworker_b):
    transfer = services.case_transfer_propose(
        user=caseworker_a, case=case_a, to_agency=caseworker_b.agency, reason="capacity"
    )
    with pytest.raises(ValidationError):  # one open proposal at a time
        services.case_transfer_propose(
            user=caseworker_a, case=case_a, to_agency=caseworker_b.agency, reason="again"
        )
    services.case_transfer_decide(user=caseworker_b, transfer=transfer, accept=False)
    case_a.refresh_from_db()
    assert case_a.owner_agency.code == "kh-agency-a" and case_a.assigned_to == caseworker_a
    with pytest.raises(ValidationError):
        services.case_transfer_decide(user=caseworker_b, transfer=transfer, accept=True)
    again = services.case_transfer_propose(
        user=caseworker_a, case=case_a, to_agency=caseworker_b.agency, reason="capacity"
    )
    services.case_transfer_cancel(user=caseworker_a, transfer=again)
    assert CaseTransfer.objects.get(pk=again.pk).status == TransferStatus.CANCELLED
    assert not transfers_incoming(user=caseworker_b).exists()


def test_attacks_on_transfers(case_a, caseworker_a, caseworker_b, caseworker_c, agency_cn):
    # A transfer to an agency of the other country is refused.
    with pytest.raises(ValidationError, match="same country"):
        services.case_transfer_propose(
            user=caseworker_a, case=case_a, to_agency=agency_cn, reason="x"
        )
    # Another agency cannot propose a transfer of a case it does not own.
    with pytest.raises(NotFound):
        services.case_transfer_propose(
            user=caseworker_b, case=case_a, to_agency=caseworker_c.agency, reason="grab"
        )
    transfer = services.case_transfer_propose(
        user=caseworker_a, case=case_a, to_agency=caseworker_b.agency, reason="capacity"
    )
    # A third agency can neither see nor accept it; the receiver cannot cancel it.
    with pytest.raises(NotFound):
        access_transfer(caseworker_c, transfer.pk, incoming=True)
    with pytest.raises(NotFound):
        services.case_transfer_decide(user=caseworker_c, transfer=transfer, accept=True)
    with pytest.raises(NotFound):
        services.case_transfer_cancel(user=caseworker_b, transfer=transfer)
    # The proposer cannot accept its own proposal.
    with pytest.raises(NotFound):
        services.case_transfer_decide(user=caseworker_a, transfer=transfer, accept=True)
    case_a.refresh_from_db()
    assert case_a.owner_agency.code == "kh-agency-a"
    assert CaseTransfer.objects.get(pk=transfer.pk).status == TransferStatus.PROPOSED


def test_transfer_api_and_its_attacks(case_a, caseworker_a, caseworker_b, caseworker_c):
    answer = api_for(caseworker_a).post(
        f"/api/v1/cases/{case_a.pk}/transfer",
        {"to_agency": "cn-agency", "reason": "x"},
        format="json",
    )
    assert answer.status_code == 400  # no such agency on this node (or another country)
    answer = api_for(caseworker_b).post(
        f"/api/v1/cases/{case_a.pk}/transfer",
        {"to_agency": "kh-agency-c", "reason": "grab"},
        format="json",
    )
    assert answer.status_code == 404
    answer = api_for(caseworker_a).post(
        f"/api/v1/cases/{case_a.pk}/transfer",
        {"to_agency": "kh-agency-b", "reason": "capacity"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    transfer_id = answer.json()["id"]
    listed = api_for(caseworker_b).get("/api/v1/transfers").json()
    assert [t["case_reference"] for t in listed] == [case_a.reference]
    assert api_for(caseworker_c).get("/api/v1/transfers").json() == []
    denied = api_for(caseworker_c).post(
        f"/api/v1/transfers/{transfer_id}/decide", {"accept": True}, format="json"
    )
    assert denied.status_code == 404
    accepted = api_for(caseworker_b).post(
        f"/api/v1/transfers/{transfer_id}/decide", {"accept": True}, format="json"
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert Case.objects.get(pk=case_a.pk).owner_agency.code == "kh-agency-b"
    assert api_for(caseworker_a).get(f"/api/v1/cases/{case_a.pk}").status_code == 404


def test_transfer_through_the_pages(case_a, caseworker_a, caseworker_b, client_of):
    page = client_of(caseworker_a).get(f"/persons/cases/{case_a.pk}/")
    assert b"propose-transfer" in page.content
    answer = client_of(caseworker_a).post(
        f"/persons/cases/{case_a.pk}/transfer/",
        {"to_agency": str(caseworker_b.agency_id), "reason": "capacity"},
    )
    assert answer.status_code == 302
    transfer = CaseTransfer.objects.get(case=case_a)
    listing = client_of(caseworker_b).get("/persons/transfers/")
    assert case_a.reference.encode() in listing.content
    assert client_of(caseworker_a).get("/persons/transfers/").status_code == 200
    answer = client_of(caseworker_b).post(
        f"/persons/transfers/{transfer.pk}/decide/", {"decision": "accept"}
    )
    assert answer.status_code == 302 and str(case_a.pk) in answer["Location"]
    assert client_of(caseworker_a).get(f"/persons/cases/{case_a.pk}/").status_code == 404


def _make_due(case, days_left: float):
    now = timezone.now()
    Case.objects.filter(pk=case.pk).update(stage_due_at=now + dt.timedelta(days=days_left))


def test_reminders_once_per_stage_and_threshold(
    case_a, caseworker_a, supervisor_a, caseworker_b, django_capture_on_commit_callbacks
):
    caseworker_a.email, supervisor_a.email = "cw@example.org", "sup@example.org"
    caseworker_a.save()
    supervisor_a.save()
    _make_due(case_a, 0.5)
    from ctip.cases.tasks import stage_reminders

    with django_capture_on_commit_callbacks(execute=True):
        assert stage_reminders.call_local() == 1
    first = StageReminder.objects.get()
    assert first.threshold == ReminderThreshold.DUE
    assert list(first.recipients.all()) == [caseworker_a]  # due: the assignee
    assert stage_reminders.call_local() == 0  # idempotent
    _make_due(case_a, -1)
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.stage_reminders_send()
    assert [r.threshold for r in sent] == [ReminderThreshold.OVERDUE]
    assert set(sent[0].recipients.all()) == {caseworker_a, supervisor_a}
    assert services.stage_reminders_send() == []
    assert StageReminder.objects.count() == 2
    assert case_a.events.filter(kind=EventKind.REMINDER).count() == 2
    # Mails name the case reference, never the person.
    assert len(mail.outbox) == 2 and case_a.reference in mail.outbox[1].subject
    assert all(CANARY not in m.body + m.subject for m in mail.outbox)
    assert [r.case for r in my_reminders(user=supervisor_a)] == [case_a]
    assert not my_reminders(user=caseworker_b).exists()


def test_a_new_stage_gets_its_own_reminders(case_a, caseworker_a):
    _make_due(case_a, -1)
    assert len(services.stage_reminders_send()) == 1
    services.case_add_note(user=caseworker_a, case=case_a, text="screened")
    case_a.refresh_from_db()
    services.case_advance(user=caseworker_a, case=case_a)  # identified -> protected
    _make_due(case_a, -1)
    assert len(services.stage_reminders_send()) == 1
    assert StageReminder.objects.filter(case=case_a).count() == 2


def test_reminders_page_shows_only_mine(case_a, caseworker_a, caseworker_b, client_of):
    _make_due(case_a, -1)
    services.stage_reminders_send()
    mine = client_of(caseworker_a).get("/persons/reminders/")
    assert case_a.reference.encode() in mine.content
    other = client_of(caseworker_b).get("/persons/reminders/")
    assert other.status_code == 200 and case_a.reference.encode() not in other.content
