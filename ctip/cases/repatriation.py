"""Repatriation across the border as a message flow between the two nodes (issue 8).

Two sides: the *host* country, where the person was found and whose case reference is the
shared reference, and the *home* country, of the person's nationality. Each node keeps its
own case; the home node opens its case when the host's ``case_notification`` arrives, owned
by the agency of the focal person responsible for the place (routed from the directory).

Each step is one message type ``repatriation.<step>`` with a JSON Schema that is the
allow-list of what it may carry (DP-3); the sender checks the person's consent for the
step's purpose and data categories through ``consent_covers`` (DP-1) and the exchange
checks it again at outbox insert. Each step, sent or received, moves the case's SOP stage
on that node, lands on its timeline and sets whose turn it is and until when (deadlines
from the SOP configuration). A step out of order, a duplicate, a message for an unknown
case, a step of the wrong side, or anything after a withdrawal is refused with a reason
code and changes nothing. A withdrawal stops the flow on both sides: the other node is told
by a ``repatriation.consent_withdrawn`` message that carries no personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.accounts.models import Role, User
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.cases.models import (
    Case,
    ClosureReason,
    Consent,
    ConsentDecision,
    DataCategory,
    EventKind,
    HowGiven,
    Person,
    Repatriation,
    RepatriationSide,
    RepatriationStatus,
    RepatriationStep,
    Sex,
    Stage,
    StepDirection,
    Track,
)
from ctip.cases.sop import current_sop
from ctip.exchange.core import EnvelopeError, HandlerRefused

# --- Refusals of an incoming message (reason codes travel back in the signed receipt) -----


class RepatriationRefused(HandlerRefused):
    code = "repatriation_refused"


class OutOfOrder(RepatriationRefused):
    code = "out_of_order"


class DuplicateStep(RepatriationRefused):
    code = "duplicate_step"


class UnknownCase(RepatriationRefused):
    code = "unknown_case"


class WrongSide(RepatriationRefused):
    code = "wrong_side"


class FlowStopped(RepatriationRefused):
    code = "flow_stopped"


class NoFocalPerson(RepatriationRefused):
    code = "no_focal_person"


# --- The steps and their schemas -----------------------------------------------------------

REF = {"type": "string", "pattern": "^(KH|CN)-C-[0-9A-Z]{4,16}$"}
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
DATETIME = {"type": "string", "maxLength": 40}


def _s(n: int) -> dict:
    return {"type": "string", "maxLength": n}


OFFICER = {
    "type": "object",
    "properties": {"name": _s(200), "title": _s(200), "agency": _s(40)},
    "required": ["name"],
    "additionalProperties": False,
}
CATEGORIES = {"type": "array", "items": {"enum": DataCategory.values}, "maxItems": 8}
CONSENT_SUMMARY = {
    "type": "object",
    "properties": {
        "purpose": {"enum": ["nationality_verification", "repatriation", "family_tracing"]},
        "data_categories": CATEGORIES,
        "given_on": DATE,
        "expires_on": {"anyOf": [DATE, {"type": "null"}]},
        "how_given": {"enum": HowGiven.values},
        "language": _s(10),
        "interpreter_used": {"type": "boolean"},
    },
    "required": ["purpose", "data_categories", "given_on", "how_given", "language"],
    "additionalProperties": False,
}
SERVICES = [
    "shelter",
    "family_reunion",
    "medical",
    "psychosocial",
    "legal_aid",
    "vocational",
    "financial",
    "education",
]


@dataclass(frozen=True)
class Step:
    name: str
    by: str  # RepatriationSide: who sends it
    stage: str  # the SOP stage both cases are in after it ("" = unchanged)
    purpose: str  # the consent purpose it serves
    categories: tuple[str, ...]  # the data categories it carries (DP-3)
    fields: dict  # JSON Schema properties besides shared_ref
    required: tuple[str, ...] = ()
    label: str = ""

    @property
    def msg_type(self) -> str:
        return f"repatriation.{self.name}"

    @property
    def schema(self) -> dict:
        return {
            "type": "object",
            "properties": {"shared_ref": REF, **self.fields},
            "required": ["shared_ref", *self.required],
            "additionalProperties": False,
        }


NV, REP = "nationality_verification", "repatriation"
HOST, HOME = RepatriationSide.HOST, RepatriationSide.HOME

STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        Step(
            "case_notification",
            HOST,
            Stage.VERIFICATION,
            NV,
            ("identity",),
            {
                "nationality": {"enum": ["KH", "CN"]},
                "sex": {"enum": Sex.values},
                "birth_year": {"type": ["integer", "null"], "minimum": 1900, "maximum": 2100},
                "age_estimate": {"type": ["integer", "null"], "minimum": 0, "maximum": 120},
                "found_in": _s(12),
                "host_agency": _s(40),
                "consents": {"type": "array", "items": CONSENT_SUMMARY, "maxItems": 6},
            },
            ("nationality", "sex", "found_in", "host_agency", "consents"),
            _("Case notification"),
        ),
        Step(
            "verification_request",
            HOST,
            Stage.VERIFICATION,
            NV,
            ("identity", "origin", "documents"),
            {
                "name_km": _s(200),
                "name_zh": _s(200),
                "name_latin": _s(200),
                "aliases": _s(400),
                "birth_month": {"type": ["integer", "null"], "minimum": 1, "maximum": 12},
                "birth_day": {"type": ["integer", "null"], "minimum": 1, "maximum": 31},
                "document_type": _s(20),
                "document_number": _s(60),
                "place_of_origin": _s(300),
                "origin_code": _s(12),
            },
            (),
            _("Nationality verification request"),
        ),
        Step(
            "verification_result",
            HOME,
            Stage.DOCUMENTS,
            NV,
            ("identity",),
            {"confirmed": {"type": "boolean"}, "officer": OFFICER},
            ("confirmed", "officer"),
            _("Nationality verification result"),
        ),
        Step(
            "family_tracing_result",
            HOME,
            Stage.DOCUMENTS,
            REP,
            ("case_progress",),
            {
                "family_found": {"type": "boolean"},
                "safe_to_return": {"enum": ["yes", "no", "unknown"]},
                "officer": OFFICER,
            },
            ("family_found", "safe_to_return", "officer"),
            _("Family tracing result"),
        ),
        Step(
            "travel_document_request",
            HOST,
            Stage.DOCUMENTS,
            REP,
            ("identity", "documents"),
            {"document_kind": {"enum": ["emergency_travel_document", "passport", "certificate"]}},
            ("document_kind",),
            _("Travel document request"),
        ),
        Step(
            "travel_document_issued",
            HOME,
            Stage.TRAVEL,
            REP,
            ("documents",),
            {
                "document_kind": {"enum": ["emergency_travel_document", "passport", "certificate"]},
                "document_number": _s(60),
                "valid_until": DATE,
                "officer": OFFICER,
            },
            ("document_kind", "document_number", "valid_until", "officer"),
            _("Travel document issued"),
        ),
        Step(
            "plan_proposal",
            HOST,
            Stage.TRAVEL,
            REP,
            ("case_progress", "health"),
            {
                "travel_date": DATE,
                "route": _s(300),
                "border_point": _s(200),
                "escorts": {"type": "array", "items": OFFICER, "maxItems": 6},
                "medical_needs": _s(500),
            },
            ("travel_date", "route", "border_point"),
            _("Repatriation plan proposal"),
        ),
        Step(
            "plan_acceptance",
            HOME,
            Stage.TRAVEL,
            REP,
            ("case_progress",),
            {
                "travel_date": DATE,
                "border_point": _s(200),
                "reception_agency": _s(200),
                "officer": OFFICER,
            },
            ("travel_date", "border_point", "officer"),
            _("Repatriation plan acceptance"),
        ),
        Step(
            "handover_record",
            HOST,
            Stage.HANDED_OVER,
            REP,
            ("identity", "documents", "case_progress"),
            {
                "handed_over_at": DATETIME,
                "place": _s(200),
                "document_number": _s(60),
                "handing_officer": OFFICER,
            },
            ("handed_over_at", "place", "handing_officer"),
            _("Handover record"),
        ),
        Step(
            "handover_confirmation",
            HOME,
            Stage.HANDED_OVER,
            REP,
            ("case_progress",),
            {"received_at": DATETIME, "receiving_officer": OFFICER},
            ("received_at", "receiving_officer"),
            _("Handover confirmed by the receiving officer"),
        ),
        Step(
            "reception_summary",
            HOME,
            Stage.REINTEGRATION,
            REP,
            ("case_progress",),
            {
                "services": {"type": "array", "items": {"enum": SERVICES}, "maxItems": 8},
                "follow_up_months": {"type": "array", "items": {"enum": [3, 6, 12]}},
            },
            ("services",),
            _("Reception and reintegration plan summary"),
        ),
        Step(
            "follow_up_report",
            HOME,
            Stage.FOLLOW_UP,
            REP,
            ("case_progress",),
            {
                "month": {"enum": [3, 6, 12]},
                "status": {"enum": ["stable", "needs_support", "lost_contact"]},
            },
            ("month", "status"),
            _("Follow-up report"),
        ),
        Step(
            "case_closure",
            HOME,
            Stage.CLOSED,
            REP,
            ("case_progress",),
            {"reason": {"enum": ClosureReason.values}},
            ("reason",),
            _("Case closure"),
        ),
    )
}
LINEAR = [n for n in STEPS if n not in ("follow_up_report", "case_closure")]
FOLLOW_UPS = (3, 6, 12)
WITHDRAWN_TYPE = "repatriation.consent_withdrawn"
WITHDRAWN_SCHEMA = {
    "type": "object",
    "properties": {
        "shared_ref": REF,
        "purposes": {"type": "array", "items": {"enum": [NV, REP, "family_tracing"]}},
    },
    "required": ["shared_ref", "purposes"],
    "additionalProperties": False,
}


def allowed_next(done: list[str]) -> list[str]:
    """The steps that may come next after ``done``, in the order the SOP expects them."""
    if not done:
        return ["case_notification"]
    last = done[-1]
    if last == "case_closure":
        return []
    if last in ("reception_summary", "follow_up_report"):
        more = ["follow_up_report"] if done.count("follow_up_report") < len(FOLLOW_UPS) else []
        return [*more, "case_closure"]
    return [LINEAR[LINEAR.index(last) + 1]]


def side_country(rep: Repatriation, side: str) -> str:
    return settings.CTIP_NODE if side == rep.side else rep.peer


def _digest(body: dict) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


# --- Routing to the focal person (directory) ------------------------------------------------

# Chinese provinces covered by Cambodia's consulates (the rest: the embassy in Beijing).
# Placeholder districts for the two countries' missions to confirm.
CONSULAR_DISTRICTS = {
    "Shanghai": {"CN-310000", "CN-320000", "CN-330000", "CN-340000"},
    "Guangzhou": {"CN-440000", "CN-450000", "CN-350000", "CN-460000"},
}


def route_focal(*, host: str, found_in: str, responsibility: str = NV):
    """The focal person of this (home) country responsible for the place in the host country
    where the person is: the consulate whose district covers the province, else the
    embassy, else any current focal person posted there with the responsibility."""
    from ctip.directory.models import FocalPerson
    from ctip.directory.selectors import current_focal_persons

    candidates = [
        f
        for f in current_focal_persons(
            FocalPerson.objects.filter(agency__country=settings.CTIP_NODE, post_country=host)
        ).select_related("agency")
        if responsibility in (f.responsibilities or [])
    ]
    province = (found_in or "")[:5] + "0000" if found_in.startswith("CN-") else found_in[:5]
    for focal in candidates:
        if province in CONSULAR_DISTRICTS.get(focal.post_city, ()):
            return focal
    for focal in candidates:
        if focal.post_type == "embassy":
            return focal
    return candidates[0] if candidates else None


def focal_user(focal) -> User | None:
    """The user who acts for the focal person on this node: a consular focal user of the
    focal person's agency (the one with the same email first)."""
    users = User.objects.filter(
        agency=focal.agency, is_active=True, role_assignments__role=Role.CONSULAR_FOCAL
    ).order_by("pk")
    if focal.email:
        same = users.filter(email__iexact=focal.email).first()
        if same is not None:
            return same
    return users.first()


