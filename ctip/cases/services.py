"""Writes of persons, screenings, cases, consent, approvals, referrals and services.

Each service runs in one transaction with its audit row (and, for cases, a timeline
event); outside effects (alerts to the DPO) run on commit.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.accounts.models import Role, User
from ctip.accounts.services import grant_access
from ctip.audit.models import Action
from ctip.audit.services import audit_record, audit_security_event
from ctip.cases import documents, formdefs
from ctip.cases.consent import ConsentCheck, consent_covers
from ctip.cases.idform import CleanResult, Score, clean_answers, score_answers
from ctip.cases.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseDocument,
    CaseEvent,
    CaseNote,
    CaseTransfer,
    ClosureReason,
    Consent,
    ConsentDecision,
    ConsentPurpose,
    DataCategory,
    DocumentKind,
    EventKind,
    FormVersion,
    Person,
    Referral,
    ReferralStatus,
    ReminderThreshold,
    Screening,
    ScreeningResult,
    ScreeningSource,
    ScreeningStatus,
    ServiceReceived,
    Stage,
    StageReminder,
    TransferStatus,
)
from ctip.cases.places import province_of
from ctip.cases.search import name_tokens
from ctip.cases.sop import current_sop
from ctip.core.crypto import index_token


@dataclass(frozen=True)
class PersonInput:
    name_km: str = ""
    name_zh: str = ""
    name_latin: str = ""
    aliases: str = ""
    document_number: str = ""
    contact: str = ""
    place_of_origin: str = ""
    notes: str = ""
    sex: str = "unknown"
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    age_estimate: int | None = None
    nationality: str = ""
    document_type: str = ""
    origin_code: str = ""
    family_contacts: str = ""


def new_reference() -> str:
    return f"{settings.CTIP_NODE}-P-{secrets.token_hex(4).upper()}"


def person_search_tokens(person: Person) -> str:
    """Keyed tokens of every name word, and of its phonetic keys across scripts (so that
    ``Sokha`` finds សុខា and ``wang`` finds 王), and of the document number."""
    tokens: set[str] = set()
    for value in (person.name_km, person.name_zh, person.name_latin, person.aliases):
        tokens.update(name_tokens(value or ""))
    if person.document_number:
        tokens.add(index_token(person.document_number.replace(" ", ""), "person.name"))
    return " " + " ".join(sorted(tokens)) + " " if tokens else ""


@transaction.atomic
def person_create(*, user, data: PersonInput, request=None) -> Person:
    permissions.require(user, "person", permissions.CREATE, request=request)
    person = Person(
        reference=new_reference(),
        owner_agency=user.agency,
        created_by=user,
        **{
            k: (v if v != "" else None) if k in Person.PII_FIELDS else v
            for k, v in vars(data).items()
        },
    )
    person.origin_province = province_of(data.origin_code) if data.origin_code else ""
    person.search_tokens = person_search_tokens(person)
    person.full_clean()
    person.save(force_insert=True)
    filled = [f for f in Person.PII_FIELDS if getattr(person, f)]
    audit_record(actor=user, action=Action.CREATE, obj=person, fields=filled, request=request)
    return person


@transaction.atomic
def person_set_sealed(
    *, user, person: Person, sealed: bool, reason: str, named_users=(), request=None
) -> Person:
    """Seal (or unseal) a record. A sealed record is visible only to the named users,
    who receive need-to-know grants; the sealing user is always one of them."""
    permissions.require(user, "person", permissions.SEAL, request=request)
    if sealed and not reason.strip():
        raise ValueError("sealing a record needs a reason")
    if sealed:
        for named in {user, *named_users}:
            grant_access(
                actor=user,
                user=named,
                resource="person",
                object_id=str(person.pk),
                reason=reason,
                days=365,
            )
    person.sealed = sealed
    person.full_clean()
    person.save(update_fields=["sealed"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=person,
        fields=["sealed"],
        details={"sealed": sealed, "reason_given": bool(reason)},
        request=request,
    )
    return person


@transaction.atomic
def person_update(*, user, person: Person, data: PersonInput, request=None) -> Person:
    permissions.require(user, "person", permissions.CHANGE, request=request)
    changed = []
    for key, value in vars(data).items():
        value = (value if value != "" else None) if key in Person.PII_FIELDS else value
        if getattr(person, key) != value:
            setattr(person, key, value)
            changed.append(key)
    if not changed:
        return person
    person.origin_province = province_of(data.origin_code) if data.origin_code else ""
    person.search_tokens = person_search_tokens(person)
    person.full_clean()
    person.save()
    audit_record(actor=user, action=Action.UPDATE, obj=person, fields=changed, request=request)
    return person


# --- Screenings ---------------------------------------------------------------------------


class FormErrors(ValidationError):
    """Field-level errors of a submission, keyed by question id, in the user's language."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.fields = errors


def _screening_reference() -> str:
    return f"{settings.CTIP_NODE}-S-{secrets.token_hex(4).upper()}"


def _case_reference() -> str:
    return f"{settings.CTIP_NODE}-C-{secrets.token_hex(4).upper()}"


@transaction.atomic
def screening_start(
    *,
    user,
    person: Person,
    source: str = ScreeningSource.DEVICE,
    external_id: str = "",
    request=None,
) -> Screening:
    permissions.require(user, "screening", permissions.CREATE, request=request)
    row = formdefs.form_version_row()
    now = timezone.now()
    screening = Screening(
        reference=_screening_reference(),
        data_key=person.data_key,
        owner_agency=person.owner_agency,
        sealed=person.sealed,
        person=person,
        form_version=row,
        source=source,
        external_id=external_id[:100],
        answers="{}",
        created_by=user,
        created_at=now,
        updated_at=now,
    )
    screening.full_clean()
    screening.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=screening,
        details={"person": str(person.pk), "form_version": row.version, "source": source},
        request=request,
    )
    return screening


