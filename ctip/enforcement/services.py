"""Writes of the enforcement app. Each checks the acting user's permission, validates, saves
and writes its audit row in the same transaction; what goes to the other node is queued in
the exchange outbox in that same transaction. Audit details never hold names or text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.enforcement import sync
from ctip.enforcement.models import (
    RESOURCE,
    ActionItem,
    Decision,
    Direction,
    HearingMode,
    InfoRequest,
    LeCase,
    LeCaseStatus,
    LegalBasis,
    Meeting,
    MeetingStatus,
    Offence,
    Operation,
    OperationKind,
    Outcome,
    Participant,
    ParticipantRole,
    ProtectiveMeasure,
    RequestEvent,
    RequestStatus,
    SopStatus,
    SopVersion,
    Suspect,
    TaskforceMember,
    Testimony,
    TestimonyStatus,
    VictimLink,
)

CONSENT_PURPOSE = "case_information"


def _require(user, action: str, request=None) -> None:
    permissions.require(user, RESOURCE, action, request=request)


def _deny(user, obj, request=None):
    return permissions.deny(user, RESOURCE, permissions.CHANGE, obj.pk, request)


def _require_case(user, le_case: LeCase, request=None) -> None:
    """Only police of the case's agency (or with a grant) change it."""
    _require(user, permissions.CHANGE, request)
    if not permissions.scope(user, RESOURCE, LeCase.objects.filter(pk=le_case.pk)).exists():
        raise _deny(user, le_case, request)


def _local_member(user) -> TaskforceMember | None:
    return TaskforceMember.objects.filter(
        user=user, country=settings.CTIP_NODE, active=True
    ).first()


def _send(*, actor, to: str, msg_type: str, body: dict, request=None, **kwargs):
    from ctip.exchange.errors import NoSuchPeer
    from ctip.exchange.services import message_send

    try:
        return message_send(
            actor=actor, to=to, msg_type=msg_type, body=body, request=request, **kwargs
        )
    except NoSuchPeer:
        raise ValidationError(
            _("The other country's node is not connected to this one: nothing was sent.")
        ) from None


# --- Taskforce ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberInput:
    focal_person: object
    taskforce_role: str
    since: dt.date
    user: object = None
    active: bool = True


@transaction.atomic
def member_save(
    *, user, data: MemberInput, member: TaskforceMember | None = None, request=None
) -> TaskforceMember:
    """Add or change a member of this country's taskforce (sent to the other node)."""
    _require(user, permissions.CHANGE, request)
    here = settings.CTIP_NODE
    if member is not None and not member.is_local:
        raise ValidationError(_("The other country's members are changed there."))
    focal = data.focal_person
    if focal is None or focal.country != here:
        raise ValidationError(
            {"focal_person": _("Choose a focal person of this country from the directory.")}
        )
    if data.user is not None and (
        getattr(data.user, "country", None) != here
        or not data.user.is_active
        or "police_focal" not in data.user.roles
    ):
        raise ValidationError({"user": _("The user account must be a police focal officer here.")})
    created = member is None
    member = member or TaskforceMember(country=here)
    if not created:
        member = TaskforceMember.objects.select_for_update().get(pk=member.pk)
        member.version += 1
    member.focal_person = focal
    member.taskforce_role = data.taskforce_role
    member.since = data.since
    member.user = data.user
    member.active = data.active
    member.updated_at = timezone.now()
    member.full_clean()
    member.save()
    audit_record(
        actor=user,
        action=Action.CREATE if created else Action.UPDATE,
        obj=member,
        details={"role": member.taskforce_role, "active": member.active},
        request=request,
    )
    sync.send_to_peers(
        actor=user, msg_type=sync.MEMBER_TYPE, body=sync.member_body(member), request=request
    )
    return member


# --- SOP ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SopInput:
    version: str
    title_en: str
    title_km: str = ""
    title_zh_hans: str = ""
    body_en: str = ""
    body_km: str = ""
    body_zh_hans: str = ""


SOP_FIELDS = (
    "version",
    "title_en",
    "title_km",
    "title_zh_hans",
    "body_en",
    "body_km",
    "body_zh_hans",
)