def _fallback_user() -> User | None:
    """Without a focal person in the directory: a consular focal user of an embassy."""
    return (
        User.objects.filter(
            is_active=True,
            role_assignments__role=Role.CONSULAR_FOCAL,
            agency__country=settings.CTIP_NODE,
        )
        .order_by("pk")
        .first()
    )


# --- Applying a step (sent or received) ---------------------------------------------------


def _set_turn(rep: Repatriation, now) -> None:
    nxt = allowed_next(rep.steps_done)
    if rep.status != RepatriationStatus.ACTIVE or not nxt:
        rep.awaited_step, rep.waiting_on, rep.due_at = "", "", None
        return
    rep.awaited_step = nxt[0]
    sop = current_sop()
    by, days = sop.repatriation.get(nxt[0], (STEPS[nxt[0]].by, 30))
    rep.waiting_on = side_country(rep, STEPS[nxt[0]].by)
    rep.due_at = now + dt.timedelta(days=days)


def _apply(
    *,
    rep: Repatriation,
    step: Step,
    body: dict,
    direction: str,
    msg_id: str,
    user,
    now,
    request=None,
) -> RepatriationStep:
    from ctip.cases.services import _enter_stage, _event

    case = Case.objects.select_for_update().get(pk=rep.case_id)
    record = RepatriationStep(
        repatriation=rep,
        data_key=case.data_key,
        step=step.name,
        direction=direction,
        msg_id=msg_id,
        body=json.dumps(body, ensure_ascii=False, sort_keys=True),
        body_sha256=_digest(body),
        at=now,
        by=user,
    )
    record.full_clean()
    record.save(force_insert=True)
    rep.steps_done = [*rep.steps_done, step.name]
    rep.last_step = step.name
    rep.since = now
    if step.name == "verification_result" and not body.get("confirmed"):
        rep.status, rep.stop_reason = RepatriationStatus.STOPPED, "not_confirmed"
    if step.name == "case_closure":
        rep.status = RepatriationStatus.COMPLETED
    _set_turn(rep, now)
    rep.full_clean()
    rep.save()
    _event(
        case,
        user,
        EventKind.REPATRIATION,
        at=now,
        step=step.name,
        direction=direction,
        shared_ref=rep.shared_ref,
        msg_id=msg_id,
    )
    if step.stage and step.stage != case.stage and not case.is_closed:
        if step.stage == Stage.CLOSED:
            case.closure_reason = body.get("reason") or ClosureReason.REINTEGRATED
        _enter_stage(user, case, step.stage, request, shared_ref=rep.shared_ref, step=step.name)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=record,
        fields=["body"],
        details={"step": step.name, "direction": direction, "shared_ref": rep.shared_ref},
        request=request,
    )
    return record