def screening_answers(screening: Screening) -> dict:
    return json.loads(screening.answers or "{}")


@transaction.atomic
def screening_save_draft(
    *, user, screening: Screening, raw: dict, lang: str = "en", request=None
) -> CleanResult:
    """Keep what is valid of a draft; report what is not (types, ranges), never "required"."""
    permissions.require(user, "screening", permissions.CHANGE, request=request)
    if not screening.is_draft:
        raise ValidationError(_("A submitted screening cannot be changed."))
    definition = formdefs.definition_of(screening.form_version)
    result = clean_answers(definition, raw, lang=lang, draft=True)
    screening.answers = json.dumps(result.answers, ensure_ascii=False)
    screening.interview_date = _interview_date(result.answers)
    screening.updated_at = timezone.now()
    screening.full_clean()
    screening.save(update_fields=["answers", "interview_date", "updated_at"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=screening,
        fields=["answers"],
        details={"draft": True},
        request=request,
    )
    return result


def _interview_date(answers: dict):
    value = answers.get("interview_date")
    return dt.date.fromisoformat(value) if value else None


@transaction.atomic
def screening_submit(
    *, user, screening: Screening, raw: dict | None = None, lang: str = "en", request=None
) -> Screening:
    """Check every rule of the form (raising ``FormErrors``), score it, and freeze the form
    version. ``raw`` defaults to the saved draft answers."""
    permissions.require(user, "screening", permissions.CHANGE, request=request)
    if not screening.is_draft:
        raise ValidationError(_("This screening was already submitted."))
    row = FormVersion.objects.select_for_update().get(pk=screening.form_version_id)
    definition = formdefs.definition_of(row)
    raw = screening_answers(screening) if raw is None else raw
    result = clean_answers(definition, raw, lang=lang, draft=False)
    if not result.ok:
        raise FormErrors(result.errors)
    score = score_answers(definition, result.answers)
    now = timezone.now()
    screening.answers = json.dumps(result.answers, ensure_ascii=False)
    screening.findings = json.dumps(score.as_json())
    screening.result = score.result
    screening.child = score.child
    screening.interview_date = _interview_date(result.answers)
    screening.status = ScreeningStatus.SUBMITTED
    screening.submitted_at = now
    screening.updated_at = now
    screening.full_clean()
    screening.save()
    formdefs.freeze(row)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=screening,
        fields=["answers", "findings", "result"],
        details={"submitted": True, "result": score.result, "form_version": row.version},
        request=request,
    )
    return screening


def screening_score(screening: Screening) -> Score | None:
    if not screening.findings:
        return None
    return Score.from_json(json.loads(screening.findings))


# --- Cases --------------------------------------------------------------------------------


def other_country() -> str:
    return "CN" if settings.CTIP_NODE == "KH" else "KH"


def _event(case: Case, user, event_kind: str, at=None, **details) -> CaseEvent:
    last = case.events.aggregate(last=Max("seq"))["last"] or 0
    event = CaseEvent(
        case=case,
        seq=last + 1,
        actor=user,
        kind=event_kind,
        at=at or timezone.now(),
        details=details,
    )
    event.full_clean()
    event.save(force_insert=True)
    return event


def _deadline(stage: str, start):
    days = current_sop().rule(stage).deadline_days
    return start + dt.timedelta(days=days) if days else None


OPENING_RESULTS = {ScreeningResult.VICTIM, ScreeningResult.PRESUMED_VICTIM}


@transaction.atomic
def case_open(
    *,
    user,
    person: Person,
    track: str,
    screening: Screening | None = None,
    assigned_to=None,
    reference: str | None = None,
    request=None,
) -> Case:
    """Open the case of a person identified as a victim or presumed victim. ``reference``
    is for the demo data only (both nodes' demos agree on shared references)."""
    permissions.require(user, "case", permissions.CREATE, request=request)
    if screening is not None:
        if screening.person_id != person.pk or screening.is_draft:
            raise ValidationError(_("Open a case from a submitted screening of this person."))
        if screening.result not in OPENING_RESULTS:
            raise ValidationError(
                _("A case opens for a victim or presumed victim; this screening's result is %(r)s.")
                % {"r": screening.get_result_display()}
            )
    if Case.objects.filter(person=person, closed_at__isnull=True).exists():
        raise ValidationError(_("This person already has an open case."))
    sop = current_sop()
    now = timezone.now()
    case = Case(
        reference=reference or _case_reference(),
        owner_agency=person.owner_agency,
        sealed=person.sealed,
        person=person,
        screening=screening,
        track=track,
        stage=Stage.IDENTIFIED,
        stage_entered_at=now,
        stage_due_at=_deadline(Stage.IDENTIFIED, now),
        sop_version=sop.version,
        assigned_to=assigned_to or user,
        opened_at=now,
        opened_by=user,
    )
    case.full_clean()
    case.save(force_insert=True)
    _event(case, user, EventKind.OPENED, at=now, track=track, stage=case.stage)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=case,
        details={"person": str(person.pk), "track": track},
        request=request,
    )
    return case


