"""The repatriation flow on one node, in-process: this node's (KH) steps go into the real
outbox (sealed for a pinned CN peer); the other node's steps are handed to the real handler
as the exchange would after verifying them. Both directions: KH as the country where a
Chinese national was found, and KH as the home country of a Cambodian found in China.
The two-node test (test_repatriation_two_nodes.py) runs the same flow between processes."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ctip.cases import repatriation as rp
from ctip.cases import services
from ctip.cases.models import (
    Case,
    EventKind,
    Repatriation,
    RepatriationStatus,
    StageReminder,
)
from ctip.cases.selectors import access_case, person_list, repatriation_board
from ctip.cases.tests.conftest import CANARY, VICTIM_ANSWERS, api_for
from ctip.directory.models import FocalPerson
from ctip.exchange.models import OutboxMessage
from ctip.exchange.registry import IncomingMessage, message_type, validate_body
from ctip.testing import personas
from ctip.testing.peers import pin_offline_peer

pytestmark = pytest.mark.django_db


@pytest.fixture
def cn_peer(db):
    return pin_offline_peer("CN", valid_from_ago=86_400, valid_for=365 * 86_400)


def consent(case, user, purpose, categories, country="CN"):
    return services.consent_record(
        user=user,
        case=case,
        data=services.ConsentInput(
            decision="given",
            purpose=purpose,
            recipient_country=country,
            data_categories=tuple(categories),
            given_on=timezone.localdate(),
            how_given="written",
            language="zh",
            interpreter_used=True,
            interpreter_name="Interpreter Canary",
        ),
    )


@pytest.fixture
def cn_case(caseworker_a, cn_peer):
    """A Chinese national rescued in Cambodia, consenting to verification and repatriation."""
    person = services.person_create(
        user=caseworker_a,
        data=services.PersonInput(
            name_zh="王小明",
            name_latin=CANARY,
            sex="male",
            birth_year=1999,
            nationality="CN",
            document_number="E12345678",
            notes="exploitation narrative canary",
        ),
    )
    screening = services.screening_start(user=caseworker_a, person=person)
    services.screening_submit(user=caseworker_a, screening=screening, raw=dict(VICTIM_ANSWERS))
    case = services.case_open(
        user=caseworker_a, person=person, screening=screening, track="cross_border"
    )
    consent(case, caseworker_a, "nationality_verification", ["identity", "origin", "documents"])
    consent(
        case, caseworker_a, "repatriation", ["identity", "documents", "case_progress", "health"]
    )
    return case


def incoming(step: str, body: dict, sender: str = "CN") -> IncomingMessage:
    msg_type = step if "." in step else f"repatriation.{step}"
    validate_body(message_type(msg_type, 1), body)  # what the exchange checks first
    return IncomingMessage(
        msg_id=str(uuid.uuid4()),
        sender=sender,
        msg_type=msg_type,
        schema_version=1,
        body=body,
        case_ref=None,
        purpose=None,
        in_reply_to=None,
        signer_kid="cn-sig",
        sent_at=timezone.now(),
        transport="http",
    )


def receive(step, body, sender="CN"):
    message = incoming(step, body, sender)
    handler = message_type(message.msg_type, 1).handler
    handler(message)


def last_outbox(msg_type: str) -> dict:
    row = OutboxMessage.objects.filter(msg_type=msg_type).order_by("-seq").first()
    return json.loads(row.body)


OFFICER = {"name": "Officer Li", "title": "Consul", "agency": "cn-embassy-pp"}


def test_host_side_flow_with_refusals_and_withdrawal(cn_case, caseworker_a):
    ref = cn_case.reference
    rp.step_send(
        user=caseworker_a, case=cn_case, step="case_notification", data={"found_in": "KH-18"}
    )
    rep = Repatriation.objects.get(case=cn_case)
    assert rep.shared_ref == ref and rep.side == "host" and rep.waiting_on == "KH"
    body = last_outbox("repatriation.case_notification")
    # The notification carries no name, no document, no narrative.
    assert CANARY not in json.dumps(body) and "E12345678" not in json.dumps(body)
    assert body["nationality"] == "CN" and body["consents"][0]["purpose"]
    rp.step_send(user=caseworker_a, case=cn_case, step="verification_request")
    body = last_outbox("repatriation.verification_request")
    assert body["name_zh"] == "王小明" and body["document_number"] == "E12345678"
    assert "exploitation narrative canary" not in json.dumps(body)  # notes never leave
    rep.refresh_from_db()
    cn_case.refresh_from_db()
    assert cn_case.stage == "verification" and rep.waiting_on == "CN"
    assert rep.awaited_step == "verification_result"
    assert (rep.due_at - rep.since).days == 30  # from the SOP configuration

    # Our own out-of-order or other-side steps are refused before anything is sent.
    sent_before = OutboxMessage.objects.count()
    with pytest.raises(ValidationError, match="other country"):
        rp.step_send(user=caseworker_a, case=cn_case, step="verification_result")
    with pytest.raises(ValidationError, match="Out of order"):
        rp.step_send(user=caseworker_a, case=cn_case, step="handover_record")
    assert OutboxMessage.objects.count() == sent_before

    receive("verification_result", {"shared_ref": ref, "confirmed": True, "officer": OFFICER})
    cn_case.refresh_from_db()
    assert cn_case.stage == "documents"
    # The peer's faults: out of order, duplicate, unknown case, wrong side. No state change.
    done = list(Repatriation.objects.get(pk=rep.pk).steps_done)
    events = cn_case.events.count()
    issued = {
        "shared_ref": ref,
        "document_kind": "emergency_travel_document",
        "document_number": "T-1",
        "valid_until": "2027-01-31",
        "officer": OFFICER,
    }
    with pytest.raises(rp.OutOfOrder):
        receive("travel_document_issued", issued)
    with pytest.raises(rp.DuplicateStep):
        receive("verification_result", {"shared_ref": ref, "confirmed": True, "officer": OFFICER})
    with pytest.raises(rp.UnknownCase):
        receive("travel_document_issued", {**issued, "shared_ref": "KH-C-FFFFFFFF"})
    with pytest.raises(rp.WrongSide):
        receive("travel_document_request", {"shared_ref": ref, "document_kind": "passport"})
    assert Repatriation.objects.get(pk=rep.pk).steps_done == done
    assert cn_case.events.count() == events

    # The person withdraws consent to repatriation: the flow stops, CN is told without
    # personal data, nothing more goes out and nothing more comes in.
    withdrawn = cn_case.consents.get(purpose="repatriation")
    services.consent_withdraw(user=caseworker_a, consent=withdrawn, reason="wants to stay")
    rep.refresh_from_db()
    assert rep.status == RepatriationStatus.STOPPED and rep.stop_reason == "consent_withdrawn"
    notice = last_outbox("repatriation.consent_withdrawn")
    assert notice == {"shared_ref": ref, "purposes": ["repatriation"]}
    with pytest.raises(ValidationError, match="stopped"):
        rp.step_send(user=caseworker_a, case=cn_case, step="travel_document_request")
    with pytest.raises(rp.FlowStopped):
        receive(
            "family_tracing_result",
            {"shared_ref": ref, "family_found": True, "safe_to_return": "yes", "officer": OFFICER},
        )


def test_consent_refusal_blocks_the_notification(caseworker_a, cn_peer):
    person = services.person_create(
        user=caseworker_a, data=services.PersonInput(name_latin="X", nationality="CN")
    )
    case = services.case_open(user=caseworker_a, person=person, track="cross_border")
    with pytest.raises(services.ConsentBlocked):
        rp.step_send(user=caseworker_a, case=case, step="case_notification")
    assert not Repatriation.objects.filter(case=case).exists()
    assert not OutboxMessage.objects.filter(msg_type__startswith="repatriation.").exists()
    assert case.events.filter(kind=EventKind.BLOCKED).exists()


@pytest.fixture
def kh_embassy(db):
    agency = personas.agency("kh-embassy-beijing", type="embassy")
    focal = FocalPerson.objects.create(
        country="KH",
        agency=agency,
        name_en="SOK Dara",
        title_en="First Secretary",
        post_type="embassy",
        post_city="Beijing",
        post_country="CN",
        responsibilities=["nationality_verification", "repatriation"],
        languages=[{"code": "km", "level": "native"}, {"code": "zh", "level": "fluent"}],
        appointed_on=dt.date(2024, 1, 1),
        email="consular@example.org",
    )
    consul = personas.make_user("kh_consul", agency, "consular_focal").user
    consul.email = "consular@example.org"
    consul.save()
    colleague = personas.make_user("kh_consul_2", agency, "consular_focal").user
    return focal, consul, colleague


def test_home_side_opens_its_own_case_routed_to_the_focal_person(kh_embassy, cn_peer):
    focal, consul, colleague = kh_embassy
    shared = "CN-C-0A1B2C3D"
    receive(
        "case_notification",
        {
            "shared_ref": shared,
            "nationality": "KH",
            "sex": "female",
            "birth_year": 2001,
            "age_estimate": None,
            "found_in": "CN-410000",
            "host_agency": "cn-mca",
            "consents": [
                {
                    "purpose": "nationality_verification",
                    "data_categories": ["identity", "origin", "documents"],
                    "given_on": timezone.localdate().isoformat(),
                    "expires_on": None,
                    "how_given": "thumbprint",
                    "language": "km",
                    "interpreter_used": True,
                }
            ],
        },
    )
    rep = Repatriation.objects.get(shared_ref=shared)
    case = rep.case
    assert rep.side == "home" and rep.focal_person == focal and case.assigned_to == consul
    assert case.owner_agency == focal.agency and case.reference != shared
    assert case.stage == "verification" and rep.waiting_on == "CN"
    assert case.consents.get().recipient_country == "CN"  # the consent, as CN recorded it
    with pytest.raises(rp.DuplicateStep):  # the same case notified twice
        receive("case_notification", {**json.loads(rep.steps.get().body)})
    receive(
        "verification_request",
        {"shared_ref": shared, "name_km": "សុខា ចាន់", "name_latin": "CHAN SOKHA"},
    )
    case.refresh_from_db()
    assert case.person.name_km == "សុខា ចាន់"
    assert list(person_list(user=consul, query="sokha")) == [case.person]  # cross-script
    assert rep.__class__.objects.get(pk=rep.pk).waiting_on == "KH"

    # A reply by a user who is not the focal person in charge: refused, nothing sent.
    with pytest.raises(PermissionDenied, match="focal person in charge"):
        rp.step_send(
            user=colleague, case=case, step="verification_result", data={"confirmed": True}
        )
    assert not OutboxMessage.objects.filter(msg_type="repatriation.verification_result").exists()
    rp.step_send(user=consul, case=case, step="verification_result", data={"confirmed": True})
    body = last_outbox("repatriation.verification_result")
    assert body["confirmed"] is True and body["officer"]["agency"] == "kh-embassy-beijing"
    case.refresh_from_db()
    assert case.stage == "documents"
    # Family tracing needs a repatriation consent, which CN did not pass on: blocked here.
    with pytest.raises(services.ConsentBlocked):
        rp.step_send(
            user=consul,
            case=case,
            step="family_tracing_result",
            data={"family_found": True, "safe_to_return": "yes"},
        )
    # The board: waiting on KH (family tracing is ours), by focal person.
    assert [r.shared_ref for r in repatriation_board(user=consul, focal="kh_consul")] == [shared]
    assert list(repatriation_board(user=consul, waiting_on="KH")) == [rep]
    assert not repatriation_board(user=consul, waiting_on="CN").exists()
    assert access_case(consul, case.pk) == case

    # The person withdraws in China: the notice withdraws the consent as recorded here and
    # cancels the reply still queued under it, at once (DP-8).
    reply = OutboxMessage.objects.get(msg_type="repatriation.verification_result")
    assert reply.status == "pending" and reply.consent_ref == str(case.consents.get().pk)
    receive("consent_withdrawn", {"shared_ref": shared, "purposes": ["nationality_verification"]})
    reply.refresh_from_db()
    assert reply.status == "cancelled" and reply.cancelled_at is not None
    assert case.consents.get().withdrawn_at is not None
    event = case.events.filter(kind="consent_withdrawn").latest("seq")
    assert event.details["messages_cancelled"] == 1 and event.details["direction"] == "received"


def test_each_message_carries_only_its_allow_list(cn_case, caseworker_a):
    """DP-3: every step's body holds only its schema's fields, and a body with anything
    more (a narrative, health details on a step without them) is refused."""
    entered = {
        "found_in": "KH-18",
        "confirmed": True,
        "family_found": True,
        "safe_to_return": "yes",
        "document_kind": "passport",
        "document_number": "T-1",
        "valid_until": "2027-01-01",
        "travel_date": "2026-12-24",
        "route": "PNH-CAN",
        "border_point": "Phnom Penh airport",
        "reception_agency": "MCA",
        "place": "Phnom Penh airport",
        "services": ["shelter"],
        "month": 3,
        "status": "stable",
        "reason": "reintegrated",
        "medical_needs": "canary health detail",
    }
    for spec in rp.STEPS.values():
        body = rp.build_body(spec, cn_case, None, entered, caseworker_a)
        assert set(body) <= set(spec.schema["properties"]), spec.name
        validate_body(message_type(spec.msg_type, 1), body)
        if "health" not in spec.categories:
            assert "canary health detail" not in json.dumps(body), spec.name
        for extra in ("exploitation", "notes", "narrative"):
            with pytest.raises(Exception, match="additionalProperties"):
                validate_body(message_type(spec.msg_type, 1), {**body, extra: "x"})
        assert set(spec.categories) <= {
            "identity",
            "origin",
            "documents",
            "case_progress",
            "health",
        }
    assert not message_type(rp.WITHDRAWN_TYPE, 1).personal_data


def test_awaited_steps_are_reminded_once(cn_case, caseworker_a, supervisor_a):
    rp.step_send(user=caseworker_a, case=cn_case, step="case_notification")
    rep = Repatriation.objects.get(case=cn_case)
    Repatriation.objects.filter(pk=rep.pk).update(due_at=timezone.now() - dt.timedelta(days=2))
    Case.objects.filter(pk=cn_case.pk).update(stage_due_at=timezone.now() + dt.timedelta(days=9))
    sent = services.stage_reminders_send()
    assert [(r.step, r.threshold) for r in sent] == [("verification_request", "overdue")]
    assert set(sent[0].recipients.all()) == {caseworker_a, supervisor_a}
    assert services.stage_reminders_send() == []
    assert StageReminder.objects.count() == 1
    assert [r.shared_ref for r in repatriation_board(user=caseworker_a, overdue=True)] == [
        cn_case.reference
    ]
    assert not repatriation_board(user=supervisor_a, overdue=True, focal="nobody").exists()


def _to_handover(case, user):
    """Carry a host case to the handover, the other side's steps arriving as messages."""
    ref = case.reference
    rp.step_send(user=user, case=case, step="case_notification")
    rp.step_send(user=user, case=case, step="verification_request")
    receive("verification_result", {"shared_ref": ref, "confirmed": True, "officer": OFFICER})
    receive(
        "family_tracing_result",
        {"shared_ref": ref, "family_found": True, "safe_to_return": "yes", "officer": OFFICER},
    )
    rp.step_send(
        user=user,
        case=case,
        step="travel_document_request",
        data={"document_kind": "emergency_travel_document"},
    )
    receive(
        "travel_document_issued",
        {
            "shared_ref": ref,
            "document_kind": "emergency_travel_document",
            "document_number": "ETD-0042",
            "valid_until": "2027-01-31",
            "officer": OFFICER,
        },
    )
    rp.step_send(
        user=user,
        case=case,
        step="plan_proposal",
        data={
            "travel_date": "2026-12-20",
            "route": "PNH-CAN by air",
            "border_point": "Guangzhou Baiyun airport",
            "medical_needs": "none",
        },
    )
    receive(
        "plan_acceptance",
        {
            "shared_ref": ref,
            "travel_date": "2026-12-20",
            "border_point": "Guangzhou Baiyun airport",
            "officer": OFFICER,
        },
    )


