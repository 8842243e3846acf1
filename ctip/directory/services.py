"""Writes of the directory. Each runs in one transaction with its audit row.

Only node administrators and directory editors change entries (``directory``: create,
change), and only the entries of their own country: the other country's entries are
copies, changed at their owning node and received through the exchange. A change of a
published entry is queued for the other node in the same transaction (``sync``).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ctip.accounts import permissions
from ctip.accounts.models import Agency
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.directory import sync
from ctip.directory.codes import LANGUAGES
from ctip.directory.models import (
    AssessmentScore,
    Compliance,
    FocalPerson,
    FollowUpAction,
    FollowUpStatus,
    Service,
    ShelterAssessment,
    Standard,
    StandardsChecklist,
)
from ctip.directory.standards import STANDARDS_DIR, checklist_files, parse_checklist

DIRECTORY = "directory"
ASSESSMENT = "shelter_assessment"

# Fields a directory editor sets; the rest (id, country, version, times, users) are ours.
SERVICE_FIELDS = (
    "service_type",
    "sector",
    "provider",
    "name_en",
    "name_km",
    "name_zh_hans",
    "description_en",
    "description_km",
    "description_zh_hans",
    "serves_women",
    "serves_men",
    "serves_children",
    "nationalities",
    "city",
    "coverage_areas",
    "languages",
    "capacity",
    "places_available",
    "phone",
    "hotline",
    "email",
    "website",
    "hours",
    "address",
    "registration_status",
    "registration_number",
    "registration_authority",
    "registered_on",
    "renewal_due",
    "published",
)
FOCAL_PERSON_FIELDS = (
    "agency",
    "name_en",
    "name_km",
    "name_zh_hans",
    "title_en",
    "title_km",
    "title_zh_hans",
    "post_type",
    "post_city",
    "post_country",
    "responsibilities",
    "languages",
    "hours",
    "phone",
    "mobile",
    "email",
    "wechat",
    "telegram",
    "whatsapp",
    "preferred_channel",
    "appointed_on",
    "appointment_reference",
    "ends_on",
    "published",
)


@dataclass(frozen=True)
class ServiceInput:
    service_type: str
    sector: str
    provider: Agency
    name_en: str
    city: str
    name_km: str = ""
    name_zh_hans: str = ""
    description_en: str = ""
    description_km: str = ""
    description_zh_hans: str = ""
    serves_women: bool = True
    serves_men: bool = True
    serves_children: bool = False
    nationalities: list[str] = field(default_factory=list)
    coverage_areas: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    capacity: int | None = None
    places_available: int | None = None
    phone: str = ""
    hotline: str = ""
    email: str = ""
    website: str = ""
    hours: str = ""
    address: str = ""
    registration_status: str = "pending"
    registration_number: str = ""
    registration_authority: str = ""
    registered_on: datetime.date | None = None
    renewal_due: datetime.date | None = None
    published: bool = False


@dataclass(frozen=True)
class FocalPersonInput:
    agency: Agency
    name_en: str
    title_en: str
    post_type: str
    post_city: str
    post_country: str
    appointed_on: datetime.date
    languages: list[dict[str, str]]
    name_km: str = ""
    name_zh_hans: str = ""
    title_km: str = ""
    title_zh_hans: str = ""
    responsibilities: list[str] = field(default_factory=list)
    hours: str = ""
    phone: str = ""
    mobile: str = ""
    email: str = ""
    wechat: str = ""
    telegram: str = ""
    whatsapp: str = ""
    preferred_channel: str = ""
    appointment_reference: str = ""
    ends_on: datetime.date | None = None
    published: bool = False


# --- helpers ------------------------------------------------------------------------------


def checked_atomic(resource: str, action: str):
    """The permission check first, then the write in one transaction: a denial's security
    event is not rolled back with the write it refused."""

    def decorate(fn):
        atomic = transaction.atomic(fn)

        @functools.wraps(fn)
        def wrapper(*, user, request=None, **kwargs):
            permissions.require(user, resource, action, request=request)
            return atomic(user=user, request=request, **kwargs)

        return wrapper

    return decorate


def validate(obj) -> None:
    """``full_clean`` with one message per problem: the model's ``clean`` names the field;
    the same rule as a database constraint would repeat it without a field."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        errors = exc.message_dict
        field_messages = {m for k, msgs in errors.items() if k != NON_FIELD_ERRORS for m in msgs}
        general = [m for m in errors.pop(NON_FIELD_ERRORS, []) if m not in field_messages]
        if general:
            errors[NON_FIELD_ERRORS] = general
        raise ValidationError(errors) from None