def missing_records(case: Case) -> list[str]:
    """What the SOP requires before the case may leave its current stage, not yet there."""
    missing = []
    for item in current_sop().rule(case.stage).requires:
        kind, _sep, arg = item.partition(":")
        present = {
            "screening": lambda: case.screening_id is not None,
            "referral": lambda: case.referrals.exists(),
            "service": lambda: case.services.exists(),
            "note": lambda: case.notes.exists(),
            "consent": lambda: case.consents.filter(decision="given").exists(),
            "document": lambda a=arg: case.documents.filter(kind=a).exists(),
        }[kind]()
        if not present:
            missing.append(item)
    return missing


def describe_requirement(item: str) -> str:
    kind, _sep, arg = item.partition(":")
    texts = {
        "screening": _("a submitted identification screening"),
        "referral": _("at least one referral to a service"),
        "service": _("at least one service received"),
        "note": _("a note"),
        "consent": _("a recorded consent"),
    }
    if kind == "document":
        return str(_("a document: %(kind)s") % {"kind": DocumentKind(arg).label})
    return str(texts[kind])


class ConsentBlocked(PermissionDenied):
    """A cross-border action that the person's consent does not cover."""

    def __init__(self, check: ConsentCheck, message: str, *, case: Case, details: dict):
        super().__init__(message)
        self.check = check
        self.case = case
        self.details = details


def require_consent(*, case: Case, purpose: str, country: str, categories, action: str):
    """Every cross-border action of this app calls this inside its transaction; a refusal
    or a missing consent raises ``ConsentBlocked``. The public service then records the
    block (timeline and audit) after its transaction rolled back: see ``_blocked``."""
    check = consent_covers(
        case_ref=case.reference,
        recipient_country=country,
        purpose=purpose,
        data_categories=categories,
    )
    if check:
        return check
    params = {"purpose": ConsentPurpose(purpose).label, "country": country}
    message = (
        _("Blocked: the person refused consent for %(purpose)s with %(country)s.")
        if check.basis == "refused"
        else _("Blocked: no consent of the person covers %(purpose)s with %(country)s.")
    ) % params
    raise ConsentBlocked(
        check,
        str(message),
        case=case,
        details={"action": action, "purpose": purpose, "country": country, "basis": check.basis},
    )


@transaction.atomic
def _blocked(user, blocked: ConsentBlocked, request) -> None:
    """The evidence of a blocked cross-border action, kept although the action failed."""
    _event(blocked.case, user, EventKind.BLOCKED, **blocked.details)
    audit_security_event(
        actor=user,
        event="consent_blocked",
        object_type="cases.case",
        object_id=str(blocked.case.pk),
        details=blocked.details,
        request=request,
    )


def _check_actor(user, rule, request) -> None:
    roles = set(user.roles)
    if not roles & (set(rule.actors) | {Role.SUPERVISOR}):
        raise PermissionDenied(
            _("Your role does not act at this stage of the SOP (%(roles)s do).")
            % {"roles": ", ".join(sorted(rule.actors))}
        )


def case_advance(*, user, case: Case, request=None) -> Case:
    """Move the case to the next stage of its track, if the SOP's records are there and,
    for a cross-border stage, the person's consent covers it. Closing needs an approval."""
    try:
        return _case_advance(user=user, case=case, request=request)
    except ConsentBlocked as blocked:
        _blocked(user, blocked, request)
        raise


@transaction.atomic
def _case_advance(*, user, case: Case, request=None) -> Case:
    permissions.require(user, "case", permissions.CHANGE, request=request)
    case = Case.objects.select_for_update().get(pk=case.pk)
    sop = current_sop()
    if case.is_closed:
        raise ValidationError(_("The case is closed."))
    nxt = sop.next_stage(case.track, case.stage)
    if nxt is None or nxt == Stage.CLOSED:
        raise ValidationError(_("Closing a case needs a supervisor's approval: request closure."))
    _check_actor(user, sop.rule(case.stage), request)
    missing = missing_records(case)
    if missing:
        raise ValidationError(
            _("Before leaving this stage the SOP needs: %(items)s.")
            % {"items": "; ".join(describe_requirement(m) for m in missing)}
        )
    rule = sop.rule(nxt)
    if rule.consent is not None:
        require_consent(
            case=case,
            purpose=rule.consent.purpose,
            country=other_country(),
            categories=rule.consent.data_categories,
            action=f"advance:{nxt}",
        )
    return _enter_stage(user, case, nxt, request)


def _enter_stage(user, case: Case, stage: str, request, **details) -> Case:
    now = timezone.now()
    previous = case.stage
    case.stage = stage
    case.stage_entered_at = now
    case.stage_due_at = _deadline(stage, now)
    if stage == Stage.CLOSED:
        case.closed_at = now
    case.full_clean()
    case.save()
    _event(case, user, EventKind.STAGE, at=now, **{"from": previous, "to": stage}, **details)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=case,
        fields=["stage"],
        details={"from": previous, "to": stage},
        request=request,
    )
    return case


@transaction.atomic
def case_assign(*, user, case: Case, assignee, request=None) -> Case:
    """Assign (or transfer) the case to a caseworker of the owning agency."""
    permissions.require(user, "case", permissions.CHANGE, request=request)
    if assignee.agency_id != case.owner_agency_id or not (
        {Role.CASEWORKER, Role.SUPERVISOR} & set(assignee.roles)
    ):
        raise ValidationError(_("Assign the case to a caseworker of the agency that owns it."))
    previous = case.assigned_to_id
    case.assigned_to = assignee
    case.full_clean()
    case.save(update_fields=["assigned_to"])
    if case.sealed:
        _grant_sealed(user, case, [assignee], "assigned to a sealed case", request)
    _event(case, user, EventKind.ASSIGNED, previous=previous, to=assignee.pk)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=case,
        fields=["assigned_to"],
        details={"previous": previous, "to": assignee.pk},
        request=request,
    )
    return case