# --- Sending ---------------------------------------------------------------------------------


def _officer(user) -> dict:
    name = (user.get_full_name() or user.username)[:200]
    return {"name": name, "title": "", "agency": user.agency.code if user.agency_id else ""}


def build_body(step: Step, case: Case, rep: Repatriation | None, data: dict, user) -> dict:
    """The message body: only the fields of the step's allow-list, from the case and from
    what the user entered. Personal fields come from the person record."""
    shared = rep.shared_ref if rep else case.reference
    person = case.person
    if step.name == "case_notification":
        consents = [
            {
                "purpose": c.purpose,
                "data_categories": sorted(c.data_categories),
                "given_on": c.given_on.isoformat(),
                "expires_on": c.expires_on.isoformat() if c.expires_on else None,
                "how_given": c.how_given,
                "language": c.language,
                "interpreter_used": c.interpreter_used,
            }
            for c in case.consents.filter(
                decision=ConsentDecision.GIVEN,
                withdrawn_at__isnull=True,
                recipient_country=person.nationality,
                purpose__in=[NV, REP, "family_tracing"],
            )
        ]
        return {
            "shared_ref": shared,
            "nationality": person.nationality,
            "sex": person.sex,
            "birth_year": person.birth_year,
            "age_estimate": person.age_estimate,
            "found_in": (data.get("found_in") or "")[:12],
            "host_agency": case.owner_agency.code,
            "consents": consents,
        }
    if step.name == "verification_request":
        body = {
            "name_km": person.name_km or "",
            "name_zh": person.name_zh or "",
            "name_latin": person.name_latin or "",
            "aliases": person.aliases or "",
            "birth_month": person.birth_month,
            "birth_day": person.birth_day,
            "document_type": person.document_type or "",
            "document_number": person.document_number or "",
            "place_of_origin": person.place_of_origin or "",
            "origin_code": person.origin_code or "",
        }
        return {"shared_ref": shared, **body}
    body = {"shared_ref": shared}
    for key, spec in step.fields.items():
        if spec is OFFICER:
            body[key] = data.get(key) or _officer(user)
        elif key in data and data[key] not in (None, "", []):
            body[key] = data[key]
        elif spec is DATETIME:
            body[key] = timezone.now().isoformat(timespec="minutes")
    if step.name == "handover_record" and "document_number" not in body and rep is not None:
        issued = rep.steps.filter(step="travel_document_issued").first()
        if issued is not None:
            number = json.loads(issued.body).get("document_number")
            if number:
                body["document_number"] = number
    return body


