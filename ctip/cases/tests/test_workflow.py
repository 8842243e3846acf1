"""Cases through the SOP: stages and deadlines from configuration, required records,
consent gating of cross-border steps, approvals by a second person, sealed cases and
break-glass, referrals and services received, the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ctip.audit.models import Action, AuditEvent
from ctip.cases import services
from ctip.cases.consent import consent_covers
from ctip.cases.models import Case, CaseEvent, EventKind, Stage
from ctip.cases.selectors import access_case, case_list, dpo_review_queue
from ctip.cases.sop import SopError, parse_sop
from ctip.directory.models import Service

pytestmark = pytest.mark.django_db


def make_service(agency, country="KH", kind="shelter"):
    return Service.objects.create(
        country=country,
        service_type=kind,
        sector="government",
        provider=agency,
        name_en=f"{kind} of {agency.code}",
        city="Phnom Penh",
        phone="+85512345678",
    )


def consent(
    case,
    user,
    decision="given",
    purpose="nationality_verification",
    country="CN",
    categories=("identity", "origin", "documents"),
    **extra,
):
    data = {
        "decision": decision,
        "purpose": purpose,
        "recipient_country": country,
        "data_categories": tuple(categories),
        "given_on": timezone.localdate(),
        "how_given": "written",
        "language": "km",
        **extra,
    }
    return services.consent_record(user=user, case=case, data=services.ConsentInput(**data))


def test_case_opens_from_a_victim_screening_with_the_sop_deadline(case_a, caseworker_a):
    assert case_a.stage == Stage.IDENTIFIED and case_a.assigned_to == caseworker_a
    assert case_a.stage_due_at - case_a.stage_entered_at == dt.timedelta(days=3)
    assert case_a.owner_agency == caseworker_a.agency
    assert [e.kind for e in case_a.events.all()] == [EventKind.OPENED]
    assert AuditEvent.objects.filter(action=Action.CREATE, object_id=str(case_a.pk)).exists()
    with pytest.raises(ValidationError, match="already has an open case"):
        services.case_open(user=caseworker_a, person=case_a.person, track="in_country")


def test_no_case_for_a_person_screened_not_a_victim(caseworker_a, person_a, victim_answers):
    answers = {
        k: ("no" if k.startswith(("act_", "means_", "purpose_")) else v)
        for k, v in victim_answers.items()
    }
    screening = services.screening_start(user=caseworker_a, person=person_a)
    screening = services.screening_submit(user=caseworker_a, screening=screening, raw=answers)
    assert screening.result == "not_a_victim"
    with pytest.raises(ValidationError, match="victim or presumed victim"):
        services.case_open(
            user=caseworker_a, person=person_a, screening=screening, track="in_country"
        )


def test_stages_need_their_records_and_cross_border_steps_need_consent(
    case_a, caseworker_a, agency_a
):
    case = services.case_advance(user=caseworker_a, case=case_a)
    assert case.stage == Stage.PROTECTED
    with pytest.raises(ValidationError, match="at least one referral"):
        services.case_advance(user=caseworker_a, case=case)
    services.referral_create(user=caseworker_a, case=case, service=make_service(agency_a))

    # The person refused to have their data sent to China for verification: blocked.
    consent(case, caseworker_a, decision="refused", categories=())
    with pytest.raises(services.ConsentBlocked, match="refused consent"):
        services.case_advance(user=caseworker_a, case=case)
    case.refresh_from_db()
    assert case.stage == Stage.PROTECTED
    blocked = case.events.get(kind=EventKind.BLOCKED)
    assert blocked.details["basis"] == "refused" and blocked.details["country"] == "CN"
    event = AuditEvent.objects.get(action=Action.SECURITY, object_id=str(case.pk))
    assert event.details["event"] == "consent_blocked"

    # Later the person agrees (with an interpreter): the step goes ahead.
    consent(case, caseworker_a, interpreter_used=True, interpreter_name="Interpreter Canary")
    case = services.case_advance(user=caseworker_a, case=case)
    assert case.stage == Stage.VERIFICATION
    assert case.stage_due_at - case.stage_entered_at == dt.timedelta(days=30)


def test_consent_covers_scope_expiry_withdrawal(case_a, caseworker_a):
    ref = case_a.reference
    check = {"case_ref": ref, "recipient_country": "CN", "purpose": "nationality_verification"}
    assert consent_covers(**check, data_categories=["identity"]).basis == "no_consent"
    given = consent(case_a, caseworker_a, expires_on=timezone.localdate() + dt.timedelta(days=10))
    assert consent_covers(**check, data_categories=["identity", "origin"])
    assert not consent_covers(**check, data_categories=["identity", "health"])
    assert not consent_covers(**{**check, "recipient_country": "KH"}, data_categories=["identity"])
    later = timezone.now() + dt.timedelta(days=11)
    assert not consent_covers(**check, data_categories=["identity"], at=later)
    services.consent_withdraw(user=caseworker_a, consent=given, reason="changed her mind")
    assert consent_covers(**check, data_categories=["identity"]).basis == "no_consent"
    assert not consent_covers(**{**check, "case_ref": "KH-C-NOPE"}, data_categories=[])


def test_consent_override_needs_a_second_approver_and_alerts_the_dpo(
    case_a, caseworker_a, colleague_a, supervisor_a, dpo
):
    dpo.email = "dpo@example.org"
    dpo.save(update_fields=["email"])
    consent(case_a, caseworker_a, decision="refused", categories=())
    approval = services.consent_override_request(
        user=caseworker_a,
        case=case_a,
        purpose="nationality_verification",
        recipient_country="CN",
        data_categories=["identity", "origin", "documents"],
        days=7,
        reason="court order 12/2026 for identity verification",
    )
    with pytest.raises(services.permissions.NotFound):  # a caseworker is not a supervisor
        services.approval_decide(user=colleague_a, approval=approval, approve=True)
    own = services.consent_override_request(
        user=supervisor_a,
        case=case_a,
        purpose="repatriation",
        recipient_country="CN",
        data_categories=["identity"],
        days=1,
        reason="own request",
    )
    with pytest.raises(PermissionDenied, match="second person"):
        services.approval_decide(user=supervisor_a, approval=own, approve=True)
    check = {
        "case_ref": case_a.reference,
        "recipient_country": "CN",
        "purpose": "nationality_verification",
        "data_categories": ["identity"],
    }
    assert not consent_covers(**check)
    with django_capture_on_commit():
        services.approval_decide(user=supervisor_a, approval=approval, approve=True)
    result = consent_covers(**check)
    assert result and result.basis == "override" and result.reference == str(approval.pk)
    assert [m.to for m in mail.outbox] == [["dpo@example.org"]]
    assert "court order" not in mail.outbox[0].body  # reasons stay in the system
    assert list(dpo_review_queue(user=dpo)) == [approval]
    services.approval_review(user=dpo, approval=approval, note="legal basis checked")
    assert not dpo_review_queue(user=dpo).exists()


def django_capture_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_closure_needs_a_supervisors_approval(case_a, caseworker_a, supervisor_a):
    approval = services.case_request_closure(
        user=caseworker_a, case=case_a, closure_reason="declined", reason="wants no more help"
    )
    case_a.refresh_from_db()
    assert not case_a.is_closed
    services.approval_decide(user=supervisor_a, approval=approval, approve=True)
    case_a.refresh_from_db()
    assert case_a.is_closed and case_a.stage == Stage.CLOSED and case_a.closure_reason == "declined"
    assert case_a.stage_due_at is None
    kinds = [e.kind for e in case_a.events.all()]
    assert kinds[-2:] == [EventKind.STAGE, EventKind.APPROVAL_DECIDED]


def test_sealed_case_only_for_named_users_and_break_glass(
    case_a, caseworker_a, colleague_a, supervisor_a, dpo, caseworker_b
):
    services.case_set_sealed(
        user=supervisor_a, case=case_a, sealed=True, reason="child witness", named_users=[]
    )
    assert case_a.pk in case_list(user=caseworker_a).values_list("pk", flat=True)  # assignee
    assert not case_list(user=colleague_a).filter(pk=case_a.pk).exists()
    with pytest.raises(services.permissions.NotFound):
        access_case(colleague_a, case_a.pk)
    approval = services.break_glass_request(
        user=colleague_a, case_reference=case_a.reference, hours=4, reason="night emergency"
    )
    # The same answer for a reference that does not exist (nothing is revealed).
    ghost = services.break_glass_request(
        user=colleague_a, case_reference="KH-C-00000000", hours=4, reason="guess"
    )
    assert ghost.case is None and ghost.status == "pending"
    services.approval_decide(user=supervisor_a, approval=approval, approve=True)
    approval.refresh_from_db()
    assert access_case(colleague_a, case_a.pk) == case_a
    assert timezone.now() + dt.timedelta(hours=3) < approval.valid_until
    assert approval.valid_until < timezone.now() + dt.timedelta(hours=5)
    assert approval in dpo_review_queue(user=dpo)
    with pytest.raises(services.permissions.NotFound):
        access_case(caseworker_b, case_a.pk)
    with pytest.raises(ValidationError, match="No case of your agency"):
        services.approval_decide(user=supervisor_a, approval=ghost, approve=True)


def test_cross_border_referral_needs_consent(case_a, caseworker_a, agency_cn):
    shelter_cn = make_service(agency_cn, country="CN")
    with pytest.raises(services.ConsentBlocked, match="no consent"):
        services.referral_create(user=caseworker_a, case=case_a, service=shelter_cn)
    assert not case_a.referrals.exists()
    consent(case_a, caseworker_a, purpose="referral", categories=("identity", "case_progress"))
    referral = services.referral_create(user=caseworker_a, case=case_a, service=shelter_cn)
    assert referral.cross_border and referral.need == "shelter"


def test_referral_status_and_services_with_satisfaction(case_a, caseworker_a, agency_a):
    referral = services.referral_create(
        user=caseworker_a, case=case_a, service=make_service(agency_a, kind="medical")
    )
    services.referral_update(user=caseworker_a, referral=referral, status="accepted")
    with pytest.raises(ValidationError, match="cannot become"):
        services.referral_update(user=caseworker_a, referral=referral, status="sent")
    services.referral_update(user=caseworker_a, referral=referral, status="completed")
    received = services.service_record(
        user=caseworker_a,
        case=case_a,
        data=services.ServiceInput(
            kind="medical",
            started_on=timezone.localdate(),
            satisfaction=4,
            feedback="kind staff",
            referral=referral,
        ),
    )
    assert received.satisfaction == 4
    with pytest.raises(ValidationError):
        services.service_record(
            user=caseworker_a,
            case=case_a,
            data=services.ServiceInput(
                kind="medical", started_on=timezone.localdate(), satisfaction=9
            ),
        )
    kinds = [e.kind for e in CaseEvent.objects.filter(case=case_a)]
    assert kinds.count(EventKind.REFERRAL_UPDATED) == 2 and EventKind.SERVICE in kinds


def test_only_actors_of_the_stage_move_it(case_a, agency_a):
    from ctip.testing import personas

    shelter = personas.make_user("shelter_a", agency_a, "shelter_staff").user
    with pytest.raises(PermissionDenied, match="does not act"):
        services.case_advance(user=shelter, case=case_a)


def test_overdue_list(case_a, caseworker_a, caseworker_b):
    assert not case_list(user=caseworker_a, overdue=True).exists()
    Case.objects.filter(pk=case_a.pk).update(stage_due_at=timezone.now() - dt.timedelta(days=1))
    assert list(case_list(user=caseworker_a, overdue=True)) == [case_a]
    assert not case_list(user=caseworker_b, overdue=True).exists()


def test_assignment_stays_in_the_agency(case_a, caseworker_a, colleague_a, caseworker_b):
    services.case_assign(user=caseworker_a, case=case_a, assignee=colleague_a)
    assert case_list(user=colleague_a, mine=True).get() == case_a
    with pytest.raises(ValidationError, match="agency that owns it"):
        services.case_assign(user=caseworker_a, case=case_a, assignee=caseworker_b)


def test_sop_configuration_is_checked():
    import json

    from ctip.cases.sop import DEFAULT_FILE

    raw = json.loads(DEFAULT_FILE.read_text())
    raw["stages"]["protected"]["deadline_days"] = 0
    with pytest.raises(SopError, match="protected: deadline_days"):
        parse_sop(raw)
    raw = json.loads(DEFAULT_FILE.read_text())
    raw["stages"]["travel"]["requires"] = ["document:selfie"]
    with pytest.raises(SopError, match="unknown required record"):
        parse_sop(raw)


def test_sop_amended_by_the_node(settings, tmp_path, case_a, caseworker_a):
    import json

    from ctip.cases.sop import DEFAULT_FILE

    raw = json.loads(DEFAULT_FILE.read_text())
    raw["version"] = "kh-2027"
    raw["stages"]["protected"]["deadline_days"] = 5
    (tmp_path / "sop.json").write_text(json.dumps(raw))
    settings.CTIP_HOME = tmp_path
    case = services.case_advance(user=caseworker_a, case=case_a)
    assert case.stage_due_at - case.stage_entered_at == dt.timedelta(days=5)


def test_the_exchange_asks_the_same_consent_check(case_a, caseworker_a):
    from ctip.exchange.registry import consent_allows

    assert not consent_allows(case_a.reference, "CN", "nationality_verification")
    consent(case_a, caseworker_a)  # identity, origin, documents to CN
    assert consent_allows(case_a.reference, "CN", "nationality_verification")
    assert not consent_allows(case_a.reference, "CN", "case_information")  # other purpose
    assert not consent_allows(case_a.reference, "KH", "nationality_verification")
    consent(case_a, caseworker_a, decision="refused", categories=())
    assert not consent_allows(case_a.reference, "CN", "nationality_verification")