@transaction.atomic
def case_add_note(*, user, case: Case, text: str, request=None) -> CaseNote:
    permissions.require(user, "case", permissions.CHANGE, request=request)
    if not text.strip():
        raise ValidationError({"text": [_("Write the note.")]})
    note = CaseNote(case=case, data_key=case.data_key, text=text.strip(), created_by=user)
    note.full_clean()
    note.save(force_insert=True)
    _event(case, user, EventKind.NOTE, note=str(note.pk))
    audit_record(actor=user, action=Action.CREATE, obj=note, fields=["text"], request=request)
    return note


@transaction.atomic
def case_add_document(
    *, user, case: Case, kind: str, filename: str, content: bytes, request=None
) -> CaseDocument:
    """Store an uploaded file encrypted, after checking its type by content and its size."""
    permissions.require(user, "case", permissions.CHANGE, request=request)
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": [_("Choose the kind of document.")]})
    checked = documents.check_upload(filename, content)
    document = CaseDocument(
        id=uuid.uuid4(),
        case=case,
        data_key=case.data_key,
        kind=kind,
        filename=filename[-200:],
        content_type=checked.content_type,
        extension=checked.extension,
        size=len(checked.content),
        uploaded_by=user,
    )
    document.content = documents.seal_content(document, checked.content)
    document.full_clean()
    document.save(force_insert=True)
    _event(case, user, EventKind.DOCUMENT, document=str(document.pk), kind=kind)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=document,
        fields=["filename", "content"],
        details={"kind": kind, "size": document.size},
        request=request,
    )
    return document


def _grant_sealed(actor, case: Case, users, reason: str, request, days: float = 365) -> None:
    for named in users:
        for resource, object_id in (
            ("case", case.pk),
            ("person", case.person_id),
            *(("screening", s) for s in case.person.screenings.values_list("pk", flat=True)),
        ):
            grant_access(
                actor=actor,
                user=named,
                resource=resource,
                object_id=str(object_id),
                reason=reason,
                days=days,
            )


@transaction.atomic
def case_set_sealed(
    *, user, case: Case, sealed: bool, reason: str, named_users=(), request=None
) -> Case:
    """Seal a case (child victims, witnesses, threats): it, its person and their screenings
    disappear from lists and search except for the named users."""
    permissions.require(user, "case", permissions.SEAL, request=request)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for sealing.")]})
    if sealed:
        named = {user, *named_users}
        if case.assigned_to is not None:
            named.add(case.assigned_to)
        _grant_sealed(user, case, named, reason, request)
    case.sealed = sealed
    case.full_clean()
    case.save(update_fields=["sealed"])
    Person.objects.filter(pk=case.person_id).update(sealed=sealed)
    Screening.objects.filter(person_id=case.person_id).update(sealed=sealed)
    _event(case, user, EventKind.SEALED, sealed=sealed)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=case,
        fields=["sealed"],
        details={"sealed": sealed, "named": sorted(u.pk for u in named_users)},
        request=request,
    )
    return case


# --- Consent ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentInput:
    decision: str
    purpose: str
    recipient_country: str
    data_categories: tuple[str, ...]
    given_on: dt.date
    how_given: str
    language: str
    interpreter_used: bool = False
    interpreter_name: str = ""
    recipient_agency: str = ""
    expires_on: dt.date | None = None
    notes: str = ""


@transaction.atomic
def consent_record(*, user, case: Case, data: ConsentInput, request=None) -> Consent:
    permissions.require(user, "case", permissions.CHANGE, request=request)
    errors = {}
    if data.decision == ConsentDecision.GIVEN and not data.data_categories:
        errors["data_categories"] = [_("Say which kinds of information the person agreed to.")]
    if set(data.data_categories) - set(DataCategory.values):
        errors["data_categories"] = [_("Unknown kind of information.")]
    if data.interpreter_used and not data.interpreter_name.strip():
        errors["interpreter_name"] = [_("Name the interpreter.")]
    if data.given_on > timezone.localdate():
        errors["given_on"] = [_("The date cannot be in the future.")]
    if data.expires_on is not None and data.expires_on < data.given_on:
        errors["expires_on"] = [_("The consent must end after it was given.")]
    if errors:
        raise ValidationError(errors)
    consent = Consent(
        case=case,
        data_key=case.data_key,
        decision=data.decision,
        purpose=data.purpose,
        recipient_country=data.recipient_country,
        recipient_agency=data.recipient_agency,
        data_categories=sorted(set(data.data_categories)),
        given_on=data.given_on,
        expires_on=data.expires_on,
        how_given=data.how_given,
        language=data.language,
        interpreter_used=data.interpreter_used,
        interpreter_name=data.interpreter_name.strip() or None,
        notes=data.notes.strip() or None,
        recorded_by=user,
    )
    consent.full_clean()
    consent.save(force_insert=True)
    details = {
        "consent": str(consent.pk),
        "decision": data.decision,
        "purpose": data.purpose,
        "country": data.recipient_country,
    }
    _event(case, user, EventKind.CONSENT, **details)
    audit_record(actor=user, action=Action.CREATE, obj=consent, details=details, request=request)
    return consent