@transaction.atomic
def sop_save(*, user, data: SopInput, sop: SopVersion | None = None, request=None) -> SopVersion:
    """Draft a version, or change one that is not finalised. A change to an exchanged version
    makes it a draft again (it must be exchanged again before it is finalised)."""
    _require(user, permissions.CHANGE, request)
    created = sop is None
    if sop is not None:
        sop = SopVersion.objects.select_for_update().get(pk=sop.pk)
        if not sop.is_local:
            raise ValidationError(_("The other country's SOP versions are changed there."))
        if sop.status == SopStatus.FINALISED:
            raise ValidationError(
                _("A finalised SOP version is frozen: draft a new version to change it.")
            )
        sop.revision += 1
        sop.status = SopStatus.DRAFTED
    sop = sop or SopVersion(origin=settings.CTIP_NODE)
    for name in SOP_FIELDS:
        setattr(sop, name, getattr(data, name).strip())
    if not sop.body_en:
        raise ValidationError({"body_en": _("Write the SOP's text in English at least.")})
    sop.full_clean()
    sop.save()
    audit_record(
        actor=user,
        action=Action.CREATE if created else Action.UPDATE,
        obj=sop,
        details={"version": sop.version, "revision": sop.revision},
        request=request,
    )
    return sop


@transaction.atomic
def sop_exchange(*, user, sop: SopVersion, request=None) -> SopVersion:
    """Send a drafted version to the other country."""
    _require(user, permissions.CHANGE, request)
    sop = SopVersion.objects.select_for_update().get(pk=sop.pk)
    if not sop.is_local or sop.status != SopStatus.DRAFTED:
        raise ValidationError(_("Only a draft of this country can be sent for exchange."))
    if not sync.peers():
        raise ValidationError(
            _("The other country's node is not connected to this one: nothing was sent.")
        )
    sop.status = SopStatus.EXCHANGED
    sop.exchanged_at = timezone.now()
    sop.revision += 1
    sop.full_clean()
    sop.save()
    audit_record(
        actor=user, action=Action.UPDATE, obj=sop, details={"status": sop.status}, request=request
    )
    sync.send_to_peers(actor=user, msg_type=sync.SOP_TYPE, body=sync.sop_body(sop), request=request)
    return sop


@transaction.atomic
def sop_finalise(
    *, user, sop: SopVersion, meeting: Meeting, on: dt.date | None = None, request=None
) -> SopVersion:
    """Record that the joint taskforce finalised an exchanged version at a meeting held
    with both countries present."""
    _require(user, permissions.CHANGE, request)
    sop = SopVersion.objects.select_for_update().get(pk=sop.pk)
    if not sop.is_local:
        raise ValidationError(_("The other country's SOP versions are finalised there."))
    if sop.status != SopStatus.EXCHANGED:
        raise ValidationError(_("Only a version exchanged with the other country is finalised."))
    meeting = Meeting.objects.get(pk=meeting.pk)
    countries = set(meeting.participants.values_list("country", flat=True))
    if meeting.status != MeetingStatus.HELD or countries != {"KH", "CN"}:
        raise ValidationError(
            {"meeting": _("Choose a meeting that was held, with both countries taking part.")}
        )
    sop.status = SopStatus.FINALISED
    sop.finalised_on = on or meeting.ends_on
    sop.finalised_at_meeting = meeting
    sop.revision += 1
    sop.full_clean()
    sop.save()
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=sop,
        details={"status": sop.status, "meeting": str(meeting.pk)},
        request=request,
    )
    sync.send_to_peers(actor=user, msg_type=sync.SOP_TYPE, body=sync.sop_body(sop), request=request)
    return sop


# --- Law-enforcement cases ----------------------------------------------------------------