def _may_reply(user, case: Case) -> bool:
    return case.assigned_to_id == user.pk or (
        Role.SUPERVISOR in user.roles and user.agency_id == case.owner_agency_id
    )


def step_send(*, user, case: Case, step: str, data: dict | None = None, request=None):
    """Send the next step of the flow for this case. Raises ``ValidationError`` (out of
    order, duplicate, wrong side, bad input), ``PermissionDenied`` (not the focal person in
    charge) or ``ConsentBlocked`` (recorded on the timeline) and changes nothing then."""
    from ctip.cases.services import ConsentBlocked, _blocked

    try:
        return _step_send(user=user, case=case, step=step, data=data or {}, request=request)
    except ConsentBlocked as blocked:
        _blocked(user, blocked, request)
        raise


@transaction.atomic
def _step_send(*, user, case: Case, step: str, data: dict, request):
    from ctip.cases.services import other_country, require_consent
    from ctip.exchange.errors import ExchangeError
    from ctip.exchange.services import message_send

    permissions.require(user, "case", permissions.CHANGE, request=request)
    spec = STEPS.get(step)
    if spec is None:
        raise ValidationError(_("Unknown repatriation step."))
    case = Case.objects.select_for_update().select_related("person", "owner_agency").get(pk=case.pk)
    if user.agency_id != case.owner_agency_id and not _may_reply(user, case):
        raise permissions.deny(user, "case", "repatriation", case.pk, request)
    rep = Repatriation.objects.select_for_update().filter(case=case).first()
    now = timezone.now()
    if step == "case_notification":
        if rep is not None:
            raise ValidationError(_("The other country was already notified of this case."))
        if case.track != Track.CROSS_BORDER or case.is_closed:
            raise ValidationError(_("Only an open cross-border case is repatriated."))
        if case.person.nationality != other_country():
            raise ValidationError(
                _("The person's nationality must be %(c)s to notify %(c)s.")
                % {"c": other_country()}
            )
        rep = Repatriation(
            case=case,
            shared_ref=case.reference,
            side=RepatriationSide.HOST,
            peer=other_country(),
            since=now,
        )
    else:
        if rep is None:
            raise ValidationError(_("Notify the other country of this case first."))
        if rep.status != RepatriationStatus.ACTIVE:
            raise ValidationError(
                _("The repatriation is stopped (%(why)s): nothing more is sent.")
                % {"why": rep.stop_reason or rep.status}
            )
    if spec.by != rep.side:
        raise ValidationError(_("This step is the other country's to send."))
    if step in rep.steps_done and step != "follow_up_report":
        raise ValidationError(_("This step was already sent or received."))
    expected = allowed_next(rep.steps_done)
    if step not in expected:
        raise ValidationError(
            _("Out of order: the flow now expects %(steps)s.")
            % {"steps": ", ".join(str(STEPS[s].label) for s in expected) or "-"}
        )
    if rep.side == RepatriationSide.HOME and not _may_reply(user, case):
        raise PermissionDenied(
            _("Only the focal person in charge of this case (%(who)s) or a supervisor replies.")
            % {"who": case.assigned_to.username if case.assigned_to else "-"}
        )
    if step == "follow_up_report":
        month = data.get("month")
        sent = [json.loads(s.body).get("month") for s in rep.steps.filter(step="follow_up_report")]
        if month in sent:
            raise ValidationError(_("The follow-up of this month was already reported."))
    check = require_consent(
        case=case,
        purpose=spec.purpose,
        country=rep.peer,
        categories=spec.categories,
        action=f"repatriation:{step}",
    )
    if rep._state.adding:
        rep.full_clean()
        rep.save(force_insert=True)
    body = build_body(spec, case, rep, data, user)
    try:
        msg = message_send(
            actor=user,
            to=rep.peer,
            msg_type=spec.msg_type,
            body=body,
            case_ref=case.reference,
            purpose=spec.purpose,
            legal_basis=check.basis,
            consent_ref=check.reference,
            request=request,
        )
    except ExchangeError as exc:
        raise ValidationError(str(exc)) from None
    except EnvelopeError as exc:  # the body does not pass the step's schema
        raise ValidationError(_("The message is incomplete: %(why)s") % {"why": exc}) from None
    return _apply(
        rep=rep,
        step=spec,
        body=body,
        direction=StepDirection.SENT,
        msg_id=str(msg.pk),
        user=user,
        now=now,
        request=request,
    )