def _words(*values: Any) -> list[str]:
    out = []
    for value in values:
        if isinstance(value, list | tuple):
            out.extend(str(v) for v in value)
        elif value:
            out.append(str(value))
    return out


def service_search_text(s: Service) -> str:
    provider = s.provider
    words = _words(
        s.name_en,
        s.name_km,
        s.name_zh_hans,
        s.description_en,
        s.description_km,
        s.description_zh_hans,
        s.city,
        s.coverage_areas,
        provider.name_en,
        provider.name_km,
        provider.name_zh_hans,
        provider.code,
    )
    tags = [f"type:{s.service_type}", f"country:{s.country}"]
    tags += [f"lang:{code}" for code in s.languages]
    tags += [f"for:{who}" for who in ("women", "men", "children") if getattr(s, f"serves_{who}")]
    return " " + " ".join([*(w.lower() for w in words), *tags]) + " "


def focal_person_search_text(p: FocalPerson) -> str:
    agency = p.agency
    words = _words(
        p.name_en,
        p.name_km,
        p.name_zh_hans,
        p.title_en,
        p.title_km,
        p.title_zh_hans,
        p.post_city,
        agency.name_en,
        agency.name_km,
        agency.name_zh_hans,
        agency.code,
        [str(LANGUAGES.get(lang["code"], "")) for lang in p.languages or []],
    )
    tags = [f"post:{p.post_type}", f"country:{p.country}", f"in:{p.post_country}"]
    tags += [f"lang:{lang['code']}" for lang in p.languages or []]
    tags += [f"does:{r}" for r in p.responsibilities or []]
    return " " + " ".join([*(w.lower() for w in words), *tags]) + " "


def _require_local(entry) -> None:
    if entry.country != settings.CTIP_NODE:
        raise ValidationError(
            _("This entry belongs to the other country's directory and is changed there.")
        )


def _require_own_agency(agency: Agency | None, field_name: str) -> None:
    if agency is not None and agency.country != settings.CTIP_NODE:
        raise ValidationError({field_name: [_("Choose an agency of this node's country.")]})


def _apply(entry, changes: dict[str, Any], allowed: Iterable[str]) -> list[str]:
    allowed = set(allowed)
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not changeable: {', '.join(sorted(unknown))}")
    changed = []
    for name, value in changes.items():
        if isinstance(value, tuple):
            value = list(value)
        if getattr(entry, name) != value:
            setattr(entry, name, value)
            changed.append(name)
    return changed


# --- services -----------------------------------------------------------------------------


@checked_atomic(DIRECTORY, permissions.CREATE)
def service_create(*, user, data: ServiceInput, request=None) -> Service:
    _require_own_agency(data.provider, "provider")
    now = timezone.now()
    values = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(data).items()}
    values["provider"] = data.provider
    service = Service(
        country=settings.CTIP_NODE,
        created_by=user,
        updated_by=user,
        created_at=now,
        updated_at=now,
        **values,
    )
    if service.places_available is not None:
        service.availability_updated_at = now
    service.search_text = service_search_text(service)
    validate(service)
    service.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=service,
        details={"published": service.published, "type": service.service_type},
        request=request,
    )
    sync.entry_changed(actor=user, entry=service, changed=None, request=request)
    return service


@checked_atomic(DIRECTORY, permissions.CHANGE)
def service_update(*, user, service: Service, changes: dict[str, Any], request=None) -> Service:
    service = Service.objects.select_for_update().get(pk=service.pk)
    _require_local(service)
    if "provider" in changes:
        _require_own_agency(changes["provider"], "provider")
    changed = _apply(service, changes, SERVICE_FIELDS)
    if not changed:
        return service
    now = timezone.now()
    if "places_available" in changed:
        service.availability_updated_at = now
    service.version += 1
    service.updated_at = now
    service.updated_by = user
    service.search_text = service_search_text(service)
    validate(service)
    service.save()
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=service,
        fields=changed,
        details={"version": service.version, "published": service.published},
        request=request,
    )
    sync.entry_changed(actor=user, entry=service, changed=changed, request=request)
    return service