def _reference() -> str:
    year = timezone.localdate().year
    prefix = f"LE-{settings.CTIP_NODE}-{year}-"
    last = (
        LeCase.objects.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def _offences(codes) -> list[str]:
    chosen = [c for c in Offence.values if c in set(codes)]
    if not chosen or set(codes) - set(Offence.values):
        raise ValidationError({"offences": _("Choose one or more offences from the list.")})
    return chosen


@dataclass(frozen=True)
class LeCaseInput:
    offences: tuple[str, ...]
    summary: str = ""
    locations: str = ""
    status: str = LeCaseStatus.OPEN


@transaction.atomic
def le_case_open(*, user, data: LeCaseInput, request=None) -> LeCase:
    _require(user, permissions.CREATE, request)
    if not user.agency_id:
        raise ValidationError(_("Only a user of an agency opens law-enforcement cases."))
    le_case = LeCase(
        reference=_reference(),
        owner_agency_id=user.agency_id,
        offences=_offences(data.offences),
        status=data.status,
        summary=data.summary.strip(),
        locations=data.locations.strip(),
        opened_by=user,
    )
    le_case.full_clean()
    le_case.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=le_case,
        fields=list(LeCase.PII_FIELDS),
        details={"reference": le_case.reference, "offences": le_case.offences},
        request=request,
    )
    return le_case


@transaction.atomic
def le_case_update(*, user, le_case: LeCase, data: LeCaseInput, request=None) -> LeCase:
    _require_case(user, le_case, request)
    le_case = LeCase.objects.select_for_update().get(pk=le_case.pk)
    le_case.offences = _offences(data.offences)
    le_case.status = data.status
    le_case.summary = data.summary.strip()
    le_case.locations = data.locations.strip()
    le_case.updated_at = timezone.now()
    le_case.full_clean()
    le_case.save()
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=le_case,
        fields=["offences", "status", *LeCase.PII_FIELDS],
        details={"status": le_case.status},
        request=request,
    )
    return le_case


@dataclass(frozen=True)
class SuspectInput:
    name: str
    role: str
    aliases: str = ""
    nationality: str = ""
    birth_year: int | None = None
    status: str = "identified"
    notes: str = ""


@transaction.atomic
def suspect_add(*, user, le_case: LeCase, data: SuspectInput, request=None) -> Suspect:
    _require_case(user, le_case, request)
    if not data.name.strip():
        raise ValidationError({"name": _("Give the suspect's name (or a description).")})
    suspect = Suspect(
        le_case=le_case,
        data_key=le_case.data_key,
        name=data.name.strip(),
        aliases=data.aliases.strip(),
        nationality=data.nationality.strip().upper(),
        birth_year=data.birth_year,
        role=data.role,
        status=data.status,
        notes=data.notes.strip(),
    )
    suspect.full_clean()
    suspect.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=suspect,
        fields=list(Suspect.PII_FIELDS),
        details={"case": str(le_case.pk), "role": suspect.role},
        request=request,
    )
    return suspect


def visible_victim_case(user, reference: str, request=None):
    """The victim case with this reference if the cases app's rules let the user open it
    (sealed cases only with a grant), else None. Missing and forbidden are alike."""
    from ctip.cases.models import Case

    reference = (reference or "").strip().upper()
    if not reference:
        return None
    case = Case.objects.filter(reference=reference).values_list("pk", flat=True).first()
    if case is None:
        return None
    try:
        return permissions.access(user, "case", Case.objects.all(), case, request=request)
    except permissions.NotFound:
        return None


@transaction.atomic
def victim_link_add(
    *, user, le_case: LeCase, role: str, case_reference: str = "", request=None
) -> VictimLink:
    """A victim or witness under a pseudonymous label, linked to a victim case by its
    reference only if the user may open that case (so a sealed case cannot be linked)."""
    _require_case(user, le_case, request)
    reference = case_reference.strip().upper()
    if reference and visible_victim_case(user, reference, request) is None:
        raise ValidationError(
            {"case_reference": _("No victim case with this reference you may open.")}
        )
    prefix = "W" if role == "witness" else "V"
    count = le_case.victims.filter(label__startswith=prefix).count()
    link = VictimLink(
        le_case=le_case,
        label=f"{prefix}{count + 1}",
        role=role,
        case_reference=reference,
        created_by=user,
    )
    link.full_clean()
    link.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=link,
        details={"case": str(le_case.pk), "linked": bool(reference)},
        request=request,
    )
    return link


@dataclass(frozen=True)
class OperationInput:
    kind: str
    date: dt.date
    country: str
    place: str = ""
    persons_rescued: int = 0
    arrests: int = 0
    notes: str = ""