@transaction.atomic
def withdrawal_notify(*, user, case: Case, purposes, request=None) -> None:
    """After a withdrawal: stop the flow here and tell the other node, without personal data.
    Called by ``consent_withdraw`` for a case in a repatriation."""
    from ctip.cases.services import _event
    from ctip.exchange.services import message_send

    rep = Repatriation.objects.select_for_update().filter(case=case).first()
    if rep is None or rep.status == RepatriationStatus.COMPLETED:
        return
    purposes = sorted({p for p in purposes if p in (NV, REP, "family_tracing")})
    if not purposes:
        return
    from ctip.exchange.errors import ExchangeError

    rep.status, rep.stop_reason = RepatriationStatus.STOPPED, "consent_withdrawn"
    _set_turn(rep, timezone.now())
    rep.save()
    told = True
    try:
        with transaction.atomic():
            message_send(
                actor=user,
                to=rep.peer,
                msg_type=WITHDRAWN_TYPE,
                body={"shared_ref": rep.shared_ref, "purposes": purposes},
                case_ref=case.reference,
                purpose="withdrawal",
                request=request,
            )
    except ExchangeError:  # no peer pinned: the flow stops here all the same
        told = False
    _event(
        case, user, EventKind.REPATRIATION, step="consent_withdrawn", direction="sent", told=told
    )


