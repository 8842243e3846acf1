"""Retention (DP-7): records past their retention are crypto-shredded with their keyed
tokens, in one transaction, once; what is open, recent, on legal hold or under review is
kept; the dry run changes nothing; pages about an erased record still open."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ctip.accounts import permissions
from ctip.audit.models import AuditEvent
from ctip.cases import retention
from ctip.cases.models import (
    Approval,
    ApprovalKind,
    Case,
    CaseDocument,
    CaseNote,
    LegalHold,
    Person,
    Screening,
)
from ctip.cases.retention import Schedule, legal_hold_place, legal_hold_release, retention_purge
from ctip.cases.selectors import person_list
from ctip.cases.services import (
    PersonInput,
    break_glass_request,
    case_add_note,
    case_open,
    case_set_sealed,
    person_create,
    screening_start,
    screening_submit,
)
from ctip.cases.tests.conftest import CANARY, VICTIM_ANSWERS
from ctip.core import crypto
from ctip.core.models import DataKey
from ctip.matching.models import PersonKey
from ctip.matching.services import NO_KEYS, candidates_for_person, matching_sweep

SCHEDULE = Schedule(closed_case_days=100, no_case_days=30)
DAY = dt.timedelta(days=1)
NOT_A_VICTIM = {**VICTIM_ANSWERS, "purpose_marriage": "no", "means_deception": "no"}


def close(case: Case, at: dt.datetime) -> Case:
    # Closing through the SOP needs every stage's records; the state alone is what counts.
    Case.objects.filter(pk=case.pk).update(stage="closed", closed_at=at, closure_reason="other")
    case.refresh_from_db()
    return case


def person(user, name: str) -> Person:
    return person_create(
        user=user, data=PersonInput(name_latin=name, document_number="D" + name[-4:], sex="male")
    )


def keyed(p: Person) -> Person:
    """Store the person's matching blocking-key tokens (what the worker does)."""
    candidates_for_person(person_id=p.pk)
    assert PersonKey.objects.filter(person=p).exclude(token=NO_KEYS).exists()
    return p


def shredded(record) -> bool:
    return DataKey.objects.get(pk=record.data_key_id).shredded_at is not None


def retention_rows():
    return list(AuditEvent.objects.filter(object_type="cases.retention").order_by("seq"))


@pytest.fixture
def old_case(caseworker_a, case_a):
    """A closed case of a person with search and blocking-key tokens, a note and a
    document, closed long enough ago to be past retention at ``later``."""
    keyed(case_a.person)
    case_add_note(user=caseworker_a, case=case_a, text=f"{CANARY} said so")
    CaseDocument.objects.create(
        case=case_a,
        data_key=case_a.data_key,
        kind="other",
        filename=f"{CANARY}.pdf",
        content_type="application/pdf",
        extension="pdf",
        size=3,
        content=b"xyz",
        uploaded_by=caseworker_a,
    )
    return close(case_a, timezone.now())


@pytest.fixture
def later():
    return timezone.now() + dt.timedelta(days=SCHEDULE.closed_case_days + 1)


def test_a_closed_case_past_retention_is_shredded_with_its_person_and_tokens(
    caseworker_a, old_case, later
):
    person_ = old_case.person
    assert person_list(user=caseworker_a, query=CANARY).filter(pk=person_.pk).exists()

    report = retention_purge(apply=True, now=later, schedule=SCHEDULE)

    assert (report.cases, report.persons, report.screenings) == (1, 1, 1)
    assert shredded(old_case) and shredded(person_) and shredded(old_case.screening)
    # The keyed tokens are gone: nothing left to test a guessed name or number against.
    person_.refresh_from_db()
    assert person_.search_tokens == ""
    assert not PersonKey.objects.filter(person=person_).exclude(token=NO_KEYS).exists()
    assert not person_list(user=caseworker_a, query=CANARY).exists()
    assert not person_list(user=caseworker_a, query="N9911").exists()
    # What the key opened is erased too: no ciphertext left, no plain value either.
    assert person_.name_latin is None and person_.document_number is None
    assert CaseNote.objects.get(case=old_case).text is None
    document = CaseDocument.objects.get(case=old_case)
    assert document.filename is None and bytes(document.content) == b""
    assert Screening.objects.get(pk=old_case.screening_id).answers is None
    # The plain facts statistics rely on stay.
    case = Case.objects.get(pk=old_case.pk)
    assert case.stage == "closed" and case.reference == old_case.reference