@transaction.atomic
def operation_add(*, user, le_case: LeCase, data: OperationInput, request=None) -> Operation:
    _require_case(user, le_case, request)
    if data.kind not in OperationKind.values:
        raise ValidationError({"kind": _("Choose a kind of operation.")})
    if data.date > timezone.localdate():
        raise ValidationError({"date": _("An operation is recorded once it took place.")})
    operation = Operation(
        le_case=le_case,
        data_key=le_case.data_key,
        kind=data.kind,
        date=data.date,
        country=data.country,
        place=data.place.strip(),
        persons_rescued=data.persons_rescued,
        arrests=data.arrests,
        notes=data.notes.strip(),
    )
    operation.full_clean()
    operation.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=operation,
        fields=list(Operation.PII_FIELDS),
        details={"case": str(le_case.pk), "kind": operation.kind},
        request=request,
    )
    return operation


# --- Case-information requests ------------------------------------------------------------


@dataclass(frozen=True)
class RequestInput:
    counterpart: object  # a TaskforceMember of the other country (or its id)
    asked: str
    legal_basis: str
    deadline: dt.date
    urgency: str = "routine"
    legal_basis_detail: str = ""
    victim_case_reference: str = ""


def _counterpart(value) -> TaskforceMember:
    """An active taskforce member of the other country, or the clear refusal."""
    here = settings.CTIP_NODE
    pk = getattr(value, "pk", value)
    member = None
    try:
        member = (
            TaskforceMember.objects.select_related("focal_person")
            .filter(pk=pk, active=True)
            .exclude(country=here)
            .first()
        )
    except (ValidationError, ValueError, TypeError):
        member = None
    if member is None:
        raise ValidationError(
            {
                "counterpart": _(
                    "Unknown counterpart: choose an active taskforce member of the other country."
                )
            }
        )
    return member


@transaction.atomic
def request_send(*, user, le_case: LeCase, data: RequestInput, request=None) -> InfoRequest:
    """Send a case-information request to a counterpart of the other country."""
    _require_case(user, le_case, request)
    errors: dict[str, list] = {}
    if data.legal_basis not in LegalBasis.values:
        errors["legal_basis"] = [
            _("A request needs its legal basis: choose the agreement or law it rests on.")
        ]
    elif data.legal_basis == LegalBasis.OTHER and not data.legal_basis_detail.strip():
        errors["legal_basis_detail"] = [_("Say which legal basis the request rests on.")]
    if not data.asked.strip():
        errors["asked"] = [_("Say what information is asked for.")]
    if data.deadline is None or data.deadline < timezone.localdate():
        errors["deadline"] = [_("The deadline cannot be in the past.")]
    try:
        counterpart = _counterpart(data.counterpart)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        counterpart = None
    if errors:
        raise ValidationError(errors)
    reference = data.victim_case_reference.strip().upper()
    send_kwargs: dict = {"legal_basis": data.legal_basis}
    if reference:
        from ctip.exchange.registry import consent_allows

        if visible_victim_case(user, reference, request) is None:
            raise ValidationError(
                {"victim_case_reference": _("No victim case with this reference you may open.")}
            )
        if not consent_allows(reference, counterpart.country, CONSENT_PURPOSE):
            raise ValidationError(
                {
                    "victim_case_reference": _(
                        "The victim has not consented to case information going to that "
                        "country: the request was not sent."
                    )
                }
            )
        send_kwargs.update(case_ref=reference, purpose=CONSENT_PURPOSE)
    now = timezone.now()
    req = InfoRequest(
        direction=Direction.OUTGOING,
        owner_agency_id=le_case.owner_agency_id,
        peer_country=counterpart.country,
        le_case=le_case,
        counterpart=counterpart,
        requester=_local_member(user),
        sender_reference=le_case.reference,
        victim_case_reference=reference,
        asked=data.asked.strip(),
        legal_basis=data.legal_basis,
        legal_basis_detail=data.legal_basis_detail.strip(),
        urgency=data.urgency,
        deadline=data.deadline,
        status=RequestStatus.SENT,
        sent_at=now,
    )
    req.full_clean()
    req.save(force_insert=True)
    msg = _send(
        actor=user,
        to=counterpart.country,
        msg_type=sync.REQUEST_TYPE,
        body=sync.request_body(req),
        request=request,
        **send_kwargs,
    )
    req.request_msg_id = msg.pk
    req.save(update_fields=["request_msg_id"])
    RequestEvent.objects.create(
        request=req, kind=RequestEvent.Kind.SENT, at=now, actor=user, msg_id=msg.pk
    )
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=req,
        fields=list(InfoRequest.PII_FIELDS[:1]),
        details={
            "direction": "outgoing",
            "to": counterpart.country,
            "legal_basis": req.legal_basis,
            "case": str(le_case.pk),
        },
        request=request,
    )
    return req


