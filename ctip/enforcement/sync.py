"""Law-enforcement messages between the two nodes, through the exchange (plan IV.1–IV.5).

Five message types, registered from ``EnforcementConfig.ready``:

* ``enforcement.member``: one of the sending country's taskforce members (the directory
  focal person it is, its taskforce role, active or not). The receiver keeps a read-only
  copy under the same id, if it holds that focal person (the directory sends it first).
* ``enforcement.request``: a case-information request to a named counterpart of the
  receiving country. Refused (in the signed receipt) when the counterpart is not an active
  taskforce member of the receiving country, or the legal basis is missing.
* ``enforcement.answer``: the answer, sent ``in_reply_to`` the request's message (the
  exchange checks the reply names a message it sent, by id and token digest). Refused when
  the request it answers is not one this node sent to that country and still open.
* ``enforcement.meeting``: the whole record of a meeting (schedule, participants, agenda,
  minutes, decisions, action items), sent again on every change; the receiver keeps the
  newest version, read-only.
* ``enforcement.sop``: a version of the SOP for law-enforcement cooperation and its state.

Victims' personal data never travels in these messages: a victim is named by nothing but,
where the sender chose to link one, the question text the officer wrote; a request linked
to a victim case is sent only when the victim's consent for case information to that
country covers it (the cases app's check, DP-1), and the victim case's reference travels
only in the envelope's ``case_ref`` (for the disclosure record), never in the body. The
types are therefore registered with ``personal_data=False``; what they may carry about
suspects is sent under the legal basis the request must state (DP-1's "documented
non-consent legal basis"), which is signed into the envelope. The JSON Schemas below are
the allow-lists (DP-3), checked on sending and on receipt.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date

from ctip.accounts.models import Country

log = logging.getLogger("ctip.enforcement")

MEMBER_TYPE = "enforcement.member"
REQUEST_TYPE = "enforcement.request"
ANSWER_TYPE = "enforcement.answer"
MEETING_TYPE = "enforcement.meeting"
SOP_TYPE = "enforcement.sop"
SCHEMA_VERSION = 1
PURPOSE = "law_enforcement"

_UUID = {
    "type": "string",
    "pattern": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
}
_UUID_OR_NULL = {"oneOf": [_UUID, {"type": "null"}]}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_DATE_OR_NULL = {"oneOf": [_DATE, {"type": "null"}]}
_COUNTRY = {"enum": list(Country.values)}


def _text(n: int, min_length: int = 0) -> dict:
    return {"type": "string", "maxLength": n, "minLength": min_length}


def _object(properties: dict) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(properties),
        "properties": properties,
    }


def _enum(choices) -> dict:
    return {"enum": list(choices.values)}


def _schemas() -> dict[str, dict]:
    from ctip.enforcement import models as m

    member = _object(
        {
            "id": _UUID,
            "focal_person": _UUID,
            "country": _COUNTRY,
            "taskforce_role": _enum(m.TaskforceRole),
            "active": {"type": "boolean"},
            "since": _DATE,
            "version": {"type": "integer", "minimum": 1},
        }
    )
    request = _object(
        {
            "id": _UUID,
            "counterpart": _UUID,
            "requester": _UUID_OR_NULL,
            "sender_reference": _text(24, 1),
            "asked": _text(10000, 1),
            "legal_basis": _enum(m.LegalBasis),
            "legal_basis_detail": _text(300),
            "urgency": _enum(m.Urgency),
            "deadline": _DATE,
        }
    )
    answer = _object(
        {
            "request": _UUID,
            "answer": _text(20000),
            "outcome": _enum(m.Outcome),
            "answered_on": _DATE,
        }
    )
    meeting = _object(
        {
            "id": _UUID,
            "version": {"type": "integer", "minimum": 1},
            "title": _text(200, 1),
            "host_country": _COUNTRY,
            "place": _text(200, 1),
            "starts_on": _DATE,
            "ends_on": _DATE,
            "status": _enum(m.MeetingStatus),
            "agenda": _text(20000),
            "second_language": _enum(m.SecondLanguage),
            "minutes_en": _text(50000),
            "minutes_second": _text(50000),
            "case_references": {"type": "array", "maxItems": 50, "items": _text(24, 1)},
            "participants": {
                "type": "array",
                "maxItems": 100,
                "items": _object(
                    {
                        "member": _UUID_OR_NULL,
                        "name": _text(200),
                        "organisation": _text(200),
                        "country": _COUNTRY,
                        "role": _enum(m.ParticipantRole),
                    }
                ),
            },
            "decisions": {"type": "array", "maxItems": 100, "items": _text(5000, 1)},
            "action_items": {
                "type": "array",
                "maxItems": 200,
                "items": _object(
                    {
                        "text": _text(5000, 1),
                        "owner": _UUID_OR_NULL,
                        "owner_name": _text(200),
                        "due_on": _DATE,
                        "done_on": _DATE_OR_NULL,
                    }
                ),
            },
        }
    )
    sop = _object(
        {
            "id": _UUID,
            "revision": {"type": "integer", "minimum": 1},
            "version": _text(40, 1),
            "title_en": _text(200, 1),
            "title_km": _text(200),
            "title_zh_hans": _text(200),
            "body_en": _text(100000),
            "body_km": _text(100000),
            "body_zh_hans": _text(100000),
            "status": _enum(m.SopStatus),
            "finalised_on": _DATE_OR_NULL,
            "meeting": _UUID_OR_NULL,
        }
    )
    return {
        MEMBER_TYPE: member,
        REQUEST_TYPE: request,
        ANSWER_TYPE: answer,
        MEETING_TYPE: meeting,
        SOP_TYPE: sop,
    }


def register() -> None:
    """Register the message types (from ``EnforcementConfig.ready``)."""
    from ctip.exchange.registry import register_message_type

    handlers = {
        MEMBER_TYPE: handle_member,
        REQUEST_TYPE: handle_request,
        ANSWER_TYPE: handle_answer,
        MEETING_TYPE: handle_meeting,
        SOP_TYPE: handle_sop,
    }
    for name, schema in _schemas().items():
        register_message_type(name, SCHEMA_VERSION, schema, handlers[name], personal_data=False)


def peers() -> list[str]:
    from ctip.exchange.models import Peer

    return list(Peer.objects.exclude(node_id=settings.CTIP_NODE).values_list("node_id", flat=True))


# --- bodies -------------------------------------------------------------------------------


def member_body(member) -> dict:
    return {
        "id": str(member.pk),
        "focal_person": str(member.focal_person_id),
        "country": member.country,
        "taskforce_role": member.taskforce_role,
        "active": member.active,
        "since": member.since.isoformat(),
        "version": member.version,
    }


def request_body(req) -> dict:
    return {
        "id": str(req.pk),
        "counterpart": str(req.counterpart_id),
        "requester": str(req.requester_id) if req.requester_id else None,
        "sender_reference": req.sender_reference,
        "asked": req.asked or "",
        "legal_basis": req.legal_basis,
        "legal_basis_detail": req.legal_basis_detail,
        "urgency": req.urgency,
        "deadline": req.deadline.isoformat(),
    }


def answer_body(req) -> dict:
    return {
        "request": str(req.pk),
        "answer": req.answer or "",
        "outcome": req.outcome,
        "answered_on": timezone.localdate(req.answered_at).isoformat(),
    }


def meeting_body(meeting) -> dict:
    return {
        "id": str(meeting.pk),
        "version": meeting.version,
        "title": meeting.title,
        "host_country": meeting.host_country,
        "place": meeting.place,
        "starts_on": meeting.starts_on.isoformat(),
        "ends_on": meeting.ends_on.isoformat(),
        "status": meeting.status,
        "agenda": meeting.agenda,
        "second_language": meeting.second_language,
        "minutes_en": meeting.minutes_en or "",
        "minutes_second": meeting.minutes_second or "",
        "case_references": list(meeting.case_references),
        "participants": [
            {
                "member": str(p.member_id) if p.member_id else None,
                "name": p.name,
                "organisation": p.organisation,
                "country": p.country,
                "role": p.role,
            }
            for p in meeting.participants.all()
        ],
        "decisions": [d.text for d in meeting.decisions.all()],
        "action_items": [
            {
                "text": a.text,
                "owner": str(a.owner_id) if a.owner_id else None,
                "owner_name": a.owner_name,
                "due_on": a.due_on.isoformat(),
                "done_on": a.done_on.isoformat() if a.done_on else None,
            }
            for a in meeting.action_items.all()
        ],
    }


def sop_body(sop) -> dict:
    return {
        "id": str(sop.pk),
        "revision": sop.revision,
        "version": sop.version,
        "title_en": sop.title_en,
        "title_km": sop.title_km,
        "title_zh_hans": sop.title_zh_hans,
        "body_en": sop.body_en,
        "body_km": sop.body_km,
        "body_zh_hans": sop.body_zh_hans,
        "status": sop.status,
        "finalised_on": sop.finalised_on.isoformat() if sop.finalised_on else None,
        "meeting": str(sop.finalised_at_meeting_id) if sop.finalised_at_meeting_id else None,
    }


def send_to_peers(*, actor, msg_type: str, body: dict, request=None) -> list:
    """Queue a message for every peer, in the caller's transaction."""
    from ctip.exchange.services import message_send

    return [
        message_send(actor=actor, to=node, msg_type=msg_type, body=body, request=request)
        for node in peers()
    ]