def test_the_audit_row_counts_and_names_nobody(old_case, later):
    retention_purge(apply=True, now=later, schedule=SCHEDULE)

    (row,) = retention_rows()
    assert row.action == "delete" and row.actor_id is None
    assert row.details == {
        "applied": True,
        "cases": 1,
        "persons": 1,
        "screenings": 1,
        "kept_on_hold": 0,
        "kept_under_review": 0,
        "kept_repatriation": 0,
        "records_erased": row.details["records_erased"],
        "search_tokens_cleared": 1,
        "person_keys_deleted": row.details["person_keys_deleted"],
        "closed_case_days": 100,
        "no_case_days": 30,
    }
    # person, screening, case, note, document (at least)
    assert row.details["records_erased"] >= 5 and row.details["person_keys_deleted"] >= 1
    text = json.dumps(row.details) + row.object_id
    for secret in (CANARY, "Canarysokha", "N9911", old_case.reference, str(old_case.pk)):
        assert secret not in text


def test_records_before_retention_open_or_on_hold_are_untouched(
    caseworker_a, supervisor_a, dpo, old_case, later
):
    # Closed too recently: kept.
    recent = person(caseworker_a, "Recent Closedxx")
    recent_case = close(
        case_open(user=caseworker_a, person=recent, track="in_country"), later - 10 * DAY
    )
    # Open for years: kept, and so is its person.
    open_person = person(caseworker_a, "Still Openxxxx")
    open_case = case_open(user=caseworker_a, person=open_person, track="in_country")
    # Past retention but on legal hold: the case (by the DPO), and a person (by a supervisor)
    # whose case is then kept too.
    held = close(
        case_open(
            user=caseworker_a, person=person(caseworker_a, "Held Casexxxx"), track="in_country"
        ),
        timezone.now(),
    )
    legal_hold_place(user=dpo, case=held, reason="prosecution file 12/2026")
    held_person = keyed(person(caseworker_a, "Held Personxxx"))
    held_persons_case = close(
        case_open(user=caseworker_a, person=held_person, track="in_country"), timezone.now()
    )
    legal_hold_place(user=supervisor_a, person=held_person, reason="court order")
    tokens_before = held_person.search_tokens

    report = retention_purge(apply=True, now=later, schedule=SCHEDULE)

    assert (report.cases, report.persons) == (1, 1)  # the old case and its person only
    # The held case and its person, the held person and their case.
    assert report.kept_on_hold == 4
    assert shredded(old_case)
    for record in (recent, recent_case, open_person, open_case, held, held.person):
        assert not shredded(record), record
    for record in (held_person, held_persons_case):
        assert not shredded(record), record
    held_person.refresh_from_db()
    assert held_person.search_tokens == tokens_before and held_person.name_latin
    assert PersonKey.objects.filter(person=held_person).exclude(token=NO_KEYS).exists()

    # Released, the hold keeps nothing: the next run shreds them.
    hold = LegalHold.objects.get(person=held_person)
    legal_hold_release(user=dpo, hold=hold)
    again = retention_purge(apply=True, now=later, schedule=SCHEDULE)
    assert (again.cases, again.persons) == (1, 1)
    assert shredded(held_person) and shredded(held_persons_case) and not shredded(held)


def test_a_sealed_case_under_break_glass_review_is_kept_until_reviewed(
    caseworker_a, colleague_a, supervisor_a, dpo, old_case, later
):
    from ctip.cases.services import approval_decide, approval_review

    case_set_sealed(user=supervisor_a, case=old_case, sealed=True, reason="child victim")
    request = break_glass_request(
        user=colleague_a, case_reference=old_case.reference, hours=2, reason="urgent"
    )
    report = retention_purge(apply=True, now=later, schedule=SCHEDULE)
    assert (report.cases, report.persons, report.kept_under_review) == (0, 0, 1)
    approval = approval_decide(user=supervisor_a, approval=request, approve=True)
    assert retention_purge(apply=True, now=later, schedule=SCHEDULE).kept_under_review == 1
    assert not shredded(old_case) and not shredded(old_case.person)

    approval_review(user=dpo, approval=approval, note="checked")
    assert Approval.objects.get(pk=approval.pk).kind == ApprovalKind.BREAK_GLASS
    report = retention_purge(apply=True, now=later, schedule=SCHEDULE)
    # Sealing alone does not keep a record past its retention.
    assert (report.cases, report.persons) == (1, 1) and shredded(old_case)