@checked_atomic(DIRECTORY, permissions.CREATE)
def focal_person_create(*, user, data: FocalPersonInput, request=None) -> FocalPerson:
    _require_own_agency(data.agency, "agency")
    now = timezone.now()
    values = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(data).items()}
    values["agency"] = data.agency
    person = FocalPerson(
        country=settings.CTIP_NODE,
        created_by=user,
        updated_by=user,
        created_at=now,
        updated_at=now,
        **values,
    )
    person.search_text = focal_person_search_text(person)
    validate(person)
    person.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=person,
        details={"published": person.published},
        request=request,
    )
    sync.entry_changed(actor=user, entry=person, changed=None, request=request)
    return person


@checked_atomic(DIRECTORY, permissions.CHANGE)
def focal_person_update(
    *, user, person: FocalPerson, changes: dict[str, Any], request=None
) -> FocalPerson:
    person = FocalPerson.objects.select_for_update().get(pk=person.pk)
    _require_local(person)
    if "agency" in changes:
        _require_own_agency(changes["agency"], "agency")
    changed = _apply(person, changes, FOCAL_PERSON_FIELDS)
    if not changed:
        return person
    person.version += 1
    person.updated_at = timezone.now()
    person.updated_by = user
    person.search_text = focal_person_search_text(person)
    validate(person)
    person.save()
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=person,
        fields=changed,
        details={"version": person.version, "published": person.published},
        request=request,
    )
    sync.entry_changed(actor=user, entry=person, changed=changed, request=request)
    return person


# --- standards checklists -----------------------------------------------------------------


class ChecklistChangedError(ValueError):
    """A stored checklist version's file was edited: make it a new version instead."""


@transaction.atomic
def checklist_load(path: Path) -> tuple[StandardsChecklist, bool]:
    """Store one checklist file's version if new. Returns (checklist, created)."""
    data = parse_checklist(path.read_bytes(), path.name)
    existing = StandardsChecklist.objects.filter(code=data.code, version=data.version).first()
    if existing is not None:
        if existing.digest != data.digest:
            raise ChecklistChangedError(
                f"{path.name}: {data.code} version {data.version} is already loaded with other "
                "content; save the changed standards as a new version"
            )
        return existing, False
    checklist = StandardsChecklist(
        code=data.code,
        version=data.version,
        country=data.country,
        title_en=data.title["en"],
        title_km=data.title["km"],
        title_zh_hans=data.title["zh_hans"],
        source=data.source,
        pass_mark=data.pass_mark,
        scale_labels=data.scale_labels,
        digest=data.digest,
    )
    validate(checklist)
    checklist.save()
    standards = []
    for s in data.standards:
        standard = Standard(
            checklist=checklist,
            code=s.code,
            order=s.order,
            area_code=s.area_code,
            area_en=s.area["en"],
            area_km=s.area["km"],
            area_zh_hans=s.area["zh_hans"],
            title_en=s.title["en"],
            title_km=s.title["km"],
            title_zh_hans=s.title["zh_hans"],
            guidance_en=s.guidance["en"],
            guidance_km=s.guidance["km"],
            guidance_zh_hans=s.guidance["zh_hans"],
            critical=s.critical,
            scale_min=s.scale_min,
            scale_max=s.scale_max,
            may_be_not_applicable=s.may_be_not_applicable,
        )
        validate(standard)
        standards.append(standard)
    Standard.objects.bulk_create(standards)
    audit_record(
        actor=None,
        action=Action.CREATE,
        obj=checklist,
        details={"code": data.code, "version": data.version, "standards": len(standards)},
    )
    return checklist, True


def checklist_sync(directory: Path = STANDARDS_DIR) -> list[StandardsChecklist]:
    """Load every checklist file not yet stored (idempotent)."""
    return [checklist_load(path)[0] for path in checklist_files(directory)]


# --- assessments and follow-up ------------------------------------------------------------


@dataclass(frozen=True)
class ScoreInput:
    standard_code: str
    score: int | None = None
    not_applicable: bool = False
    evidence: str = ""


def compliance_of(checklist: StandardsChecklist, scored: list[AssessmentScore]) -> str:
    applicable = [s for s in scored if not s.not_applicable]
    below = [s for s in applicable if s.score < checklist.pass_mark]
    if not below:
        return Compliance.MEETS
    if any(s.standard.critical for s in below):
        return Compliance.DOES_NOT_MEET
    return Compliance.PARTLY