def resend_all(*, actor=None, to: str | None = None) -> int:
    """Send this country's taskforce members, local meetings and SOP versions again (for a
    node peered after they were recorded). The receiver keeps what is not older."""
    from django.db import transaction

    from ctip.enforcement.models import Meeting, SopVersion, TaskforceMember
    from ctip.exchange.services import message_send

    targets = [to.upper()] if to else peers()
    sent = 0
    items = [
        *(
            (MEMBER_TYPE, member_body(m))
            for m in TaskforceMember.objects.filter(country=settings.CTIP_NODE)
        ),
        *(
            (SOP_TYPE, sop_body(s))
            for s in SopVersion.objects.filter(origin=settings.CTIP_NODE).exclude(status="drafted")
        ),
        *(
            (MEETING_TYPE, meeting_body(m))
            for m in Meeting.objects.filter(origin=settings.CTIP_NODE).prefetch_related(
                "participants", "decisions", "action_items"
            )
        ),
    ]
    for msg_type, body in items:
        with transaction.atomic():
            for node in targets:
                message_send(actor=actor, to=node, msg_type=msg_type, body=body)
                sent += 1
    return sent


# --- receiving ----------------------------------------------------------------------------


def _refuse(reason: str):
    from ctip.exchange.core import HandlerRefused

    return HandlerRefused(reason)