def test_a_screening_that_led_to_no_case_goes_after_its_own_retention(caseworker_a):
    nobody = person(caseworker_a, "Screened Onlyx")
    screening = screening_submit(
        user=caseworker_a,
        screening=screening_start(user=caseworker_a, person=nobody),
        raw=dict(NOT_A_VICTIM),
    )
    assert not hasattr(screening, "case") or screening.case is None
    soon = timezone.now() + dt.timedelta(days=SCHEDULE.no_case_days - 1)
    assert retention_purge(apply=True, now=soon, schedule=SCHEDULE).persons == 0
    assert not shredded(nobody)

    late = timezone.now() + dt.timedelta(days=SCHEDULE.no_case_days + 1)
    report = retention_purge(apply=True, now=late, schedule=SCHEDULE)
    assert (report.cases, report.persons, report.screenings) == (0, 1, 1)
    assert shredded(nobody) and Screening.objects.get(pk=screening.pk).findings is None


def test_the_dry_run_changes_nothing(old_case, later):
    keys = list(DataKey.objects.order_by("pk").values_list("pk", "wrapped", "shredded_at"))
    tokens = list(Person.objects.values_list("pk", "search_tokens"))
    person_keys = PersonKey.objects.count()
    audit_rows = AuditEvent.objects.count()

    report = retention_purge(now=later, schedule=SCHEDULE)  # apply=False is the default

    assert not report.applied and (report.cases, report.persons) == (1, 1)
    assert list(DataKey.objects.order_by("pk").values_list("pk", "wrapped", "shredded_at")) == keys
    assert list(Person.objects.values_list("pk", "search_tokens")) == tokens
    assert PersonKey.objects.count() == person_keys and AuditEvent.objects.count() == audit_rows
    assert old_case.person.name_latin == CANARY


def test_a_second_run_does_nothing(old_case, later):
    first = retention_purge(apply=True, now=later, schedule=SCHEDULE)
    assert first.changed
    keys = list(DataKey.objects.order_by("pk").values_list("pk", "wrapped", "shredded_at"))
    rows = AuditEvent.objects.count()

    second = retention_purge(apply=True, now=later + DAY, schedule=SCHEDULE)

    assert not second.changed and second.as_dict() == {
        **dict.fromkeys(first.as_dict(), 0),
        "applied": True,
    }
    assert list(DataKey.objects.order_by("pk").values_list("pk", "wrapped", "shredded_at")) == keys
    assert AuditEvent.objects.count() == rows and len(retention_rows()) == 1


def test_a_failure_mid_run_leaves_nothing_half_done(old_case, later, monkeypatch):
    def fail():
        raise RuntimeError("the database went away")

    # The keys are destroyed and the ciphertext erased before the tokens are cleared.
    monkeypatch.setattr(retention, "_clear_keyed_tokens", fail)
    with pytest.raises(RuntimeError):
        retention_purge(apply=True, now=later, schedule=SCHEDULE)

    assert not shredded(old_case) and not shredded(old_case.person)
    fresh = Person.objects.get(pk=old_case.person_id)
    assert fresh.name_latin == CANARY and fresh.search_tokens
    assert CaseNote.objects.get(case=old_case).text == f"{CANARY} said so"
    assert retention_rows() == []


def test_tokens_of_a_person_shredded_another_way_are_cleared(caseworker_a, later):
    """A restore with --allow-shredded marks keys shredded without the purge: the next run
    still clears the person's keyed tokens and erases what the key opened."""
    other = keyed(person(caseworker_a, "Restored Lostx"))
    DataKey.objects.filter(pk=other.data_key_id).update(wrapped="", shredded_at=timezone.now())

    report = retention_purge(apply=True, schedule=SCHEDULE)

    assert (report.cases, report.persons) == (0, 0)
    assert report.search_tokens_cleared == 1 and report.person_keys_deleted >= 1
    other.refresh_from_db()
    assert other.search_tokens == "" and other.name_latin is None
    assert not PersonKey.objects.filter(person=other).exclude(token=NO_KEYS).exists()
    assert len(retention_rows()) == 1