@transaction.atomic
def consent_withdraw(*, user, consent: Consent, reason: str = "", request=None) -> Consent:
    """The person withdraws consent: from now on ``consent_covers`` no longer relies on it,
    and the messages still waiting in the outbox that relied on it are cancelled in this
    same transaction (DP-8): if the cancellation fails, nothing is withdrawn. Messages the
    peer already acknowledged are counted, not unsent (retraction is not built yet)."""
    permissions.require(user, "case", permissions.CHANGE, request=request)
    if consent.withdrawn_at is not None:
        raise ValidationError(_("This consent was already withdrawn."))
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = user
    consent.withdrawal_reason = reason.strip() or None
    consent.full_clean()
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    stopped = _cancel_queued_messages(user, consent, request)
    _event(
        consent.case,
        user,
        EventKind.CONSENT_WITHDRAWN,
        consent=str(consent.pk),
        messages_cancelled=len(stopped.cancelled),
        messages_already_delivered=len(stopped.delivered),
    )
    from ctip.cases.repatriation import withdrawal_notify

    rep = getattr(consent.case, "repatriation", None)
    if rep is not None and consent.recipient_country == rep.peer:
        # The repatriation stops and the other node is told, without personal data (DP-8).
        withdrawal_notify(user=user, case=consent.case, purposes=[consent.purpose], request=request)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=consent,
        fields=["withdrawn_at"],
        details={"withdrawn": True},
        request=request,
    )
    return consent


def _cancel_queued_messages(user, consent: Consent, request):
    """Cancel what waits in the outbox under this consent. A message that names no consent
    or approval recorded for the person is cancelled when it is about any case of the
    person, for the consent's purpose (the exchange cannot tell what it relied on)."""
    from ctip.exchange.services import outbox_cancel

    cases = Case.objects.filter(person_id=consent.case.person_id)
    known = {str(pk) for pk in Consent.objects.filter(case__in=cases).values_list("pk", flat=True)}
    known |= {
        str(pk) for pk in Approval.objects.filter(case__in=cases).values_list("pk", flat=True)
    }
    return outbox_cancel(
        actor=user,
        to=consent.recipient_country,
        consent_ref=str(consent.pk),
        case_refs=list(cases.values_list("reference", flat=True)),
        purposes=[consent.purpose],
        known_refs=known,
        request=request,
    )


# --- Approvals: case closure, consent override, break-glass --------------------------------

BREAK_GLASS_MAX_HOURS = 72
OVERRIDE_MAX_DAYS = 30


def _new_approval(*, user, kind, case, agency, reason, scope, request) -> Approval:
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason.")]})
    approval = Approval(
        kind=kind,
        case=case,
        owner_agency=agency,
        reason=reason.strip(),
        scope=scope,
        requested_by=user,
    )
    if case is not None:
        approval.data_key = case.data_key
    approval.full_clean()
    approval.save(force_insert=True)
    if case is not None:
        _event(case, user, EventKind.APPROVAL_REQUESTED, approval=str(approval.pk), kind=kind)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=approval,
        fields=["reason"],
        details={"kind": kind, "case": str(case.pk) if case else ""},
        request=request,
    )
    return approval


@transaction.atomic
def case_request_closure(
    *, user, case: Case, closure_reason: str, reason: str, request=None
) -> Approval:
    permissions.require(user, "case", permissions.CHANGE, request=request)
    if case.is_closed:
        raise ValidationError(_("The case is closed."))
    if closure_reason not in ClosureReason.values:
        raise ValidationError({"closure_reason": [_("Choose the reason for closure.")]})
    if case.approvals.filter(kind=ApprovalKind.CASE_CLOSURE, status="pending").exists():
        raise ValidationError(_("Closure was already requested."))
    return _new_approval(
        user=user,
        kind=ApprovalKind.CASE_CLOSURE,
        case=case,
        agency=case.owner_agency,
        reason=reason,
        scope={"closure_reason": closure_reason},
        request=request,
    )


@transaction.atomic
def consent_override_request(
    *,
    user,
    case: Case,
    purpose: str,
    recipient_country: str,
    data_categories,
    days: int,
    reason: str,
    request=None,
) -> Approval:
    """Ask to act without the person's consent on a documented legal basis (DP-1)."""
    permissions.require(user, "case", permissions.CHANGE, request=request)
    if purpose not in ConsentPurpose.values or set(data_categories) - set(DataCategory.values):
        raise ValidationError(_("Name the purpose and the kinds of information."))
    if not 1 <= days <= OVERRIDE_MAX_DAYS:
        raise ValidationError(
            {"days": [_("An override lasts 1 to %(n)s days.") % {"n": OVERRIDE_MAX_DAYS}]}
        )
    return _new_approval(
        user=user,
        kind=ApprovalKind.CONSENT_OVERRIDE,
        case=case,
        agency=case.owner_agency,
        reason=reason,
        scope={
            "purpose": purpose,
            "recipient_country": recipient_country,
            "data_categories": sorted(set(data_categories)),
            "days": days,
        },
        request=request,
    )


@transaction.atomic
def break_glass_request(
    *, user, case_reference: str, hours: int, reason: str, request=None
) -> Approval:
    """Ask for time-limited access to a sealed case known by its reference. The answer is
    the same whether or not the case exists, so the request reveals nothing."""
    permissions.require(user, "case", "break_glass", request=request)
    if not 1 <= hours <= BREAK_GLASS_MAX_HOURS:
        raise ValidationError(
            {"hours": [_("Access lasts 1 to %(n)s hours.") % {"n": BREAK_GLASS_MAX_HOURS}]}
        )
    case = Case.objects.filter(
        reference=case_reference.strip().upper(), owner_agency=user.agency
    ).first()
    return _new_approval(
        user=user,
        kind=ApprovalKind.BREAK_GLASS,
        case=case,
        agency=user.agency,
        reason=reason,
        scope={"hours": hours, "reference": case_reference.strip().upper()[:24]},
        request=request,
    )