def _date(value):
    if value is None:
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise _refuse("a date is not valid")
    return parsed


def _audit(obj, action, details) -> None:
    from ctip.audit.services import audit_record

    audit_record(actor=None, action=action, obj=obj, details=details)


def handle_member(message) -> None:
    from ctip.audit.models import Action
    from ctip.directory.models import FocalPerson
    from ctip.enforcement.models import TaskforceMember

    body, sender = message.body, message.sender
    if body["country"] != sender:
        raise _refuse("a node may only send its own country's taskforce members")
    focal = FocalPerson.objects.filter(pk=body["focal_person"], country=sender).first()
    if focal is None:
        raise _refuse("unknown focal person: send the directory first")
    pk = uuid.UUID(body["id"])
    existing = TaskforceMember.objects.select_for_update().filter(pk=pk).first()
    if existing is not None and existing.country != sender:
        raise _refuse("the member belongs to another country")
    if existing is not None and existing.version >= body["version"]:
        return
    other = TaskforceMember.objects.filter(focal_person=focal).exclude(pk=pk).first()
    if other is not None:
        raise _refuse("the focal person is already another member")
    member = existing or TaskforceMember(id=pk, country=sender)
    member.focal_person = focal
    member.taskforce_role = body["taskforce_role"]
    member.active = body["active"]
    member.since = _date(body["since"])
    member.version = body["version"]
    member.updated_at = timezone.now()
    member.full_clean()
    member.save()
    _audit(
        member,
        Action.UPDATE if existing else Action.CREATE,
        {"from": sender, "version": member.version},
    )