@checked_atomic(ASSESSMENT, permissions.CREATE)
def assessment_record(
    *,
    user,
    service: Service,
    checklist: StandardsChecklist,
    assessed_on: datetime.date,
    assessing_agency: Agency,
    scores: list[ScoreInput],
    team: str = "",
    summary: str = "",
    next_assessment_due: datetime.date | None = None,
    request=None,
) -> ShelterAssessment:
    """Record a whole assessment: every standard of the checklist scored (or, where the
    standard allows it, marked not applicable), each within its own scale."""
    _require_local(service)
    assessment = ShelterAssessment(
        service=service,
        checklist=checklist,
        assessed_on=assessed_on,
        assessing_agency=assessing_agency,
        team=team,
        summary=summary,
        next_assessment_due=next_assessment_due,
        created_by=user,
        compliance=Compliance.DOES_NOT_MEET,  # set below, once the scores are checked
    )
    errors: dict[str, list[str]] = {}
    try:
        validate(assessment)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    standards = {s.code: s for s in checklist.standards.all()}
    given = {}
    for item in scores:
        if item.standard_code not in standards:
            errors.setdefault("scores", []).append(
                _("Unknown standard %(code)s.") % {"code": item.standard_code}
            )
        elif item.standard_code in given:
            errors.setdefault("scores", []).append(
                _("Standard %(code)s is scored twice.") % {"code": item.standard_code}
            )
        else:
            given[item.standard_code] = item
    scored = []
    for code, standard in standards.items():
        item = given.get(code)
        if item is None:
            errors[f"score_{code}"] = [_("Give a score.")]
            continue
        row = AssessmentScore(
            assessment=assessment,
            standard=standard,
            score=item.score,
            not_applicable=item.not_applicable,
            evidence=item.evidence,
        )
        try:
            row.full_clean(exclude=["assessment"])
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                key = "not_applicable" if name == "not_applicable" else "score"
                errors.setdefault(f"{key}_{code}", []).extend(messages)
        scored.append(row)
    if errors:
        raise ValidationError(errors)
    applicable = [s for s in scored if not s.not_applicable]
    assessment.score_total = sum(s.score for s in applicable)
    assessment.score_max = sum(s.standard.scale_max for s in applicable)
    assessment.compliance = compliance_of(checklist, scored)
    assessment.save(force_insert=True)
    AssessmentScore.objects.bulk_create(scored)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=assessment,
        details={
            "shelter": str(service.pk),
            "checklist": str(checklist),
            "result": assessment.compliance,
            "score": f"{assessment.score_total}/{assessment.score_max}",
        },
        request=request,
    )
    return assessment


@checked_atomic(ASSESSMENT, permissions.CHANGE)
def follow_up_create(
    *,
    user,
    assessment: ShelterAssessment,
    action: str,
    responsible: str,
    due_on: datetime.date,
    standard: Standard | None = None,
    request=None,
) -> FollowUpAction:
    _require_local(assessment.service)
    follow_up = FollowUpAction(
        assessment=assessment,
        standard=standard,
        action=action,
        responsible=responsible,
        due_on=due_on,
        created_by=user,
    )
    validate(follow_up)
    follow_up.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=follow_up,
        details={"assessment": str(assessment.pk), "due_on": due_on.isoformat()},
        request=request,
    )
    return follow_up


@checked_atomic(ASSESSMENT, permissions.CHANGE)
def follow_up_close(
    *,
    user,
    follow_up: FollowUpAction,
    status: str,
    completed_on: datetime.date,
    outcome: str,
    request=None,
) -> FollowUpAction:
    follow_up = FollowUpAction.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.status != FollowUpStatus.OPEN:
        raise ValidationError({"status": [_("This action is already closed.")]})
    if status not in (FollowUpStatus.DONE, FollowUpStatus.CANCELLED):
        raise ValidationError({"status": [_("Close it as done or cancelled.")]})
    follow_up.status = status
    follow_up.completed_on = completed_on
    follow_up.outcome = outcome
    follow_up.updated_at = timezone.now()
    validate(follow_up)
    follow_up.save()
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=follow_up,
        fields=["status", "completed_on", "outcome"],
        details={
            "status": status,
            "late": completed_on > follow_up.due_on,
        },
        request=request,
    )
    return follow_up