@transaction.atomic
def approval_decide(
    *, user, approval: Approval, approve: bool, note: str = "", request=None
) -> Approval:
    """A supervisor, never the requester, decides. Approving takes effect at once."""
    permissions.require(user, "case", "approve", request=request)
    approval = Approval.objects.select_for_update().get(pk=approval.pk)
    if approval.status != ApprovalStatus.PENDING:
        raise ValidationError(_("This request was already decided."))
    if approval.requested_by_id == user.pk:
        raise PermissionDenied(_("A second person must approve your own request."))
    if approval.owner_agency_id != user.agency_id:
        raise permissions.deny(user, "approval", "approve", approval.pk, request)
    if approve and approval.case is None:
        raise ValidationError(_("No case of your agency has this reference."))
    now = timezone.now()
    approval.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    approval.decided_by = user
    approval.decided_at = now
    approval.decision_note = note.strip() or None
    case = approval.case
    if approve:
        if approval.kind == ApprovalKind.CASE_CLOSURE:
            case = Case.objects.select_for_update().get(pk=case.pk)
            case.closure_reason = approval.scope["closure_reason"]
            _enter_stage(user, case, Stage.CLOSED, request, approval=str(approval.pk))
        elif approval.kind == ApprovalKind.CONSENT_OVERRIDE:
            approval.valid_until = now + dt.timedelta(days=approval.scope["days"])
        elif approval.kind == ApprovalKind.BREAK_GLASS:
            hours = approval.scope["hours"]
            approval.valid_until = now + dt.timedelta(hours=hours)
            _grant_sealed(
                user,
                case,
                [approval.requested_by],
                "emergency access (break-glass)",
                request,
                days=hours / 24,
            )
        if approval.kind != ApprovalKind.CASE_CLOSURE:
            transaction.on_commit(lambda: alert_dpo(approval))
    approval.full_clean()
    approval.save()
    if case is not None:
        _event(
            case,
            user,
            EventKind.APPROVAL_DECIDED,
            at=now,
            approval=str(approval.pk),
            kind=approval.kind,
            status=approval.status,
        )
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=approval,
        fields=["status"],
        details={"kind": approval.kind, "status": approval.status},
        request=request,
    )
    if approve and approval.kind != ApprovalKind.CASE_CLOSURE:
        audit_security_event(
            actor=user,
            event=f"{approval.kind}_approved",
            object_type="cases.approval",
            object_id=str(approval.pk),
            details={"case": str(case.pk), "valid_until": approval.valid_until.isoformat()},
            request=request,
        )
    return approval


def alert_dpo(approval: Approval) -> None:
    """Tell the node's data protection officers at once (opaque references only, DP-6),
    through the one alert channel (:func:`ctip.accounts.alerts.alert_dpos`)."""
    from ctip.accounts.alerts import alert_dpos

    sent = alert_dpos(
        subject=f"{approval.get_kind_display()} approved",
        body=(
            f"{approval.get_kind_display()} was approved for case "
            f"{approval.case.reference if approval.case else '-'} "
            f"(request {approval.pk}). It waits in your review queue."
        ),
        object_type="cases.approval",
        object_id=str(approval.pk),
        about=approval.kind,
    )
    if sent:
        # Only an alert that went out counts as sent. (Nobody could be told: the approval
        # still waits in the DPO review queue, and the failure is a security event.)
        Approval.objects.filter(pk=approval.pk).update(dpo_alerted_at=timezone.now())


@transaction.atomic
def approval_review(*, user, approval: Approval, note: str = "", request=None) -> Approval:
    """The DPO's review after the fact of an approved override or emergency access."""
    permissions.require(user, "case", "review", request=request)
    approval = Approval.objects.select_for_update().get(pk=approval.pk)
    if not approval.needs_dpo_review or approval.reviewed_at is not None:
        raise ValidationError(_("Nothing to review here."))
    approval.reviewed_by = user
    approval.reviewed_at = timezone.now()
    approval.review_note = note.strip() or None
    approval.full_clean()
    approval.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=approval,
        fields=["reviewed_at"],
        details={"reviewed": True},
        request=request,
    )
    return approval


# --- Referrals and services received ------------------------------------------------------


def referral_create(*, user, case: Case, service, note: str = "", request=None) -> Referral:
    try:
        return _referral_create(user=user, case=case, service=service, note=note, request=request)
    except ConsentBlocked as blocked:
        _blocked(user, blocked, request)
        raise


@transaction.atomic
def _referral_create(*, user, case: Case, service, note: str = "", request=None) -> Referral:
    permissions.require(user, "case", permissions.CHANGE, request=request)
    if case.is_closed:
        raise ValidationError(_("The case is closed."))
    cross_border = service.country != settings.CTIP_NODE
    if cross_border:
        require_consent(
            case=case,
            purpose=ConsentPurpose.REFERRAL,
            country=service.country,
            categories=(DataCategory.IDENTITY, DataCategory.CASE_PROGRESS),
            action="referral",
        )
    referral = Referral(
        case=case,
        data_key=case.data_key,
        service=service,
        need=service.service_type,
        cross_border=cross_border,
        note=note.strip() or None,
        referred_by=user,
    )
    referral.full_clean()
    referral.save(force_insert=True)
    _event(
        case,
        user,
        EventKind.REFERRAL,
        referral=str(referral.pk),
        service=str(service.pk),
        need=referral.need,
    )
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=referral,
        details={"service": str(service.pk), "cross_border": cross_border},
        request=request,
    )
    return referral