def handle_request(message) -> None:
    from ctip.audit.models import Action
    from ctip.enforcement.models import (
        Direction,
        InfoRequest,
        LegalBasis,
        RequestEvent,
        RequestStatus,
        TaskforceMember,
    )

    body, sender, here = message.body, message.sender, settings.CTIP_NODE
    counterpart = (
        TaskforceMember.objects.select_related("focal_person")
        .filter(pk=body["counterpart"], country=here, active=True)
        .first()
    )
    if counterpart is None:
        raise _refuse("unknown counterpart: not an active taskforce member here")
    if body["legal_basis"] == LegalBasis.OTHER and not body["legal_basis_detail"].strip():
        raise _refuse("a request needs its legal basis")
    if InfoRequest.objects.filter(pk=body["id"]).exists():
        raise _refuse("a request with this id is already held")
    requester = None
    if body["requester"]:
        requester = TaskforceMember.objects.filter(pk=body["requester"], country=sender).first()
    now = timezone.now()
    req = InfoRequest(
        id=uuid.UUID(body["id"]),
        direction=Direction.INCOMING,
        owner_agency=counterpart.focal_person.agency,
        peer_country=sender,
        counterpart=counterpart,
        requester=requester,
        sender_reference=body["sender_reference"],
        asked=body["asked"],
        legal_basis=body["legal_basis"],
        legal_basis_detail=body["legal_basis_detail"],
        urgency=body["urgency"],
        deadline=_date(body["deadline"]),
        status=RequestStatus.RECEIVED,
        sent_at=message.sent_at,
        received_at=now,
        request_msg_id=uuid.UUID(message.msg_id),
    )
    try:
        req.full_clean()
    except ValidationError as exc:
        raise _refuse(f"invalid request: {', '.join(sorted(exc.message_dict))}") from None
    req.save(force_insert=True)
    RequestEvent.objects.create(
        request=req, kind=RequestEvent.Kind.RECEIVED, at=now, msg_id=req.request_msg_id
    )
    _audit(req, Action.CREATE, {"from": sender, "direction": "incoming"})


def handle_answer(message) -> None:
    from ctip.audit.models import Action
    from ctip.enforcement.models import Direction, InfoRequest, RequestEvent, RequestStatus

    body, sender = message.body, message.sender
    req = (
        InfoRequest.objects.select_for_update()
        .filter(pk=body["request"], direction=Direction.OUTGOING, peer_country=sender)
        .first()
    )
    if req is None:
        raise _refuse("the answer names no request we sent to that country")
    if message.in_reply_to is None or str(req.request_msg_id) != str(message.in_reply_to):
        raise _refuse("the answer is not a reply to that request's message")
    if req.status != RequestStatus.SENT:
        raise _refuse("that request is no longer waiting for an answer")
    now = timezone.now()
    req.answer = body["answer"]
    req.outcome = body["outcome"]
    req.answered_at = now
    req.status = RequestStatus.ANSWERED
    req.answer_msg_id = uuid.UUID(message.msg_id)
    req.full_clean()
    req.save()
    RequestEvent.objects.create(
        request=req, kind=RequestEvent.Kind.ANSWER_RECEIVED, at=now, msg_id=req.answer_msg_id
    )
    _audit(req, Action.UPDATE, {"from": sender, "status": "answered"})