# --- Receiving ---------------------------------------------------------------------------------


def handle_step(message) -> None:
    """The handler of every ``repatriation.<step>`` type (inside the receiving transaction:
    raising refuses the message and rolls everything back)."""
    receive_step(message, timezone.now())


def receive_step(message, now) -> None:
    name = message.msg_type.split(".", 1)[1]
    spec = STEPS[name]
    body = message.body
    if name == "case_notification":
        if Repatriation.objects.filter(shared_ref=body["shared_ref"]).exists():
            raise DuplicateStep("this case was already notified")
        rep = _open_home_case(message, body, now)
    else:
        rep = (
            Repatriation.objects.select_for_update()
            .filter(shared_ref=body["shared_ref"], peer=message.sender)
            .first()
        )
        if rep is None:
            raise UnknownCase("no repatriation with this shared reference")
    if spec.by == rep.side:
        raise WrongSide(f"{name} is sent by the {spec.by} country")
    if rep.status != RepatriationStatus.ACTIVE:
        raise FlowStopped(f"the repatriation is {rep.status} ({rep.stop_reason})")
    if name in rep.steps_done and name != "follow_up_report":
        raise DuplicateStep(f"{name} was already received")
    if name not in allowed_next(rep.steps_done):
        raise OutOfOrder(f"{name} before {allowed_next(rep.steps_done)[0]}")
    if name == "follow_up_report":
        months = [json.loads(s.body).get("month") for s in rep.steps.filter(step=name)]
        if body.get("month") in months:
            raise DuplicateStep("this follow-up month was already reported")
    if name == "verification_request":
        _fill_person(rep.case.person, body)
    _apply(
        rep=rep,
        step=spec,
        body=body,
        direction=StepDirection.RECEIVED,
        msg_id=message.msg_id,
        user=None,
        now=now,
    )


def handle_withdrawal(message) -> None:
    """The other side recorded a withdrawal: stop here too, withdraw the mirrored consent
    and cancel what waits in this outbox under it (no personal data came with it)."""
    from ctip.cases.services import _cancel_queued_messages, _event

    body = message.body
    rep = (
        Repatriation.objects.select_for_update()
        .filter(shared_ref=body["shared_ref"], peer=message.sender)
        .first()
    )
    if rep is None:
        raise UnknownCase("no repatriation with this shared reference")
    now = timezone.now()
    mirrored = list(
        Consent.objects.filter(
            case=rep.case,
            recipient_country=rep.peer,
            purpose__in=body["purposes"],
            withdrawn_at__isnull=True,
        )
    )
    Consent.objects.filter(pk__in=[c.pk for c in mirrored]).update(withdrawn_at=now)
    # Replies still queued under the withdrawn consents never leave (DP-8), in this
    # transaction: the send-time consent check would stop them too, but later and one by one.
    cancelled = [len(_cancel_queued_messages(None, c, None).cancelled) for c in mirrored]
    if rep.status == RepatriationStatus.ACTIVE:
        rep.status, rep.stop_reason = RepatriationStatus.STOPPED, "consent_withdrawn"
        _set_turn(rep, now)
        rep.save()
    _event(
        rep.case,
        None,
        EventKind.CONSENT_WITHDRAWN,
        at=now,
        shared_ref=rep.shared_ref,
        direction="received",
        purposes=body["purposes"],
        messages_cancelled=sum(cancelled),
    )
    audit_record(
        actor=None,
        action=Action.UPDATE,
        obj=rep,
        fields=["status"],
        details={"stop_reason": "consent_withdrawn", "msg_id": message.msg_id},
    )