REFERRAL_FLOW = {
    ReferralStatus.SENT: {
        ReferralStatus.ACCEPTED,
        ReferralStatus.DECLINED,
        ReferralStatus.CANCELLED,
    },
    ReferralStatus.ACCEPTED: {ReferralStatus.COMPLETED, ReferralStatus.CANCELLED},
}


@transaction.atomic
def referral_update(*, user, referral: Referral, status: str, request=None) -> Referral:
    """The case's agency or the service's provider moves a referral on."""
    permissions.require(user, "case", permissions.CHANGE, request=request)
    if status not in REFERRAL_FLOW.get(referral.status, set()):
        raise ValidationError(
            _("A referral that is %(now)s cannot become %(next)s.")
            % {"now": referral.get_status_display(), "next": status}
        )
    previous = referral.status
    referral.status = status
    referral.updated_at = timezone.now()
    referral.full_clean()
    referral.save(update_fields=["status", "updated_at"])
    _event(
        referral.case,
        user,
        EventKind.REFERRAL_UPDATED,
        referral=str(referral.pk),
        status=status,
    )
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=referral,
        fields=["status"],
        details={"from": previous, "to": status},
        request=request,
    )
    return referral


@dataclass(frozen=True)
class ServiceInput:
    kind: str
    started_on: dt.date
    ended_on: dt.date | None = None
    satisfaction: int | None = None
    feedback: str = ""
    service: object = None
    referral: Referral | None = None


@transaction.atomic
def service_record(*, user, case: Case, data: ServiceInput, request=None) -> ServiceReceived:
    permissions.require(user, "case", permissions.CHANGE, request=request)
    received = ServiceReceived(
        case=case,
        data_key=case.data_key,
        kind=data.kind,
        started_on=data.started_on,
        ended_on=data.ended_on,
        satisfaction=data.satisfaction,
        feedback=data.feedback.strip() or None,
        service=data.service,
        referral=data.referral,
        recorded_by=user,
    )
    received.full_clean()
    received.save(force_insert=True)
    _event(
        case,
        user,
        EventKind.SERVICE,
        service=str(received.pk),
        kind=data.kind,
        satisfaction=data.satisfaction,
    )
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=received,
        details={"kind": data.kind},
        request=request,
    )
    return received


# --- Transfers between agencies -----------------------------------------------------------

KEEP_ACCESS_DAYS = 90


@transaction.atomic
def case_transfer_propose(
    *, user, case: Case, to_agency, reason: str, keep_access=(), request=None
) -> CaseTransfer:
    """The owning agency proposes to hand the case to another agency of its country. Nothing
    moves until the receiving agency accepts."""
    permissions.require(user, "case", permissions.CHANGE, request=request)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if user.agency_id != case.owner_agency_id:
        raise permissions.deny(user, "case", "transfer", case.pk, request)
    if case.is_closed:
        raise ValidationError(_("The case is closed."))
    if to_agency.country != case.owner_agency.country:
        raise ValidationError(
            {"to_agency": [_("A case is transferred only to an agency of the same country.")]}
        )
    if to_agency.pk == case.owner_agency_id:
        raise ValidationError({"to_agency": [_("Choose another agency.")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason.")]})
    if case.transfers.filter(status=TransferStatus.PROPOSED).exists():
        raise ValidationError(_("A transfer of this case is already proposed."))
    keepers = sorted({u.pk for u in keep_access if u.agency_id == case.owner_agency_id})
    transfer = CaseTransfer(
        case=case,
        data_key=case.data_key,
        from_agency=case.owner_agency,
        to_agency=to_agency,
        reason=reason.strip(),
        keep_access=keepers,
        proposed_by=user,
    )
    transfer.full_clean()
    transfer.save(force_insert=True)
    details = {"transfer": str(transfer.pk), "from": case.owner_agency.code, "to": to_agency.code}
    _event(case, user, EventKind.TRANSFER_PROPOSED, **details)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=transfer,
        fields=["reason"],
        details={**details, "keep_access": keepers},
        request=request,
    )
    return transfer


@transaction.atomic
def case_transfer_decide(
    *, user, transfer: CaseTransfer, accept: bool, note: str = "", request=None
) -> CaseTransfer:
    """A caseworker or supervisor of the receiving agency accepts (the case, its person and
    screenings become the receiving agency's, assigned to them) or declines."""
    permissions.require(user, "case", permissions.CREATE, request=request)
    transfer = CaseTransfer.objects.select_for_update().get(pk=transfer.pk)
    if user.agency_id != transfer.to_agency_id:
        raise permissions.deny(user, "case_transfer", "decide", transfer.pk, request)
    if transfer.status != TransferStatus.PROPOSED:
        raise ValidationError(_("This transfer was already decided."))
    case = Case.objects.select_for_update().get(pk=transfer.case_id)
    if case.owner_agency_id != transfer.from_agency_id or case.is_closed:
        raise ValidationError(_("The case changed since the transfer was proposed."))
    now = timezone.now()
    transfer.status = TransferStatus.ACCEPTED if accept else TransferStatus.DECLINED
    transfer.decided_at = now
    transfer.decided_by = user
    transfer.decision_note = note.strip() or None
    transfer.full_clean()
    transfer.save()
    if accept:
        previous = case.assigned_to_id
        case.owner_agency = transfer.to_agency
        case.assigned_to = user
        case.full_clean()
        case.save(update_fields=["owner_agency", "assigned_to"])
        Person.objects.filter(pk=case.person_id).update(owner_agency=transfer.to_agency)
        Screening.objects.filter(
            person_id=case.person_id, owner_agency_id=transfer.from_agency_id
        ).update(owner_agency=transfer.to_agency)
        if case.sealed:
            _grant_sealed(user, case, [user], "accepted the transfer of a sealed case", request)
        keepers = User.objects.filter(pk__in=transfer.keep_access, is_active=True)
        _grant_sealed(
            user,
            case,
            keepers,
            "kept access after the case was transferred",
            request,
            days=KEEP_ACCESS_DAYS,
        )
        _event(case, user, EventKind.ASSIGNED, at=now, previous=previous, to=user.pk)
    details = {
        "transfer": str(transfer.pk),
        "status": transfer.status,
        "from": transfer.from_agency.code,
        "to": transfer.to_agency.code,
    }
    _event(case, user, EventKind.TRANSFER_DECIDED, at=now, **details)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=transfer,
        fields=["status"],
        details=details,
        request=request,
    )
    if accept:
        audit_record(
            actor=user,
            action=Action.UPDATE,
            obj=case,
            fields=["owner_agency", "assigned_to"],
            details=details,
            request=request,
        )
    return transfer


@transaction.atomic
def case_transfer_cancel(*, user, transfer: CaseTransfer, request=None) -> CaseTransfer:
    """The proposing agency withdraws a transfer that was not decided yet."""
    permissions.require(user, "case", permissions.CHANGE, request=request)
    transfer = CaseTransfer.objects.select_for_update().get(pk=transfer.pk)
    if user.agency_id != transfer.from_agency_id:
        raise permissions.deny(user, "case_transfer", "cancel", transfer.pk, request)
    if transfer.status != TransferStatus.PROPOSED:
        raise ValidationError(_("This transfer was already decided."))
    transfer.status = TransferStatus.CANCELLED
    transfer.decided_at = timezone.now()
    transfer.decided_by = user
    transfer.full_clean()
    transfer.save()
    details = {"transfer": str(transfer.pk), "status": transfer.status}
    _event(transfer.case, user, EventKind.TRANSFER_DECIDED, **details)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=transfer,
        fields=["status"],
        details=details,
        request=request,
    )
    return transfer