@transaction.atomic
def request_answer(
    *, user, info_request: InfoRequest, answer: str, outcome: str, request=None
) -> InfoRequest:
    """Answer a request received from the other country. A request this node did not
    receive (one it sent, or one it never had) cannot be answered."""
    _require(user, permissions.CHANGE, request)
    req = InfoRequest.objects.select_for_update().get(pk=info_request.pk)
    if req.direction != Direction.INCOMING or req.request_msg_id is None:
        raise ValidationError(
            _(
                "This request was not received from the other country: only a received "
                "request can be answered."
            )
        )
    if not permissions.scope(user, RESOURCE, InfoRequest.objects.filter(pk=req.pk)).exists():
        raise _deny(user, req, request)
    if req.status != RequestStatus.RECEIVED:
        raise ValidationError(_("This request was already answered."))
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose the outcome of the answer.")})
    if outcome != Outcome.DECLINED and not answer.strip():
        raise ValidationError({"answer": _("Write the answer.")})
    now = timezone.now()
    req.answer = answer.strip()
    req.outcome = outcome
    req.answered_at = now
    req.status = RequestStatus.ANSWERED
    req.full_clean()
    req.save()
    msg = _send(
        actor=user,
        to=req.peer_country,
        msg_type=sync.ANSWER_TYPE,
        body=sync.answer_body(req),
        in_reply_to=str(req.request_msg_id),
        legal_basis=req.legal_basis,
        request=request,
    )
    req.answer_msg_id = msg.pk
    req.save(update_fields=["answer_msg_id"])
    RequestEvent.objects.create(
        request=req, kind=RequestEvent.Kind.ANSWERED, at=now, actor=user, msg_id=msg.pk
    )
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=req,
        fields=["answer", "outcome"],
        details={"status": req.status, "outcome": outcome, "to": req.peer_country},
        request=request,
    )
    return req


# --- Meetings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingInput:
    title: str
    host_country: str
    place: str
    starts_on: dt.date
    ends_on: dt.date
    second_language: str
    agenda: str = ""
    le_cases: tuple = ()
    case_references: tuple[str, ...] = ()


def _require_meeting(user, meeting: Meeting, request=None) -> Meeting:
    _require(user, permissions.CHANGE, request)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not meeting.is_local:
        raise ValidationError(_("This meeting is recorded by the other country: change it there."))
    return meeting


def _meeting_changed(*, user, meeting: Meeting, fields, request=None) -> None:
    """Bump the version, audit, and send the whole record to the other node."""
    meeting.version += 1
    meeting.save(update_fields=["version"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=meeting,
        fields=list(fields),
        details={"version": meeting.version, "status": meeting.status},
        request=request,
    )
    sync.send_to_peers(
        actor=user, msg_type=sync.MEETING_TYPE, body=sync.meeting_body(meeting), request=request
    )


def _meeting_cases(user, le_cases) -> list[LeCase]:
    ids = [getattr(c, "pk", c) for c in le_cases]
    visible = list(permissions.scope(user, RESOURCE, LeCase.objects.filter(pk__in=ids)))
    if len(visible) != len(set(ids)):
        raise ValidationError({"le_cases": _("Choose cases of your agency.")})
    return visible


@transaction.atomic
def meeting_schedule(*, user, data: MeetingInput, request=None) -> Meeting:
    _require(user, permissions.CREATE, request)
    cases = _meeting_cases(user, data.le_cases)
    references = [c.reference for c in cases] + [
        r.strip().upper() for r in data.case_references if r.strip()
    ]
    meeting = Meeting(
        origin=settings.CTIP_NODE,
        title=data.title.strip(),
        host_country=data.host_country,
        place=data.place.strip(),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        second_language=data.second_language,
        agenda=data.agenda.strip(),
        case_references=list(dict.fromkeys(references)),
        created_by=user,
    )
    meeting.full_clean()
    meeting.save(force_insert=True)
    meeting.le_cases.set(cases)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=meeting,
        details={"host": meeting.host_country, "cases": len(cases)},
        request=request,
    )
    sync.send_to_peers(
        actor=user, msg_type=sync.MEETING_TYPE, body=sync.meeting_body(meeting), request=request
    )
    return meeting