def handle_meeting(message) -> None:
    from ctip.audit.models import Action
    from ctip.enforcement.models import (
        ActionItem,
        Decision,
        Meeting,
        Participant,
        TaskforceMember,
    )

    body, sender = message.body, message.sender
    pk = uuid.UUID(body["id"])
    existing = Meeting.objects.select_for_update().filter(pk=pk).first()
    if existing is not None and existing.origin != sender:
        raise _refuse("the meeting is recorded by another country")
    if existing is not None and existing.version >= body["version"]:
        return
    members = {str(pk): pk for pk in TaskforceMember.objects.values_list("pk", flat=True)}
    meeting = existing or Meeting(id=pk, origin=sender)
    for name in ("title", "host_country", "place", "status", "agenda", "second_language"):
        setattr(meeting, name, body[name])
    meeting.starts_on = _date(body["starts_on"])
    meeting.ends_on = _date(body["ends_on"])
    meeting.minutes_en = body["minutes_en"]
    meeting.minutes_second = body["minutes_second"]
    meeting.case_references = body["case_references"]
    meeting.version = body["version"]
    try:
        meeting.full_clean()
    except ValidationError as exc:
        raise _refuse(f"invalid meeting: {', '.join(sorted(exc.message_dict))}") from None
    meeting.save()
    meeting.participants.all().delete()
    meeting.decisions.all().delete()
    meeting.action_items.all().delete()
    for item in body["participants"]:
        member = members.get(item["member"] or "")
        if member is None and not item["name"]:
            raise _refuse("a participant is neither a known member nor named")
        Participant.objects.create(
            meeting=meeting,
            member_id=member,
            name=item["name"],
            organisation=item["organisation"],
            country=item["country"],
            role=item["role"],
        )
    for number, text in enumerate(body["decisions"], start=1):
        Decision.objects.create(meeting=meeting, number=number, text=text)
    for item in body["action_items"]:
        owner = members.get(item["owner"] or "")
        if owner is None and not item["owner_name"]:
            raise _refuse("an action item has no owner")
        ActionItem.objects.create(
            meeting=meeting,
            text=item["text"],
            owner_id=owner,
            owner_name=item["owner_name"],
            due_on=_date(item["due_on"]),
            done_on=_date(item["done_on"]),
        )
    _audit(
        meeting,
        Action.UPDATE if existing else Action.CREATE,
        {"from": sender, "version": meeting.version},
    )


def handle_sop(message) -> None:
    from ctip.audit.models import Action
    from ctip.enforcement.models import Meeting, SopStatus, SopVersion

    body, sender = message.body, message.sender
    pk = uuid.UUID(body["id"])
    existing = SopVersion.objects.select_for_update().filter(pk=pk).first()
    if existing is not None and existing.origin != sender:
        raise _refuse("the SOP version was drafted by another country")
    if existing is not None and existing.revision >= body["revision"]:
        return
    if body["status"] == SopStatus.DRAFTED:
        raise _refuse("a draft that was not exchanged is not sent")
    sop = existing or SopVersion(id=pk, origin=sender)
    for name in ("version", "title_en", "title_km", "title_zh_hans"):
        setattr(sop, name, body[name])
    for name in ("body_en", "body_km", "body_zh_hans", "status", "revision"):
        setattr(sop, name, body[name])
    sop.exchanged_at = sop.exchanged_at or message.sent_at
    sop.finalised_on = _date(body["finalised_on"])
    sop.finalised_at_meeting = (
        Meeting.objects.filter(pk=body["meeting"]).first() if body["meeting"] else None
    )
    try:
        sop.full_clean()
    except ValidationError as exc:
        raise _refuse(f"invalid SOP version: {', '.join(sorted(exc.message_dict))}") from None
    sop.save()
    _audit(
        sop,
        Action.UPDATE if existing else Action.CREATE,
        {"from": sender, "revision": sop.revision, "status": sop.status},
    )