# --- Deadline reminders (run by the background worker, see tasks.py) ----------------------

DUE_SOON = dt.timedelta(days=1)


@dataclass(frozen=True)
class Due:
    """Something a node must do for a case by a time: its SOP stage, or a repatriation step
    awaited from this node (``step``)."""

    case: Case
    since: dt.datetime
    due_at: dt.datetime
    step: str = ""


def _supervisors(agency_id) -> list[User]:
    return list(
        User.objects.filter(
            agency_id=agency_id, is_active=True, role_assignments__role=Role.SUPERVISOR
        ).distinct()
    )


def due_items(now) -> list[Due]:
    """Open cases whose stage is due within a day or overdue. Other apps' steps (the
    repatriation flow) add theirs through ``DUE_SOURCES``."""
    items = [
        Due(case=c, since=c.stage_entered_at, due_at=c.stage_due_at)
        for c in Case.objects.filter(
            closed_at__isnull=True, stage_due_at__isnull=False, stage_due_at__lte=now + DUE_SOON
        ).select_related("assigned_to", "owner_agency")
    ]
    for source in DUE_SOURCES:
        items.extend(source(now))
    return items


DUE_SOURCES: list = []


def stage_reminders_send(*, now=None) -> list[StageReminder]:
    """Remind the assignee (and, once overdue, the agency's supervisors) of each case whose
    stage or awaited step is due or overdue: one reminder per stage entry and threshold,
    however often this runs. Messages name the case reference only (DP-6)."""
    now = now or timezone.now()
    sent = []
    for item in due_items(now):
        threshold = ReminderThreshold.OVERDUE if item.due_at < now else ReminderThreshold.DUE
        try:
            reminder = _remind(item, threshold, now)
        except IntegrityError:  # another worker sent this one a moment ago
            continue
        if reminder is not None:
            sent.append(reminder)
    return sent


@transaction.atomic
def _remind(item: Due, threshold: str, now) -> StageReminder | None:
    case = item.case
    key = {
        "case": case,
        "stage": case.stage,
        "step": item.step,
        "since": item.since,
        "threshold": threshold,
    }
    if StageReminder.objects.filter(**key).exists():
        return None
    recipients = [case.assigned_to] if case.assigned_to and case.assigned_to.is_active else []
    if threshold == ReminderThreshold.OVERDUE or not recipients:
        recipients += [u for u in _supervisors(case.owner_agency_id) if u not in recipients]
    with transaction.atomic():
        reminder = StageReminder.objects.create(due_at=item.due_at, sent_at=now, **key)
    reminder.recipients.set(recipients)
    _event(
        case,
        None,
        EventKind.REMINDER,
        at=now,
        threshold=threshold,
        stage=case.stage,
        step=item.step,
        recipients=[u.pk for u in recipients],
    )
    audit_record(
        actor=None,
        action=Action.CREATE,
        obj=reminder,
        details={"case": str(case.pk), "threshold": threshold, "step": item.step},
    )
    emails = [u.email for u in recipients if u.email]
    if emails:
        subject = f"[CTIP {settings.CTIP_NODE}] {case.reference}: " + (
            "overdue" if threshold == ReminderThreshold.OVERDUE else "due"
        )
        body = (
            f"Case {case.reference}, stage {case.stage}"
            + (f", step {item.step}" if item.step else "")
            + f", was due {item.due_at:%Y-%m-%d %H:%M} UTC."
        )
        transaction.on_commit(lambda: send_mail(subject, body, None, emails, fail_silently=True))
    return reminder