def test_matching_offers_no_candidate_for_an_erased_person(caseworker_a, old_case, later):
    twin = person(caseworker_a, CANARY)  # the same name as the old case's person
    retention_purge(apply=True, now=later, schedule=SCHEDULE)

    assert candidates_for_person(person_id=twin.pk) == []
    matching_sweep()
    from ctip.matching.models import MatchCandidate

    assert not MatchCandidate.objects.filter(left=old_case.person).exists()
    assert not MatchCandidate.objects.filter(right=old_case.person).exists()
    assert not PersonKey.objects.filter(person=old_case.person).exclude(token=NO_KEYS).exists()


def test_pages_about_an_erased_person_and_case_still_open(caseworker_a, client_of, old_case, later):
    retention_purge(apply=True, now=later, schedule=SCHEDULE)
    client = client_of(caseworker_a)
    document = CaseDocument.objects.get(case=old_case)
    for url in (
        "/persons/",
        "/persons/cases/?closed=1",
        f"/persons/{old_case.person_id}/",
        f"/persons/cases/{old_case.pk}/",
        f"/persons/screenings/{old_case.screening_id}/",
        "/persons/screenings/",
        f"/api/v1/persons/{old_case.person_id}",
        f"/api/v1/cases/{old_case.pk}",
        f"/matching/persons/{old_case.person_id}/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert CANARY not in page.content.decode()
        if url in (f"/persons/{old_case.person_id}/", f"/persons/cases/{old_case.pk}/"):
            # The record's page says why its fields are empty.
            assert 'id="erased"' in page.content.decode(), url
            assert old_case.reference in page.content.decode() or "cases" not in url
            assert old_case.person.reference in page.content.decode() or "cases" in url
    case_page = client.get(f"/persons/cases/{old_case.pk}/").content.decode()
    assert "(erased)" in case_page  # the person's link, which shows their names
    # The list of persons says so too, rather than showing an empty name.
    assert "(erased)" in client.get("/persons/").content.decode()
    # The document's bytes are gone: its download is not found (not a server error).
    gone = client.get(f"/persons/cases/{old_case.pk}/documents/{document.pk}/")
    assert gone.status_code == 404


# --- legal holds ----------------------------------------------------------------------


def test_a_legal_hold_is_audited_without_its_reason_and_released_once(dpo, old_case):
    hold = legal_hold_place(user=dpo, case=old_case, reason=f"trial of {CANARY}")
    assert hold.reason == f"trial of {CANARY}" and hold.placed_by == dpo and hold.active
    placed = AuditEvent.objects.filter(object_type="cases.legalhold").order_by("seq")
    assert [(e.action, e.object_id, e.details) for e in placed] == [
        ("create", str(hold.pk), {"case": str(old_case.pk)})
    ]
    with pytest.raises(ValidationError):
        legal_hold_place(user=dpo, case=old_case, reason="twice")  # one active hold per record

    legal_hold_release(user=dpo, hold=hold)
    hold.refresh_from_db()
    assert hold.released_by == dpo and hold.released_at is not None and not hold.active
    with pytest.raises(ValidationError):
        legal_hold_release(user=dpo, hold=hold)
    rows = list(AuditEvent.objects.filter(object_type="cases.legalhold").order_by("seq"))
    assert [r.action for r in rows] == ["create", "update"]
    assert all(CANARY not in json.dumps(r.details) for r in rows)


def test_who_may_place_a_legal_hold(caseworker_a, caseworker_b, me_officer, dpo, old_case):
    from ctip.accounts.models import Role
    from ctip.testing import personas

    # A supervisor of another agency has the right, but not on this record.
    supervisor_b = personas.make_user("supervisor_b", caseworker_b.agency, Role.SUPERVISOR).user
    for user in (caseworker_a, caseworker_b, me_officer, supervisor_b):
        denied = AuditEvent.objects.filter(details__event="access_denied").count()
        with pytest.raises(permissions.NotFound):
            legal_hold_place(user=user, case=old_case, reason="because")
        assert AuditEvent.objects.filter(details__event="access_denied").count() == denied + 1
    assert not LegalHold.objects.exists()
    with pytest.raises(ValidationError) as refused:
        legal_hold_place(user=dpo, case=old_case, reason="  ")
    assert "reason" in refused.value.message_dict


def test_a_hold_from_another_agency_is_refused_by_the_command(supervisor_a, caseworker_b, old_case):
    from ctip.accounts.models import Role
    from ctip.testing import personas

    supervisor_b = personas.make_user("supervisor_b", caseworker_b.agency, Role.SUPERVISOR).user
    with pytest.raises(CommandError, match="no such case"):
        call_command(
            "retention", "hold", "--case", old_case.reference, "--reason", "x",
            "--username", supervisor_b.username,
        )  # fmt: skip
    assert not LegalHold.objects.exists()
    out = StringIO()
    call_command(
        "retention", "hold", "--case", old_case.reference.lower(), "--reason", "court order",
        "--username", supervisor_a.username, stdout=out,
    )  # fmt: skip
    assert out.getvalue() == f"Legal hold placed on {old_case.reference}\n"


def test_a_hold_on_an_erased_record_is_refused(dpo, old_case, later):
    retention_purge(apply=True, now=later, schedule=SCHEDULE)
    with pytest.raises(ValidationError):
        legal_hold_place(user=dpo, case=Case.objects.get(pk=old_case.pk), reason="too late")
    assert not LegalHold.objects.exists()


# --- the command, the schedule and the nightly task -------------------------------------


def test_the_command_is_a_dry_run_unless_applied(old_case, settings):
    settings.CTIP_RETENTION_CLOSED_CASE_DAYS = 100
    settings.CTIP_RETENTION_NO_CASE_DAYS = 30
    Case.objects.filter(pk=old_case.pk).update(closed_at=timezone.now() - 101 * DAY)
    Person.objects.filter(pk=old_case.person_id).update(created_at=timezone.now() - 101 * DAY)
    Screening.objects.filter(pk=old_case.screening_id).update(
        created_at=timezone.now() - 101 * DAY,
        updated_at=timezone.now() - 101 * DAY,
        submitted_at=timezone.now() - 101 * DAY,
    )
    out = StringIO()
    call_command("retention", "purge", stdout=out)
    assert out.getvalue().splitlines() == [
        "Retention: closed cases 100 days after closure, persons without a case 30 days "
        "after the last record",
        "1 closed case(s), 1 person(s) with 1 screening(s) would be shredded (dry run)",
        "kept past retention: 0 on legal hold, 0 waiting for a decision or a DPO review, "
        "0 with a repatriation under way",
        "Nothing was changed. Run with --apply to shred.",
    ]
    assert not shredded(old_case)

    out = StringIO()
    call_command("retention", "purge", "--apply", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1] == "1 closed case(s), 1 person(s) with 1 screening(s) shredded"
    assert lines[3].startswith("erased: ") and "1 person(s)' search tokens" in lines[3]
    assert shredded(old_case) and CANARY not in out.getvalue()


def test_the_schedule_refuses_nonsense():
    for bad in (0, -5, 1.5, True):
        with pytest.raises(ValueError):
            Schedule(closed_case_days=bad, no_case_days=30)
    assert retention.current_schedule() == Schedule(
        closed_case_days=retention.DEFAULT_CLOSED_CASE_DAYS,
        no_case_days=retention.DEFAULT_NO_CASE_DAYS,
    )


def test_the_environment_sets_the_schedule_and_refuses_bad_values(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from ctip.settings import env_int

    monkeypatch.setenv("CTIP_RETENTION_CLOSED_CASE_DAYS", "3650")
    assert env_int("CTIP_RETENTION_CLOSED_CASE_DAYS", 5, minimum=1) == 3650
    for bad in ("0", "ten years", "1.5"):
        monkeypatch.setenv("CTIP_RETENTION_CLOSED_CASE_DAYS", bad)
        with pytest.raises(ImproperlyConfigured, match="CTIP_RETENTION_CLOSED_CASE_DAYS"):
            env_int("CTIP_RETENTION_CLOSED_CASE_DAYS", 5, minimum=1)


def test_the_nightly_task_applies_the_purge(old_case, settings):
    from ctip.cases.tasks import retention_purge_nightly

    settings.CTIP_RETENTION_CLOSED_CASE_DAYS = 100
    settings.CTIP_RETENTION_NO_CASE_DAYS = 30
    Case.objects.filter(pk=old_case.pk).update(closed_at=timezone.now() - 101 * DAY)
    settings.CTIP_RETENTION_PURGE_NIGHTLY = False
    assert retention_purge_nightly.call_local() is None and not shredded(old_case)
    settings.CTIP_RETENTION_PURGE_NIGHTLY = True
    result = retention_purge_nightly.call_local()
    assert result["applied"] and result["cases"] == 1 and shredded(old_case)
    with pytest.raises(crypto.CryptoError):
        CaseNote.objects.get(case=old_case).data_key.secret()