@dataclass(frozen=True)
class ParticipantInput:
    country: str
    member: object = None
    name: str = ""
    organisation: str = ""
    role: str = ParticipantRole.MEMBER


@transaction.atomic
def participant_add(*, user, meeting: Meeting, data: ParticipantInput, request=None) -> Participant:
    meeting = _require_meeting(user, meeting, request)
    member = None
    if data.member is not None:
        member = TaskforceMember.objects.filter(pk=getattr(data.member, "pk", data.member)).first()
        if member is None:
            raise ValidationError({"member": _("Unknown taskforce member.")})
        if meeting.participants.filter(member=member).exists():
            raise ValidationError({"member": _("This member already takes part.")})
    participant = Participant(
        meeting=meeting,
        member=member,
        name=data.name.strip(),
        organisation=data.organisation.strip(),
        country=member.country if member else data.country,
        role=data.role,
    )
    participant.full_clean()
    participant.save(force_insert=True)
    _meeting_changed(user=user, meeting=meeting, fields=["participants"], request=request)
    return participant


@transaction.atomic
def meeting_record_minutes(
    *,
    user,
    meeting: Meeting,
    minutes_en: str,
    minutes_second: str,
    decisions: tuple[str, ...] = (),
    request=None,
) -> Meeting:
    """Record the minutes (in English and the second language) and the decisions of a
    meeting; the meeting is then held."""
    meeting = _require_meeting(user, meeting, request)
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError(_("A cancelled meeting has no minutes."))
    if meeting.starts_on > timezone.localdate():
        raise ValidationError(_("Minutes are recorded once the meeting has started."))
    errors = {}
    if not minutes_en.strip():
        errors["minutes_en"] = [_("Write the minutes in English.")]
    if not minutes_second.strip():
        errors["minutes_second"] = [_("Write the minutes in the second language too.")]
    if not meeting.participants.exists():
        errors["participants"] = [_("Record who took part first.")]
    if errors:
        raise ValidationError(errors)
    meeting.minutes_en = minutes_en.strip()
    meeting.minutes_second = minutes_second.strip()
    meeting.status = MeetingStatus.HELD
    meeting.full_clean()
    meeting.save()
    start = meeting.decisions.count()
    for offset, text in enumerate([d.strip() for d in decisions if d.strip()], start=1):
        Decision.objects.create(meeting=meeting, number=start + offset, text=text)
    _meeting_changed(
        user=user,
        meeting=meeting,
        fields=["minutes_en", "minutes_second", "status", "decisions"],
        request=request,
    )
    return meeting


@transaction.atomic
def meeting_cancel(*, user, meeting: Meeting, request=None) -> Meeting:
    meeting = _require_meeting(user, meeting, request)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise ValidationError(_("Only a scheduled meeting can be cancelled."))
    meeting.status = MeetingStatus.CANCELLED
    meeting.save(update_fields=["status"])
    _meeting_changed(user=user, meeting=meeting, fields=["status"], request=request)
    return meeting


@dataclass(frozen=True)
class ActionItemInput:
    text: str
    due_on: dt.date
    owner: object = None
    owner_name: str = ""