def _open_home_case(message, body: dict, now) -> Repatriation:
    """The home node's own case for a person notified by the host: owned by the agency of
    the focal person responsible for the place, assigned to its consular focal user."""
    from ctip.cases.services import _case_reference, _deadline, _event

    if body["nationality"] != settings.CTIP_NODE:
        raise WrongSide("the person is not a national of this country")
    focal = route_focal(host=message.sender, found_in=body.get("found_in", ""))
    user = focal_user(focal) if focal is not None else _fallback_user()
    if user is None or user.agency_id is None:
        raise NoFocalPerson("no focal person or consular user is responsible on this node")
    person = Person(
        reference=f"{settings.CTIP_NODE}-P-{body['shared_ref'][-8:]}",
        owner_agency=user.agency,
        created_by=user,
        sex=body["sex"],
        birth_year=body.get("birth_year"),
        age_estimate=body.get("age_estimate"),
        nationality=body["nationality"],
    )
    person.full_clean()
    person.save(force_insert=True)
    case = Case(
        reference=_case_reference(),
        owner_agency=user.agency,
        person=person,
        track=Track.CROSS_BORDER,
        stage=Stage.VERIFICATION,
        stage_entered_at=now,
        stage_due_at=_deadline(Stage.VERIFICATION, now),
        sop_version=current_sop().version,
        assigned_to=user,
        opened_at=now,
        opened_by=user,
    )
    case.full_clean()
    case.save(force_insert=True)
    _event(
        case,
        None,
        EventKind.OPENED,
        at=now,
        track=case.track,
        stage=case.stage,
        shared_ref=body["shared_ref"],
        peer=message.sender,
    )
    for summary in body.get("consents", []):
        consent = Consent(
            case=case,
            data_key=case.data_key,
            decision=ConsentDecision.GIVEN,
            purpose=summary["purpose"],
            recipient_country=message.sender,
            data_categories=sorted(set(summary["data_categories"])),
            given_on=dt.date.fromisoformat(summary["given_on"]),
            expires_on=dt.date.fromisoformat(summary["expires_on"])
            if summary.get("expires_on")
            else None,
            how_given=summary["how_given"],
            language=summary["language"][:10],
            interpreter_used=bool(summary.get("interpreter_used")),
            notes=f"Consent recorded by {message.sender} for case {body['shared_ref']}",
            recorded_by=user,
        )
        consent.full_clean(exclude=["interpreter_name"])
        consent.save(force_insert=True)
        _event(
            case,
            None,
            EventKind.CONSENT,
            at=now,
            consent=str(consent.pk),
            purpose=consent.purpose,
            country=message.sender,
            mirrored=True,
        )
    rep = Repatriation(
        case=case,
        shared_ref=body["shared_ref"],
        side=RepatriationSide.HOME,
        peer=message.sender,
        since=now,
        focal_person=focal,
    )
    rep.full_clean()
    rep.save(force_insert=True)
    audit_record(
        actor=None,
        action=Action.CREATE,
        obj=case,
        details={
            "shared_ref": body["shared_ref"],
            "from": message.sender,
            "msg_id": message.msg_id,
        },
    )
    return rep


def _fill_person(person: Person, body: dict) -> None:
    from ctip.cases.places import province_of
    from ctip.cases.services import person_search_tokens

    for key in (
        "name_km",
        "name_zh",
        "name_latin",
        "aliases",
        "document_number",
        "place_of_origin",
        "origin_code",
    ):
        setattr(person, key, body.get(key) or None)
    person.birth_month = body.get("birth_month")
    person.birth_day = body.get("birth_day") if person.birth_month else None
    if person.birth_month and not person.birth_year:
        person.birth_month = person.birth_day = None
    person.document_type = body.get("document_type") or ""
    try:
        person.origin_province = province_of(person.origin_code) if person.origin_code else ""
    except (KeyError, ValueError):
        person.origin_province = ""
    person.search_tokens = person_search_tokens(person)
    try:
        person.full_clean()
    except ValidationError as exc:
        raise RepatriationRefused(
            f"invalid identity fields: {', '.join(sorted(exc.message_dict))}"
        ) from None
    person.save()
    audit_record(
        actor=None,
        action=Action.UPDATE,
        obj=person,
        fields=[f for f in Person.PII_FIELDS if getattr(person, f)],
        details={"from": "verification_request"},
    )


def register_types() -> None:
    from ctip.exchange.registry import register_message_type

    for spec in STEPS.values():
        register_message_type(spec.msg_type, 1, spec.schema, handle_step, personal_data=True)
    register_message_type(
        WITHDRAWN_TYPE, 1, WITHDRAWN_SCHEMA, handle_withdrawal, personal_data=False
    )


# --- Reading ---------------------------------------------------------------------------------