def test_pages_api_and_print(cn_case, caseworker_a, caseworker_b, client_of):
    page = client_of(caseworker_a).get(f"/persons/cases/{cn_case.pk}/")
    assert b"send-case_notification" in page.content
    answer = client_of(caseworker_a).post(
        f"/persons/cases/{cn_case.pk}/repatriation/case_notification/", {"found_in": "KH-18"}
    )
    assert answer.status_code == 302
    assert Repatriation.objects.filter(case=cn_case).exists()
    # Another agency: 404 on the case's actions, nothing on the board.
    denied = client_of(caseworker_b).post(
        f"/persons/cases/{cn_case.pk}/repatriation/verification_request/"
    )
    assert denied.status_code == 404
    assert (
        cn_case.reference.encode()
        not in client_of(caseworker_b).get("/persons/repatriation/").content
    )
    board = client_of(caseworker_a).get("/persons/repatriation/?waiting_on=KH")
    assert cn_case.reference.encode() in board.content
    api = api_for(caseworker_a)
    answer = api.post(
        f"/api/v1/cases/{cn_case.pk}/repatriation/verification_request", {}, format="json"
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["waiting_on"] == "CN" and answer.json()["elapsed_days"] == 0
    out_of_order = api.post(
        f"/api/v1/cases/{cn_case.pk}/repatriation/handover_record", {}, format="json"
    )
    assert out_of_order.status_code == 400 and "Out of order" in out_of_order.content.decode()
    assert api_for(caseworker_b).get(f"/api/v1/cases/{cn_case.pk}/repatriation").status_code == 404
    listed = api.get("/api/v1/repatriations?waiting_on=CN").json()
    assert [r["shared_ref"] for r in listed] == [cn_case.reference]
    assert api_for(caseworker_b).get("/api/v1/repatriations").json() == []


def test_handover_record_matches_what_was_exchanged(cn_case, caseworker_a, client_of):
    _to_handover(cn_case, caseworker_a)
    rp.step_send(
        user=caseworker_a,
        case=cn_case,
        step="handover_record",
        data={"place": "Guangzhou Baiyun airport"},
    )
    sent = last_outbox("repatriation.handover_record")
    assert sent["document_number"] == "ETD-0042"  # the travel document CN issued
    receive(
        "handover_confirmation",
        {
            "shared_ref": cn_case.reference,
            "received_at": "2026-12-20T15:00+08:00",
            "receiving_officer": OFFICER,
        },
    )
    cn_case.refresh_from_db()
    assert cn_case.stage == "handed_over"
    record = Repatriation.objects.get(case=cn_case).steps.get(step="handover_record")
    assert record.body_sha256 == rp._digest(sent)
    page = client_of(caseworker_a).get(f"/persons/cases/{cn_case.pk}/handover/")
    text = page.content.decode()
    assert page.status_code == 200 and cn_case.reference in text
    assert "Guangzhou Baiyun airport" in text and record.body_sha256 in text
    assert 'lang="km"' in text and 'lang="zh-hans"' in text and "Officer Li" in text
    # The rest of the flow comes from CN: reception, follow-ups, closure closes our case.
    ref = cn_case.reference
    receive("reception_summary", {"shared_ref": ref, "services": ["family_reunion"]})
    receive("follow_up_report", {"shared_ref": ref, "month": 3, "status": "stable"})
    with pytest.raises(rp.DuplicateStep):
        receive("follow_up_report", {"shared_ref": ref, "month": 3, "status": "stable"})
    receive("case_closure", {"shared_ref": ref, "reason": "reintegrated"})
    cn_case.refresh_from_db()
    rep = Repatriation.objects.get(case=cn_case)
    assert cn_case.stage == "closed" and cn_case.closure_reason == "reintegrated"
    assert rep.status == RepatriationStatus.COMPLETED and rep.waiting_on == ""
    stages = [
        e["to"] for e in cn_case.events.filter(kind="stage").values_list("details", flat=True)
    ]
    assert stages == [
        "verification",
        "documents",
        "travel",
        "handed_over",
        "reintegration",
        "follow_up",
        "closed",
    ]


def test_handover_print_is_bilingual(cn_case, caseworker_a, client_of):
    _to_handover(cn_case, caseworker_a)
    text = client_of(caseworker_a).get(f"/persons/cases/{cn_case.pk}/handover/").content.decode()
    for label in ("ហត្ថលេខា", "签名", "លេខយោងករណីរួម", "共享个案编号", "遣返计划提议"):
        assert label in text, label


def test_bad_input_is_refused_with_the_field_and_nothing_sent(cn_case, caseworker_a):
    api = api_for(caseworker_a)
    for step in ("case_notification", "verification_request"):
        assert (
            api.post(
                f"/api/v1/cases/{cn_case.pk}/repatriation/{step}", {}, format="json"
            ).status_code
            == 201
        )
    ref = cn_case.reference
    receive("verification_result", {"shared_ref": ref, "confirmed": True, "officer": OFFICER})
    receive(
        "family_tracing_result",
        {"shared_ref": ref, "family_found": True, "safe_to_return": "yes", "officer": OFFICER},
    )
    before = OutboxMessage.objects.count()
    answer = api.post(
        f"/api/v1/cases/{cn_case.pk}/repatriation/travel_document_request",
        {"data": {"document_kind": "a forged kind"}},
        format="json",
    )
    assert answer.status_code == 400 and "document_kind" in answer.content.decode()
    assert (
        api.post(
            f"/api/v1/cases/{cn_case.pk}/repatriation/no_such_step", {}, format="json"
        ).status_code
        == 404
    )
    assert OutboxMessage.objects.count() == before
    assert Repatriation.objects.get(case=cn_case).steps_done[-1] == "family_tracing_result"
