"""The plan between the two nodes, through the exchange (plan activity I.1, VI.2).

Two message types, registered from ``PlanConfig.ready``, neither carrying personal data:

* ``plan.endorsement``: one party's endorsement of one version (version number, the
  version's content hash, party, endorsing *office*, date, meeting). A node sends only its
  own party's endorsement, queued in the same transaction that records it. The receiver
  records it on its own copy of the version with that number *and* that content hash; a
  hash mismatch is refused (the two nodes hold different texts under one number, so the
  version must stay not agreed) and the refusal travels back in the signed receipt.
* ``plan.report``: a progress report as it was frozen when issued (period, languages,
  statuses, indicators, open questions, next steps), sent by an explicit action. Its
  figures about people went through the disclosure control when it was issued
  (``disclosure``: "<k" where withheld); its period is whole calendar months, and the
  receiver refuses any other. The receiver keeps it read-only, under the id it has on
  the sending node.

Both handlers are idempotent: a second delivery of the same endorsement or report changes
nothing. The JSON Schemas below are the allow-lists (SECURITY.md DP-3): no field outside
them can cross, on sending or on receipt.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date

from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.plan.models import Endorsement, PlanVersion, ProgressReport

log = logging.getLogger("ctip.plan")

ENDORSEMENT_TYPE = "plan.endorsement"
REPORT_TYPE = "plan.report"
SCHEMA_VERSION = 1

# --- the JSON Schemas -----------------------------------------------------------------------

_PARTY = {"enum": ["KH", "CN"]}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_DATE_OR_EMPTY = {"type": "string", "pattern": r"^(\d{4}-\d{2}-\d{2})?$"}
_UUID = {
    "type": "string",
    "pattern": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
}


def _text(n: int) -> dict:
    return {"type": "string", "maxLength": n}


def _object(properties: dict) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(properties),
        "properties": properties,
    }


def _per_country(schema: dict) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "propertyNames": _PARTY,
        "patternProperties": {"^(KH|CN)$": schema},
    }


_BOTH = _object({"en": _text(5000), "second": _text(5000)})
_ACTIVITY_NUMBER = {"type": "string", "pattern": r"^[A-Za-z0-9.\-]{1,10}$"}

ENDORSEMENT_SCHEMA = _object(
    {
        "version": {"type": "integer", "minimum": 1},
        "content_hash": {"type": "string", "pattern": r"^[0-9a-f]{64}$"},
        "party": _PARTY,
        "endorsed_by": {"type": "string", "minLength": 1, "maxLength": 200},
        "endorsed_on": _DATE,
        "meeting": {"type": "string", "minLength": 1, "maxLength": 300},
    }
)

_COUNTRY_STATUS = _object(
    {
        "status": {"enum": ["not_started", "in_progress", "done", "blocked"]},
        "label": _BOTH,
        "as_of": _DATE_OR_EMPTY,
        "note": _text(5000),
        "next_step": _text(5000),
        "next_step_due": _DATE_OR_EMPTY,
        "updates_in_period": {"type": "integer", "minimum": 0},
    }
)
_ACTIVITY = _object(
    {"number": _ACTIVITY_NUMBER, "text": _BOTH, "status": _per_country(_COUNTRY_STATUS)}
)
_AREA = _object(
    {
        "code": _text(8),
        "title": _BOTH,
        "activities": {"type": "array", "maxItems": 200, "items": _ACTIVITY},
    }
)
_INDICATOR = _object(
    {
        "code": _text(60),
        "activity": _ACTIVITY_NUMBER,
        "text": _BOTH,
        "unit": _text(20),
        "computed": {"type": "boolean"},
        "values": _per_country(
            _object(
                {
                    "value": {"type": ["string", "null"], "maxLength": 30},
                    "source": {"enum": ["computed", "manual", ""]},
                    "as_of": _DATE_OR_EMPTY,
                }
            )
        ),
    }
)
_QUESTION = _object(
    {"key": _text(60), "activity": _ACTIVITY_NUMBER, "draft": _text(5000), "text": _BOTH}
)
_NEXT_STEP = _object(
    {
        "activity": _ACTIVITY_NUMBER,
        "country": _PARTY,
        "next_step": _text(5000),
        "due": _DATE_OR_EMPTY,
    }
)
REPORT_CONTENT = _object(
    {
        "language": {"enum": ["km", "zh-hans"]},
        "country": _PARTY,
        "period": {"type": "array", "minItems": 2, "maxItems": 2, "items": _DATE},
        "version": {"type": ["integer", "null"], "minimum": 1},
        "agreed": {"type": "boolean"},
        "translation_draft": {"type": "boolean"},
        "title": _BOTH,
        "areas": {"type": "array", "maxItems": 20, "items": _AREA},
        "indicators": {"type": "array", "maxItems": 500, "items": _INDICATOR},
        "open_questions": {"type": "array", "maxItems": 500, "items": _QUESTION},
        "next_steps": {"type": "array", "maxItems": 1000, "items": _NEXT_STEP},
    }
)
REPORT_SCHEMA = _object({"id": _UUID, "issued_at": _text(40), "content": REPORT_CONTENT})


def register() -> None:
    """Register both message types (from ``PlanConfig.ready``)."""
    from ctip.exchange.registry import register_message_type

    register_message_type(
        ENDORSEMENT_TYPE,
        SCHEMA_VERSION,
        ENDORSEMENT_SCHEMA,
        handle_endorsement,
        personal_data=False,
    )
    register_message_type(
        REPORT_TYPE, SCHEMA_VERSION, REPORT_SCHEMA, handle_report, personal_data=False
    )


# --- sending --------------------------------------------------------------------------------


def peers() -> list[str]:
    """The other nodes pinned in the exchange (none until an operator peers them)."""
    from ctip.exchange.models import Peer

    return list(Peer.objects.exclude(node_id=settings.CTIP_NODE).values_list("node_id", flat=True))


def endorsement_body(endorsement: Endorsement) -> dict:
    return {
        "version": endorsement.version.number,
        "content_hash": endorsement.content_hash,
        "party": endorsement.party,
        "endorsed_by": endorsement.endorsed_by,
        "endorsed_on": endorsement.endorsed_on.isoformat(),
        "meeting": endorsement.meeting,
    }


def endorsement_queue(*, actor, endorsement: Endorsement, request=None) -> list:
    """Queue this node's own party's endorsement for the other node, inside the caller's
    transaction. An endorsement recorded here for the *other* party (copied from the
    minutes of a meeting) is not sent back to it."""
    if endorsement.party != settings.CTIP_NODE or endorsement.received_from:
        return []
    from ctip.exchange.services import message_send

    body = endorsement_body(endorsement)
    return [
        message_send(actor=actor, to=node, msg_type=ENDORSEMENT_TYPE, body=body, request=request)
        for node in peers()
    ]


def report_body(report: ProgressReport) -> dict:
    return {
        "id": str(report.pk),
        "issued_at": report.created_at.isoformat(),
        "content": report.content,
    }


def report_queue(*, actor, report: ProgressReport, request=None) -> list:
    from ctip.exchange.services import message_send

    body = report_body(report)
    return [
        message_send(actor=actor, to=node, msg_type=REPORT_TYPE, body=body, request=request)
        for node in peers()
    ]


# --- receiving ------------------------------------------------------------------------------


def _refuse(reason: str):
    from ctip.exchange.core import HandlerRefused

    return HandlerRefused(reason)


def handle_endorsement(message) -> None:
    """Record the other party's endorsement on this node's copy of the version (inside the
    exchange's receiving transaction; a refusal rolls it back and answers negatively)."""
    body, sender = message.body, message.sender
    if body["party"] != sender:
        raise _refuse("a node may only send its own party's endorsement")
    number = body["version"]
    version = PlanVersion.objects.select_for_update().filter(number=number).first()
    if version is None:
        raise _refuse(f"plan version {number} is not held on this node")
    if version.content_hash != body["content_hash"]:
        raise _refuse(
            f"content hash mismatch: version {number} endorsed by {sender} has content hash "
            f"{body['content_hash'][:16]}…, this node's version {number} has "
            f"{version.content_hash[:16]}…; the texts differ, so the version stays not agreed"
        )
    existing = Endorsement.objects.filter(version=version, party=sender).first()
    if existing is not None:
        # A repeated delivery, or the endorsement was already copied here by hand.
        log.info("endorsement %s of v%s already held", sender, number)
        return
    endorsed_on = parse_date(body["endorsed_on"])
    if endorsed_on is None:
        raise _refuse("endorsed_on is not a valid date")
    endorsement = Endorsement(
        version=version,
        party=sender,
        endorsed_by=body["endorsed_by"].strip(),
        endorsed_on=endorsed_on,
        meeting=body["meeting"].strip(),
        content_hash=version.content_hash,
        recorded_by=None,
        received_from=sender,
    )
    try:
        endorsement.full_clean()
    except ValidationError as exc:
        names = sorted(getattr(exc, "message_dict", {"endorsement": []}))
        raise _refuse(f"invalid endorsement: {', '.join(names)}") from None
    endorsement.save(force_insert=True)
    audit_record(
        actor=None,
        action=Action.CREATE,
        obj=endorsement,
        details={
            "from": sender,
            "version": number,
            "party": sender,
            "agreed": version.is_agreed,
        },
    )


def handle_report(message) -> None:
    """Keep the other node's progress report, read-only, under its id there."""
    body, sender = message.body, message.sender
    content = body["content"]
    if content["country"] != sender:
        raise _refuse("a node may only send its own country's progress report")
    pk = uuid.UUID(body["id"])
    existing = ProgressReport.objects.filter(pk=pk).first()
    if existing is not None:
        if existing.received_from != sender:
            raise _refuse("the report id names a report that is not the sender's")
        log.info("progress report %s from %s already held", pk, sender)
        return
    start, end = (parse_date(d) for d in content["period"])
    if start is None or end is None or end < start:
        raise _refuse("the report period is not a valid range")
    from ctip.monitoring import release

    try:
        release.check_months(start, end)
    except release.PeriodRefused:
        raise _refuse("the report period is not whole calendar months") from None
    number = content["version"]
    version = PlanVersion.objects.filter(number=number).first() if number else None
    report = ProgressReport(
        id=pk,
        period_start=start,
        period_end=end,
        country=sender,
        language=content["language"],
        version=version,
        content=content,
        created_by=None,
        created_at=_issued_at(body["issued_at"]),
        received_from=sender,
        received_at=timezone.now(),
    )
    try:
        report.full_clean()
    except ValidationError as exc:
        names = sorted(getattr(exc, "message_dict", {"report": []}))
        raise _refuse(f"invalid report: {', '.join(names)}") from None
    report.save(force_insert=True)
    audit_record(
        actor=None,
        action=Action.CREATE,
        obj=report,
        details={"from": sender, "period": content["period"], "language": content["language"]},
    )


def _issued_at(value: str):
    from django.utils.dateparse import parse_datetime

    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    return parsed or timezone.now()