def step_bodies(rep: Repatriation) -> list[tuple[RepatriationStep, dict]]:
    return [(s, json.loads(s.body or "{}")) for s in rep.steps.select_related("by")]


def due_repatriation_steps(now) -> list:
    """For the reminders: repatriations waiting on this node, due within a day or overdue."""
    from ctip.cases.services import DUE_SOON, Due

    return [
        Due(case=r.case, since=r.since, due_at=r.due_at, step=r.awaited_step)
        for r in Repatriation.objects.filter(
            status=RepatriationStatus.ACTIVE,
            waiting_on=settings.CTIP_NODE,
            due_at__lte=now + DUE_SOON,
            case__closed_at__isnull=True,
        ).select_related("case", "case__assigned_to", "case__owner_agency")
    ]


# --- Forms: what a user enters for a step (the rest comes from the case) --------------------

FIELD_LABELS = {
    "found_in": _("Where the person is (province code)"),
    "confirmed": _("Nationality confirmed"),
    "family_found": _("Family found"),
    "safe_to_return": _("Safe to return"),
    "document_kind": _("Travel document"),
    "document_number": _("Document number"),
    "valid_until": _("Valid until"),
    "travel_date": _("Travel date"),
    "route": _("Route"),
    "border_point": _("Border point or airport"),
    "escorts": _("Escorts (names, comma-separated)"),
    "medical_needs": _("Medical needs"),
    "reception_agency": _("Receiving agency"),
    "place": _("Place of handover"),
    "services": _("Reintegration services"),
    "follow_up_months": _("Follow-ups (months)"),
    "month": _("Follow-up month"),
    "status": _("Situation"),
    "reason": _("Reason for closure"),
    "handed_over_at": _("Handed over at"),
    "received_at": _("Received at"),
    "handing_officer": _("Handing officer"),
    "receiving_officer": _("Receiving officer"),
    "officer": _("Officer"),
    "name_km": _("Name in Khmer script"),
    "name_zh": _("Name in Chinese characters"),
    "name_latin": _("Name in Latin letters"),
}
AUTOMATIC = {"case_notification", "verification_request"}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # text | date | bool | select | multi
    choices: tuple = ()
    required: bool = False


def form_fields(spec: Step) -> list[Field]:
    if spec.name == "verification_request":
        return []
    if spec.name == "case_notification":
        return [Field("found_in", str(FIELD_LABELS["found_in"]), "text")]
    found = []
    for key, schema in spec.fields.items():
        if schema is OFFICER or schema is DATETIME:
            continue
        label = str(FIELD_LABELS.get(key, key))
        required = key in spec.required
        if key == "escorts":
            found.append(Field(key, label, "text"))
        elif schema is DATE:
            found.append(Field(key, label, "date", required=required))
        elif schema.get("type") == "boolean":
            found.append(Field(key, label, "bool", required=required))
        elif "enum" in schema:
            found.append(Field(key, label, "select", tuple(schema["enum"]), required))
        elif schema.get("type") == "array":
            found.append(Field(key, label, "multi", tuple(schema["items"]["enum"]), required))
        else:
            found.append(Field(key, label, "text", required=required))
    return found


def parse_form(spec: Step, post) -> dict:
    """What the user entered, typed for the step's schema (the schema checks the rest)."""
    data: dict = {}
    for f in form_fields(spec):
        if f.kind == "multi":
            values = post.getlist(f.name)
            ints = all(isinstance(c, int) for c in f.choices)
            data[f.name] = [int(v) if ints and v.isdigit() else v for v in values]
        elif f.kind == "bool":
            data[f.name] = post.get(f.name) == "yes"
        elif f.name == "escorts":
            names = [n.strip() for n in (post.get(f.name) or "").split(",") if n.strip()]
            data[f.name] = [{"name": n[:200]} for n in names[:6]]
        else:
            value = (post.get(f.name) or "").strip()
            if f.kind == "select" and all(isinstance(c, int) for c in f.choices):
                value = int(value) if value.isdigit() else value
            data[f.name] = value
    return data


def sendable_steps(case: Case, rep: Repatriation | None) -> list[Step]:
    """The steps this node may send now for the case."""
    from ctip.cases.services import other_country

    if rep is None:
        if (
            case.track == Track.CROSS_BORDER
            and not case.is_closed
            and case.person.nationality == other_country()
        ):
            return [STEPS["case_notification"]]
        return []
    if rep.status != RepatriationStatus.ACTIVE:
        return []
    return [STEPS[s] for s in allowed_next(rep.steps_done) if STEPS[s].by == rep.side]
