"""The rules of law-enforcement cooperation, in one process: what a request, an answer, a
meeting and an SOP version put in the exchange outbox (and when they are refused), how
received messages are applied or refused, and testimony consent."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ctip.audit.models import AuditEvent
from ctip.enforcement import selectors, services, sync
from ctip.enforcement.models import (
    Direction,
    InfoRequest,
    Meeting,
    MeetingStatus,
    RequestEvent,
    RequestStatus,
    SopStatus,
)
from ctip.exchange.core import BadReply, HandlerRefused, SchemaInvalid
from ctip.exchange.models import OutboxMessage
from ctip.exchange.registry import IncomingMessage, message_type, validate_body

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def ask(counterpart, **overrides):
    data = {
        "counterpart": counterpart,
        "asked": "Bank accounts used by the broker LIANG (test)",
        "legal_basis": "bilateral_agreement",
        "deadline": TODAY + dt.timedelta(days=30),
        "urgency": "urgent",
        **overrides,
    }
    return services.RequestInput(**data)


def outbox(msg_type: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(msg_type=msg_type).order_by("seq"))


def incoming(msg_type: str, body: dict, *, in_reply_to=None, sender="CN") -> IncomingMessage:
    validate_body(message_type(msg_type, 1), body)  # what the exchange checks first
    return IncomingMessage(
        msg_id=str(uuid.uuid4()),
        sender=sender,
        msg_type=msg_type,
        schema_version=1,
        body=body,
        case_ref=None,
        purpose=None,
        in_reply_to=in_reply_to,
        signer_kid="cn-test",
        sent_at=timezone.now() - dt.timedelta(days=3),
        transport="http",
    )


# --- Sending a request --------------------------------------------------------------------


def test_request_is_queued_with_its_legal_basis_and_history(
    cn_peer, police, own_member, cn_member, le_case
):
    req = services.request_send(user=police, le_case=le_case, data=ask(cn_member))
    [msg] = outbox(sync.REQUEST_TYPE)
    body = json.loads(msg.body)
    assert body["id"] == str(req.pk) and body["counterpart"] == str(cn_member.pk)
    assert body["requester"] == str(own_member.pk)
    assert body["sender_reference"] == le_case.reference and body["urgency"] == "urgent"
    assert msg.legal_basis == "bilateral_agreement" and msg.peer == cn_peer
    # Nothing of the case's summary or places travels.
    assert "fishing" not in msg.body and "Sihanoukville" not in msg.body
    req.refresh_from_db()
    assert req.status == RequestStatus.SENT and req.request_msg_id == msg.pk
    assert list(req.events.values_list("kind", flat=True)) == ["sent"]
    assert AuditEvent.objects.filter(object_id=str(req.pk), action="create").exists()
    delivery = selectors.delivery_of(req.request_msg_id)
    assert delivery.status == msg.status and delivery.acknowledged_at is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"legal_basis": ""}, "legal_basis"),
        ({"legal_basis": "other", "legal_basis_detail": " "}, "legal_basis_detail"),
        ({"asked": " "}, "asked"),
        ({"deadline": TODAY - dt.timedelta(days=1)}, "deadline"),
    ],
)
def test_a_request_without_its_basics_is_refused(
    cn_peer, police, cn_member, le_case, overrides, field
):
    with pytest.raises(ValidationError) as exc:
        services.request_send(user=police, le_case=le_case, data=ask(cn_member, **overrides))
    assert field in exc.value.message_dict
    assert not InfoRequest.objects.exists() and not outbox(sync.REQUEST_TYPE)


def test_a_request_to_an_unknown_counterpart_is_refused(
    cn_peer, police, own_member, cn_member, le_case
):
    for who in (uuid.uuid4(), own_member, "not-an-id", None):
        with pytest.raises(ValidationError) as exc:
            services.request_send(user=police, le_case=le_case, data=ask(who))
        assert "Unknown counterpart" in exc.value.message_dict["counterpart"][0]
    cn_member.active = False
    cn_member.save()
    with pytest.raises(ValidationError):
        services.request_send(user=police, le_case=le_case, data=ask(cn_member))
    assert not InfoRequest.objects.exists() and not outbox(sync.REQUEST_TYPE)


def test_without_the_other_node_nothing_is_sent(police, cn_member, le_case):
    with pytest.raises(ValidationError) as exc:
        services.request_send(user=police, le_case=le_case, data=ask(cn_member))
    assert "not connected" in str(exc.value)
    assert not InfoRequest.objects.exists()


def test_police_of_another_agency_cannot_send_on_the_case(cn_peer, police_b, cn_member, le_case):
    with pytest.raises(Exception) as exc:
        services.request_send(user=police_b, le_case=le_case, data=ask(cn_member))
    assert exc.type.__name__ == "NotFound"
    assert not InfoRequest.objects.exists()


# --- Answering ----------------------------------------------------------------------------


def request_body(counterpart, **overrides) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "counterpart": str(counterpart.pk),
        "requester": None,
        "sender_reference": "LE-CN-2026-0007",
        "asked": "Travel records of the victims' recruiter (test)",
        "legal_basis": "mutual_legal_assistance",
        "legal_basis_detail": "",
        "urgency": "routine",
        "deadline": (TODAY + dt.timedelta(days=20)).isoformat(),
        **overrides,
    }


def test_a_received_request_is_answered_in_reply_to_its_message(
    cn_peer, police, own_member, police_agency
):
    message = incoming(sync.REQUEST_TYPE, request_body(own_member))
    # The exchange stores the inbox row before calling the handler; do the same here.
    from ctip.exchange.models import InboxMessage

    InboxMessage.objects.create(
        peer=cn_peer,
        msg_id=message.msg_id,
        seq=1,
        msg_type=message.msg_type,
        schema_version=1,
        body="{}",
        envelope_digest="d" * 64,
        signer_kid="cn-test",
        transport="http",
        receipt="r",
        sent_at=message.sent_at,
    )
    sync.handle_request(message)
    req = InfoRequest.objects.get()
    assert req.direction == Direction.INCOMING and req.status == RequestStatus.RECEIVED
    assert req.owner_agency == police_agency and req.counterpart == own_member
    assert req.asked.startswith("Travel records") and req.peer_country == "CN"
    assert list(selectors.request_list(user=police, direction="incoming")) == [req]

    services.request_answer(
        user=police, info_request=req, answer="Two crossings in May (test).", outcome="provided"
    )
    [msg] = outbox(sync.ANSWER_TYPE)
    assert str(msg.in_reply_to) == message.msg_id and msg.request_hash == "d" * 64
    assert json.loads(msg.body)["request"] == str(req.pk)
    req.refresh_from_db()
    assert req.status == RequestStatus.ANSWERED and req.answer_msg_id == msg.pk
    assert [e.kind for e in req.events.all()] == ["received", "answered"]
    with pytest.raises(ValidationError, match="already answered"):
        services.request_answer(user=police, info_request=req, answer="x", outcome="provided")


def test_a_request_that_was_not_received_cannot_be_answered(
    cn_peer, police, own_member, cn_member, le_case
):
    sent = services.request_send(user=police, le_case=le_case, data=ask(cn_member))
    with pytest.raises(ValidationError, match="not received"):
        services.request_answer(user=police, info_request=sent, answer="x", outcome="provided")
    # A forged "incoming" row without the message that carried it is no better.
    forged = InfoRequest.objects.create(
        direction=Direction.INCOMING,
        owner_agency=police.agency,
        peer_country="CN",
        counterpart=own_member,
        sender_reference="LE-CN-1",
        asked="x",
        legal_basis="interpol",
        deadline=TODAY,
        status=RequestStatus.RECEIVED,
        sent_at=timezone.now(),
    )
    with pytest.raises(ValidationError, match="not received"):
        services.request_answer(user=police, info_request=forged, answer="x", outcome="provided")
    assert not outbox(sync.ANSWER_TYPE)
    # And the exchange itself refuses a reply to a message it never received.
    from ctip.exchange.services import message_send

    with pytest.raises(BadReply):
        message_send(
            actor=police,
            to="CN",
            msg_type=sync.ANSWER_TYPE,
            body={
                "request": str(sent.pk),
                "answer": "x",
                "outcome": "provided",
                "answered_on": TODAY.isoformat(),
            },
            in_reply_to=str(uuid.uuid4()),
        )


def test_received_requests_are_refused_for_unknown_counterparts(cn_peer, own_member, cn_member):
    for counterpart in (cn_member, own_member.__class__(pk=uuid.uuid4())):
        with pytest.raises(HandlerRefused, match="unknown counterpart"):
            sync.handle_request(incoming(sync.REQUEST_TYPE, request_body(counterpart)))
    with pytest.raises(SchemaInvalid):  # no legal basis at all: refused by the allow-list
        incoming(sync.REQUEST_TYPE, request_body(own_member, legal_basis=""))
    with pytest.raises(HandlerRefused, match="legal basis"):
        sync.handle_request(
            incoming(sync.REQUEST_TYPE, request_body(own_member, legal_basis="other"))
        )
    assert not InfoRequest.objects.exists()


def test_an_answer_is_applied_only_to_the_request_it_replies_to(
    cn_peer, police, cn_member, le_case
):
    req = services.request_send(user=police, le_case=le_case, data=ask(cn_member))
    body = {
        "request": str(req.pk),
        "answer": "The accounts are at two banks (test).",
        "outcome": "partial",
        "answered_on": TODAY.isoformat(),
    }
    with pytest.raises(HandlerRefused, match="not a reply"):
        sync.handle_answer(incoming(sync.ANSWER_TYPE, body, in_reply_to=str(uuid.uuid4())))
    unknown = {**body, "request": str(uuid.uuid4())}
    with pytest.raises(HandlerRefused, match="no request we sent"):
        sync.handle_answer(incoming(sync.ANSWER_TYPE, unknown, in_reply_to=str(req.pk)))
    sync.handle_answer(incoming(sync.ANSWER_TYPE, body, in_reply_to=str(req.request_msg_id)))
    req.refresh_from_db()
    assert req.status == RequestStatus.ANSWERED and req.outcome == "partial"
    assert req.answer.startswith("The accounts") and req.days_to_answer is not None
    assert list(req.events.values_list("kind", flat=True)) == ["sent", "answer_received"]
    with pytest.raises(HandlerRefused, match="no longer waiting"):
        sync.handle_answer(incoming(sync.ANSWER_TYPE, body, in_reply_to=str(req.request_msg_id)))


def test_overdue_requests_are_listed(cn_peer, police, cn_member, le_case):
    req = services.request_send(user=police, le_case=le_case, data=ask(cn_member))
    assert not selectors.request_list(user=police, overdue=True).exists()
    InfoRequest.objects.filter(pk=req.pk).update(deadline=TODAY - dt.timedelta(days=1))
    assert list(selectors.request_list(user=police, overdue=True)) == [req]
    assert RequestEvent.objects.filter(request=req).count() == 1


# --- Victim cases by reference, with consent ----------------------------------------------


def test_a_request_about_a_victim_needs_the_victims_consent(
    cn_peer, police, cn_member, le_case, victim_case, caseworker_p
):
    from ctip.cases.services import ConsentInput, consent_record

    data = ask(cn_member, victim_case_reference=victim_case.reference)
    with pytest.raises(ValidationError, match="not consented"):
        services.request_send(user=police, le_case=le_case, data=data)
    assert not outbox(sync.REQUEST_TYPE)
    consent_record(
        user=caseworker_p,
        case=victim_case,
        data=ConsentInput(
            decision="given",
            purpose="case_information",
            recipient_country="CN",
            data_categories=("identity", "exploitation", "case_progress"),
            given_on=TODAY,
            how_given="written",
            language="km",
        ),
    )
    req = services.request_send(user=police, le_case=le_case, data=data)
    [msg] = outbox(sync.REQUEST_TYPE)
    assert msg.case_ref == victim_case.reference and msg.purpose == "case_information"
    assert victim_case.reference not in msg.body  # only in the envelope, for the record
    assert req.victim_case_reference == victim_case.reference


# --- Meetings -----------------------------------------------------------------------------


def meeting_input(**overrides):
    data = {
        "title": "Case investigation meeting (test)",
        "host_country": "CN",
        "place": "Kunming",
        "starts_on": TODAY - dt.timedelta(days=2),
        "ends_on": TODAY - dt.timedelta(days=1),
        "second_language": "zh-hans",
        "agenda": "1. Facts. 2. Suspects.",
        **overrides,
    }
    return services.MeetingInput(**data)


def test_a_meeting_with_minutes_and_action_items_is_sent_whole(
    cn_peer, police, own_member, cn_member, le_case
):
    meeting = services.meeting_schedule(
        user=police, data=meeting_input(le_cases=(le_case,), case_references=("LE-CN-9",))
    )
    assert meeting.case_references == [le_case.reference, "LE-CN-9"]
    with pytest.raises(ValidationError) as exc:
        services.meeting_record_minutes(
            user=police, meeting=meeting, minutes_en="Agreed.", minutes_second=""
        )
    assert {"minutes_second", "participants"} <= set(exc.value.message_dict)
    for member in (own_member, cn_member):
        services.participant_add(
            user=police,
            meeting=meeting,
            data=services.ParticipantInput(country="KH", member=member, role="head"),
        )
    services.meeting_record_minutes(
        user=police,
        meeting=meeting,
        minutes_en="Agreed to exchange bank records.",
        minutes_second="同意交换银行记录。",
        decisions=("Exchange bank records", ""),
    )
    item = services.action_item_add(
        user=police,
        meeting=meeting,
        data=services.ActionItemInput(
            text="Send the request", due_on=TODAY + dt.timedelta(days=7), owner=own_member
        ),
    )
    with pytest.raises(ValidationError):
        services.action_item_add(
            user=police,
            meeting=meeting,
            data=services.ActionItemInput(text="Nobody's", due_on=TODAY),
        )
    services.action_item_done(user=police, item=item)
    bodies = [json.loads(m.body) for m in outbox(sync.MEETING_TYPE)]
    assert [b["version"] for b in bodies] == [1, 2, 3, 4, 5, 6]
    last = bodies[-1]
    assert last["status"] == "held" and last["minutes_second"] == "同意交换银行记录。"
    assert last["decisions"] == ["Exchange bank records"]
    assert {p["country"] for p in last["participants"]} == {"KH", "CN"}  # member's country
    assert last["action_items"][0]["done_on"] == TODAY.isoformat()
    assert "Sihanoukville" not in json.dumps(bodies)  # the case's details never travel

    # Finance reads the meeting (no minutes, no cases).
    [row] = selectors.meetings_for_cost_sharing(user=None)
    assert row.host_country == "CN" and row.place == "Kunming" and row.status == "held"
    assert row.countries == {"KH", "CN"} and len(row.participants) == 2
    assert {p.user_id for p in row.participants} == {police.pk, None}


def test_a_received_meeting_is_kept_read_only_and_only_newer_versions_apply(
    cn_peer, police, own_member, cn_member
):
    body = {
        "id": str(uuid.uuid4()),
        "version": 3,
        "title": "Joint taskforce meeting (test)",
        "host_country": "CN",
        "place": "Beijing",
        "starts_on": (TODAY - dt.timedelta(days=1)).isoformat(),
        "ends_on": TODAY.isoformat(),
        "status": "held",
        "agenda": "SOP",
        "second_language": "zh-hans",
        "minutes_en": "The SOP was finalised.",
        "minutes_second": "标准作业程序定稿。",
        "case_references": ["LE-CN-2026-0001"],
        "participants": [
            {
                "member": str(own_member.pk),
                "name": "",
                "organisation": "",
                "country": "KH",
                "role": "head",
            },
            {
                "member": None,
                "name": "WANG Li",
                "organisation": "MPS",
                "country": "CN",
                "role": "head",
            },
        ],
        "decisions": ["Finalise the SOP"],
        "action_items": [
            {
                "text": "Publish the SOP",
                "owner": str(cn_member.pk),
                "owner_name": "",
                "due_on": TODAY.isoformat(),
                "done_on": None,
            },
        ],
    }
    sync.handle_meeting(incoming(sync.MEETING_TYPE, body))
    meeting = Meeting.objects.get()
    assert not meeting.is_local and meeting.status == MeetingStatus.HELD
    assert meeting.minutes_en == "The SOP was finalised." and meeting.participants.count() == 2
    sync.handle_meeting(incoming(sync.MEETING_TYPE, {**body, "version": 2, "title": "Old"}))
    meeting.refresh_from_db()
    assert meeting.title == "Joint taskforce meeting (test)"
    with pytest.raises(ValidationError, match="other country"):
        services.meeting_cancel(user=police, meeting=meeting)
    with pytest.raises(HandlerRefused):
        sync.handle_meeting(incoming(sync.MEETING_TYPE, {**body, "version": 4}, sender="KH"))


# --- SOP ----------------------------------------------------------------------------------


def test_the_sop_is_drafted_exchanged_and_finalised_at_a_joint_meeting(
    cn_peer, police, own_member, cn_member
):
    sop = services.sop_save(
        user=police,
        data=services.SopInput(version="1.0", title_en="SOP (test)", body_en="1. Requests."),
    )
    assert sop.status == SopStatus.DRAFTED and not outbox(sync.SOP_TYPE)  # drafts stay here
    meeting = services.meeting_schedule(user=police, data=meeting_input())
    with pytest.raises(ValidationError, match="exchanged"):
        services.sop_finalise(user=police, sop=sop, meeting=meeting)
    sop = services.sop_exchange(user=police, sop=sop)
    assert sop.status == SopStatus.EXCHANGED
    assert json.loads(outbox(sync.SOP_TYPE)[0].body)["status"] == "exchanged"
    with pytest.raises(ValidationError, match="held"):
        services.sop_finalise(user=police, sop=sop, meeting=meeting)
    for member in (own_member, cn_member):
        services.participant_add(
            user=police, meeting=meeting, data=services.ParticipantInput("KH", member=member)
        )
    services.meeting_record_minutes(
        user=police, meeting=meeting, minutes_en="Finalised.", minutes_second="定稿。"
    )
    sop = services.sop_finalise(user=police, sop=sop, meeting=meeting)
    assert sop.status == SopStatus.FINALISED and sop.finalised_on == meeting.ends_on
    with pytest.raises(ValidationError, match="frozen"):
        services.sop_save(
            user=police, sop=sop, data=services.SopInput(version="1.0", title_en="x", body_en="y")
        )
    assert [json.loads(m.body)["status"] for m in outbox(sync.SOP_TYPE)] == [
        "exchanged",
        "finalised",
    ]


# --- Testimony ----------------------------------------------------------------------------


def test_testimony_is_arranged_only_with_consent(police, le_case):
    victim = services.victim_link_add(user=police, le_case=le_case, role="victim")
    data = {
        "witness": victim,
        "court": "Phnom Penh Court (test)",
        "hearing_country": "KH",
        "hearing_mode": "in_camera",
        "protective_measures": ("screen", "interpreter"),
        "status": "arranged",
    }
    with pytest.raises(ValidationError, match="consent"):
        services.testimony_save(user=police, le_case=le_case, data=services.TestimonyInput(**data))
    testimony = services.testimony_save(
        user=police,
        le_case=le_case,
        data=services.TestimonyInput(
            **data, consent_given=True, consent_on=TODAY, consent_language="km"
        ),
    )
    assert testimony.hearing_mode == "in_camera" and testimony.consent_given
    assert testimony.protective_measures == ["screen", "interpreter"]
    assert le_case.testimonies.get().status == "arranged"
    with pytest.raises(ValidationError, match="protective"):
        services.testimony_save(
            user=police,
            le_case=le_case,
            data=services.TestimonyInput(**{**data, "protective_measures": ("x",)}),
        )