@transaction.atomic
def action_item_add(*, user, meeting: Meeting, data: ActionItemInput, request=None) -> ActionItem:
    meeting = _require_meeting(user, meeting, request)
    owner = None
    if data.owner is not None:
        owner = TaskforceMember.objects.filter(pk=getattr(data.owner, "pk", data.owner)).first()
        if owner is None:
            raise ValidationError({"owner": _("Unknown taskforce member.")})
    if owner is None and not data.owner_name.strip():
        raise ValidationError({"owner": _("Every action item has an owner.")})
    if not data.text.strip():
        raise ValidationError({"text": _("Say what is to be done.")})
    if data.due_on is None:
        raise ValidationError({"due_on": _("Every action item has a due date.")})
    item = ActionItem(
        meeting=meeting,
        text=data.text.strip(),
        owner=owner,
        owner_name=data.owner_name.strip(),
        due_on=data.due_on,
    )
    item.full_clean()
    item.save(force_insert=True)
    _meeting_changed(user=user, meeting=meeting, fields=["action_items"], request=request)
    return item


@transaction.atomic
def action_item_done(*, user, item: ActionItem, on: dt.date | None = None, request=None):
    meeting = _require_meeting(user, item.meeting, request)
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    if item.done_on is not None:
        raise ValidationError(_("This action item is already done."))
    item.done_on = on or timezone.localdate()
    item.save(update_fields=["done_on"])
    _meeting_changed(user=user, meeting=meeting, fields=["action_items"], request=request)
    return item


# --- Testimony ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TestimonyInput:
    witness: object  # a VictimLink of the case
    court: str
    hearing_country: str
    hearing_mode: str
    hearing_date: dt.date | None = None
    protective_measures: tuple[str, ...] = ()
    consent_given: bool = False
    consent_on: dt.date | None = None
    consent_language: str = ""
    interpreter_used: bool = False
    status: str = TestimonyStatus.REQUESTED
    notes: str = ""


def _testimony_fields(testimony: Testimony, data: TestimonyInput) -> None:
    measures = list(data.protective_measures)
    if set(measures) - set(ProtectiveMeasure.values):
        raise ValidationError({"protective_measures": _("Unknown protective measure.")})
    if data.hearing_mode not in HearingMode.values:
        raise ValidationError({"hearing_mode": _("Choose how the testimony is heard.")})
    needs_consent = data.status in (TestimonyStatus.ARRANGED, TestimonyStatus.HELD)
    if needs_consent and not (data.consent_given and data.consent_on and data.consent_language):
        raise ValidationError(
            {
                "consent_given": _(
                    "Testimony is arranged only with the person's consent, recorded with "
                    "its date and the language it was given in."
                )
            }
        )
    testimony.court = data.court.strip()
    testimony.hearing_country = data.hearing_country
    testimony.hearing_mode = data.hearing_mode
    testimony.hearing_date = data.hearing_date
    testimony.protective_measures = [m for m in ProtectiveMeasure.values if m in set(measures)]
    testimony.consent_given = data.consent_given
    testimony.consent_on = data.consent_on if data.consent_given else None
    testimony.consent_language = data.consent_language.strip() if data.consent_given else ""
    testimony.interpreter_used = data.interpreter_used
    testimony.status = data.status
    testimony.notes = data.notes.strip()


@transaction.atomic
def testimony_save(
    *,
    user,
    le_case: LeCase,
    data: TestimonyInput,
    testimony: Testimony | None = None,
    request=None,
) -> Testimony:
    _require_case(user, le_case, request)
    witness = le_case.victims.filter(pk=getattr(data.witness, "pk", data.witness)).first()
    if witness is None:
        raise ValidationError({"witness": _("Choose a victim or witness of this case.")})
    created = testimony is None
    if testimony is not None and testimony.le_case_id != le_case.pk:
        raise _deny(user, testimony, request)
    testimony = testimony or Testimony(le_case=le_case, data_key=le_case.data_key)
    testimony.witness = witness
    _testimony_fields(testimony, data)
    testimony.full_clean()
    testimony.save()
    audit_record(
        actor=user,
        action=Action.CREATE if created else Action.UPDATE,
        obj=testimony,
        fields=["notes"],
        details={
            "case": str(le_case.pk),
            "status": testimony.status,
            "mode": testimony.hearing_mode,
            "consent": testimony.consent_given,
        },
        request=request,
    )
    return testimony


def error_text(exc: ValidationError) -> str:
    return "; ".join(str(m) for m in exc.messages) or _t("Invalid input.")
