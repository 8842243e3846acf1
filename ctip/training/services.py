"""Writes of the training app: the manual, trainings, participants, attendance, test
scores and certificates. Each checks the acting user's permission, validates, saves and
writes its audit row in the same transaction. Audit details never hold names."""

from __future__ import annotations

import calendar
import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.accounts.models import Agency, User
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.core.crypto import index_token
from ctip.training.models import (
    RESOURCE,
    Attendance,
    Certificate,
    Chapter,
    Language,
    ManualStatus,
    ManualVersion,
    Material,
    Participant,
    ParticipantSource,
    RevocationReason,
    TargetGroup,
    Training,
    TrainingSession,
    TrainingStatus,
)

NAME_PURPOSE = "training.participant.name"


def name_token(full_name: str) -> str:
    return index_token(full_name, NAME_PURPOSE)


def _require_manager(user, request=None) -> None:
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)


def require_organizer(user, training: Training, request=None) -> None:
    """Only managers from one of the training's organising agencies change it; anyone else
    gets the one "not found"."""
    if not permissions.can(user, RESOURCE, permissions.CHANGE) or not training.is_organizer(user):
        raise permissions.deny(user, RESOURCE, permissions.CHANGE, training.pk, request)


# --- Manual -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManualInput:
    version: str
    title_en: str
    title_km: str = ""
    title_zh_hans: str = ""
    languages: tuple[str, ...] = (Language.EN, Language.KM, Language.ZH_HANS)


def _check_languages(languages) -> list[str]:
    chosen = [lang for lang in Language.values if lang in set(languages)]
    unknown = set(languages) - set(Language.values)
    if unknown or not chosen:
        raise ValidationError({"languages": _("Choose one or more of English, Khmer, Chinese.")})
    return chosen


@transaction.atomic
def manual_create(*, user, data: ManualInput, request=None) -> ManualVersion:
    _require_manager(user, request)
    manual = ManualVersion(
        version=data.version.strip(),
        title_en=data.title_en.strip(),
        title_km=data.title_km.strip(),
        title_zh_hans=data.title_zh_hans.strip(),
        languages=_check_languages(data.languages),
        created_by=user,
    )
    manual.full_clean()
    manual.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=manual,
        details={"version": manual.version},
        request=request,
    )
    return manual


def _editable(manual: ManualVersion) -> None:
    if manual.is_frozen:
        raise ValidationError(
            _("A published manual version is frozen: make a new version to change it.")
        )


def _back_to_draft(manual: ManualVersion) -> None:
    """A change after review needs a new review."""
    if manual.status == ManualStatus.REVIEWED:
        manual.status = ManualStatus.DRAFT
        manual.reviewed_at = None
        manual.reviewed_by = None
        manual.save(update_fields=["status", "reviewed_at", "reviewed_by"])


@transaction.atomic
def manual_update(*, user, manual: ManualVersion, data: ManualInput, request=None) -> ManualVersion:
    _require_manager(user, request)
    manual = ManualVersion.objects.select_for_update().get(pk=manual.pk)
    _editable(manual)
    manual.title_en = data.title_en.strip()
    manual.title_km = data.title_km.strip()
    manual.title_zh_hans = data.title_zh_hans.strip()
    manual.languages = _check_languages(data.languages)
    manual.full_clean()
    manual.save()
    _back_to_draft(manual)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=manual,
        fields=["title", "languages"],
        request=request,
    )
    return manual


@dataclass(frozen=True)
class ChapterInput:
    number: int
    title_en: str = ""
    title_km: str = ""
    title_zh_hans: str = ""
    body_en: str = ""
    body_km: str = ""
    body_zh_hans: str = ""
    form_version: str = ""
    form_sha256: str = ""
    sop_version: str = ""


CHAPTER_FIELDS = (
    "number",
    "title_en",
    "title_km",
    "title_zh_hans",
    "body_en",
    "body_km",
    "body_zh_hans",
    "form_version",
    "form_sha256",
    "sop_version",
)


@transaction.atomic
def chapter_save(
    *,
    user,
    manual: ManualVersion,
    data: ChapterInput,
    chapter: Chapter | None = None,
    request=None,
) -> Chapter:
    """Add a chapter, or change one, of a manual version that is not published."""
    _require_manager(user, request)
    manual = ManualVersion.objects.select_for_update().get(pk=manual.pk)
    _editable(manual)
    if chapter is not None and chapter.manual_id != manual.pk:
        raise permissions.deny(user, RESOURCE, permissions.CHANGE, chapter.pk, request)
    chapter = chapter or Chapter(manual=manual)
    created = chapter._state.adding
    for name in CHAPTER_FIELDS:
        value = getattr(data, name)
        setattr(chapter, name, value.strip() if isinstance(value, str) else value)
    chapter.form_sha256 = chapter.form_sha256.lower()
    chapter.full_clean()
    chapter.save()
    _back_to_draft(manual)
    audit_record(
        actor=user,
        action=Action.CREATE if created else Action.UPDATE,
        obj=chapter,
        details={
            "manual": str(manual.pk),
            "number": chapter.number,
            "form_version": chapter.form_version,
            "sop_version": chapter.sop_version,
        },
        request=request,
    )
    return chapter


def manual_missing_texts(manual: ManualVersion) -> list[tuple[int, str]]:
    """(chapter number, language) pairs without a title and text, for the declared
    languages of the version."""
    missing = []
    for chapter in manual.chapters.order_by("number"):
        for language in manual.languages:
            if not chapter.has_language(language):
                missing.append((chapter.number, language))
    return missing


@transaction.atomic
def manual_review(*, user, manual: ManualVersion, request=None) -> ManualVersion:
    """A second person confirms the draft: complete in every declared language."""
    _require_manager(user, request)
    manual = ManualVersion.objects.select_for_update().get(pk=manual.pk)
    if manual.status != ManualStatus.DRAFT:
        raise ValidationError(_("Only a draft can be reviewed."))
    if manual.created_by_id == user.pk:
        raise ValidationError(_("A second person must review the manual version you drafted."))
    if not manual.chapters.exists():
        raise ValidationError(_("A manual version needs at least one chapter."))
    missing = manual_missing_texts(manual)
    if missing:
        raise ValidationError(
            _("Chapters without a title and text in a declared language: %(list)s")
            % {"list": ", ".join(f"{n} ({lang})" for n, lang in missing)}
        )
    manual.status = ManualStatus.REVIEWED
    manual.reviewed_at = timezone.now()
    manual.reviewed_by = user
    manual.full_clean()
    manual.save()
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=manual,
        fields=["status"],
        details={"status": manual.status},
        request=request,
    )
    return manual


@transaction.atomic
def manual_publish(*, user, manual: ManualVersion, request=None) -> ManualVersion:
    _require_manager(user, request)
    manual = ManualVersion.objects.select_for_update().get(pk=manual.pk)
    if manual.status != ManualStatus.REVIEWED:
        raise ValidationError(_("Only a reviewed manual version can be published."))
    manual.status = ManualStatus.PUBLISHED
    manual.published_at = timezone.now()
    manual.published_by = user
    manual.full_clean()
    manual.save()
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=manual,
        fields=["status"],
        details={"status": manual.status},
        request=request,
    )
    return manual


@transaction.atomic
def manual_new_version(*, user, source: ManualVersion, version: str, request=None) -> ManualVersion:
    """A new draft version with a copy of every chapter of ``source``."""
    manual = manual_create(
        user=user,
        data=ManualInput(
            version=version,
            title_en=source.title_en,
            title_km=source.title_km,
            title_zh_hans=source.title_zh_hans,
            languages=tuple(source.languages),
        ),
        request=request,
    )
    copies = []
    for chapter in source.chapters.all():
        copy = Chapter(manual=manual, **{name: getattr(chapter, name) for name in CHAPTER_FIELDS})
        copy.full_clean()
        copies.append(copy)
    Chapter.objects.bulk_create(copies)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=manual,
        details={"copied_from": str(source.pk), "chapters": len(copies)},
        request=request,
    )
    return manual


# --- Trainings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingInput:
    title: str
    type: str
    host_country: str
    place: str
    start_date: dt.date
    end_date: dt.date
    organizers: tuple[Agency, ...] = ()
    target_groups: tuple[str, ...] = ()
    trainers: str = ""
    manual: ManualVersion | None = None
    min_attendance_percent: int = 80
    pass_mark: Decimal | None = None
    certificate_valid_months: int | None = None


TRAINING_FIELDS = (
    "title",
    "type",
    "host_country",
    "place",
    "start_date",
    "end_date",
    "manual",
    "min_attendance_percent",
    "pass_mark",
    "certificate_valid_months",
)


def _apply_training(training: Training, data: TrainingInput) -> None:
    for name in TRAINING_FIELDS:
        value = getattr(data, name)
        setattr(training, name, value.strip() if isinstance(value, str) else value)
    groups = list(dict.fromkeys(data.target_groups))
    if set(groups) - set(TargetGroup.values):
        raise ValidationError({"target_groups": _("Unknown target group.")})
    training.target_groups = groups
    training.trainers = data.trainers.strip() or None
    if training.manual is not None and training.manual.status != ManualStatus.PUBLISHED:
        raise ValidationError({"manual": _("Use a published version of the manual.")})


@transaction.atomic
def training_create(*, user, data: TrainingInput, request=None) -> Training:
    """Plan a training. The creator's agency is always one of its organisers."""
    permissions.require(user, RESOURCE, permissions.CREATE, request=request)
    if not user.agency_id:
        raise ValidationError(_("Only a user of an agency can organise a training."))
    training = Training(created_by=user)
    _apply_training(training, data)
    training.full_clean()
    training.save(force_insert=True)
    training.organizers.set({user.agency_id, *(a.pk for a in data.organizers)})
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=training,
        details={"type": training.type, "host_country": training.host_country},
        request=request,
    )
    return training


@transaction.atomic
def training_update(*, user, training: Training, data: TrainingInput, request=None) -> Training:
    require_organizer(user, training, request)
    training = Training.objects.select_for_update().get(pk=training.pk)
    _apply_training(training, data)
    if training.sessions.exclude(date__range=(training.start_date, training.end_date)).exists():
        raise ValidationError(_("Some sessions fall outside the new dates."))
    training.full_clean()
    training.save()
    organizers = {user.agency_id, *(a.pk for a in data.organizers)}
    training.organizers.set(organizers)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=training,
        fields=list(TRAINING_FIELDS) + ["organizers", "target_groups", "trainers"],
        request=request,
    )
    return training


@transaction.atomic
def training_set_status(*, user, training: Training, status: str, request=None) -> Training:
    """Planned → held (once its last day has come) or cancelled."""
    require_organizer(user, training, request)
    training = Training.objects.select_for_update().get(pk=training.pk)
    if training.status != TrainingStatus.PLANNED or status not in (
        TrainingStatus.HELD,
        TrainingStatus.CANCELLED,
    ):
        raise ValidationError(_("Only a planned training can be marked held or cancelled."))
    if status == TrainingStatus.HELD and training.end_date > timezone.localdate():
        raise ValidationError(_("A training can be marked held from its last day on."))
    previous = training.status
    training.status = status
    training.full_clean()
    training.save(update_fields=["status"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=training,
        fields=["status"],
        details={"from": previous, "to": status},
        request=request,
    )
    return training


@dataclass(frozen=True)
class SessionInput:
    date: dt.date
    title: str
    hours: Decimal | None = None
    chapter: Chapter | None = None


@transaction.atomic
def session_add(*, user, training: Training, data: SessionInput, request=None) -> TrainingSession:
    require_organizer(user, training, request)
    if not training.start_date <= data.date <= training.end_date:
        raise ValidationError({"date": _("The session must fall within the training's dates.")})
    if data.chapter is not None and data.chapter.manual.status != ManualStatus.PUBLISHED:
        raise ValidationError({"chapter": _("Use a chapter of a published manual version.")})
    session = TrainingSession(
        training=training,
        date=data.date,
        title=data.title.strip(),
        hours=data.hours,
        chapter=data.chapter,
    )
    session.full_clean()
    session.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=session,
        details={"training": str(training.pk), "date": data.date.isoformat()},
        request=request,
    )
    return session


@dataclass(frozen=True)
class MaterialInput:
    kind: str
    title: str
    language: str
    manual: ManualVersion | None = None
    link: str = ""


@transaction.atomic
def material_add(*, user, training: Training, data: MaterialInput, request=None) -> Material:
    require_organizer(user, training, request)
    material = Material(
        training=training,
        kind=data.kind,
        title=data.title.strip(),
        language=data.language,
        manual=data.manual,
        link=data.link.strip(),
    )
    material.full_clean()
    material.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=material,
        details={"training": str(training.pk), "kind": material.kind},
        request=request,
    )
    return material


# --- Participants -------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantInput:
    full_name: str
    user: User | None = None
    agency: Agency | None = None
    agency_name: str = ""
    country: str = ""
    position: str = ""
    contact: str = ""
    sex: str = ""
    pre_score: Decimal | None = None
    post_score: Decimal | None = None


def build_participant(user, training: Training, data: ParticipantInput, source: str) -> Participant:
    """An unsaved, validated participant (shared by registration and import)."""
    if training.status == TrainingStatus.CANCELLED:
        raise ValidationError(_("The training was cancelled."))
    full_name = " ".join((data.full_name or "").split())
    if not full_name:
        raise ValidationError({"full_name": _("Give the participant's full name.")})
    agency, country, agency_name = data.agency, data.country, data.agency_name.strip()
    if data.user is not None:
        if not data.user.is_active:
            raise ValidationError({"user": _("This user account is disabled.")})
        agency = data.user.agency
        if agency is None:
            raise ValidationError({"user": _("This user belongs to no agency.")})
    if agency is not None:
        country = agency.country
        agency_name = ""
    elif not agency_name:
        raise ValidationError({"agency_name": _("Give the participant's agency.")})
    participant = Participant(
        training=training,
        user=data.user,
        full_name=full_name,
        position=data.position.strip() or None,
        contact=data.contact.strip() or None,
        name_token=name_token(full_name),
        agency=agency,
        agency_name=agency_name,
        country=country,
        sex=data.sex,
        pre_score=data.pre_score,
        post_score=data.post_score,
        source=source,
        registered_by=user,
    )
    participant.full_clean()
    return participant


@transaction.atomic
def participant_register(
    *,
    user,
    training: Training,
    data: ParticipantInput,
    source: str = ParticipantSource.FORM,
    request=None,
) -> Participant:
    require_organizer(user, training, request)
    participant = build_participant(user, training, data, source)
    participant.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=participant,
        fields=[f for f in Participant.PII_FIELDS if getattr(participant, f)],
        details={
            "training": str(training.pk),
            "external": participant.is_external,
            "country": participant.country,
            "source": source,
        },
        request=request,
    )
    return participant


@transaction.atomic
def participant_set_scores(
    *,
    user,
    participant: Participant,
    pre_score: Decimal | None,
    post_score: Decimal | None,
    request=None,
) -> Participant:
    require_organizer(user, participant.training, request)
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    participant.pre_score = pre_score
    participant.post_score = post_score
    participant.full_clean()
    participant.save(update_fields=["pre_score", "post_score"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=participant,
        fields=["pre_score", "post_score"],
        details={"training": str(participant.training_id)},
        request=request,
    )
    return participant


@transaction.atomic
def attendance_record(
    *, user, session: TrainingSession, present: set, request=None
) -> dict[str, int]:
    """Record who was present at one session; every other participant is absent."""
    training = session.training
    require_organizer(user, training, request)
    participants = list(training.participants.all())
    known = {str(p.pk) for p in participants}
    present = {str(pk) for pk in present}
    if present - known:
        raise ValidationError(_("Someone marked present is not a participant of this training."))
    now = timezone.now()
    existing = {str(a.participant_id): a for a in session.attendance.all()}
    for participant in participants:
        is_present = str(participant.pk) in present
        row = existing.get(str(participant.pk))
        if row is None:
            row = Attendance(session=session, participant=participant, recorded_by=user)
        elif row.present == is_present:
            continue
        row.present = is_present
        row.recorded_at = now
        row.recorded_by = user
        row.full_clean()
        row.save()
    counts = {"present": len(present), "absent": len(known) - len(present)}
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=session,
        fields=["attendance"],
        details=counts,
        request=request,
    )
    return counts


# --- Certificates -------------------------------------------------------------------------

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
CODE_LENGTH = 20  # 100 random bits: guessing a valid code is infeasible, see decisions.md


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a person types (any case, with dashes or spaces, O for 0, I or L for 1)."""
    text = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    return text.translate(str.maketrans("OIL", "011"))[: CODE_LENGTH + 1]


def format_code(code: str) -> str:
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last))


def attendance_percent(participant: Participant, sessions: int | None = None) -> int | None:
    """Share of the training's sessions attended, rounded down; None without sessions."""
    if sessions is None:
        sessions = participant.training.sessions.count()
    if not sessions:
        return None
    attended = participant.attendance.filter(present=True).count()
    return attended * 100 // sessions


def certificate_blockers(participant: Participant) -> list[str]:
    """Why this participant cannot be certified now (empty: they can)."""
    training = participant.training
    reasons = []
    if training.status != TrainingStatus.HELD:
        reasons.append(_t("The training has not been marked as held."))
    percent = attendance_percent(participant)
    if percent is None:
        reasons.append(_t("No sessions are recorded for this training."))
    elif percent < training.min_attendance_percent:
        reasons.append(
            _t("Attended %(got)s%% of sessions; %(need)s%% are needed.")
            % {"got": percent, "need": training.min_attendance_percent}
        )
    if training.pass_mark is not None and (
        participant.post_score is None or participant.post_score < training.pass_mark
    ):
        reasons.append(
            _t("The post-test score is below the pass mark of %(mark)s.")
            % {"mark": training.pass_mark}
        )
    if participant.certificates.filter(revoked_at__isnull=True).exists():
        reasons.append(_t("A certificate was already issued."))
    return reasons


@transaction.atomic
def certificate_issue(*, user, participant: Participant, request=None) -> Certificate:
    require_organizer(user, participant.training, request)
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    blockers = certificate_blockers(participant)
    if blockers:
        raise ValidationError(blockers)
    now = timezone.now()
    training = participant.training
    valid_until = (
        add_months(timezone.localdate(now), training.certificate_valid_months)
        if training.certificate_valid_months
        else None
    )
    certificate = Certificate(
        participant=participant,
        data_key=participant.data_key,
        code=new_code(),
        holder_name=participant.full_name,
        issued_at=now,
        issued_by=user,
        valid_until=valid_until,
    )
    certificate.full_clean()
    certificate.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=certificate,
        fields=["holder_name"],
        details={"participant": str(participant.pk), "training": str(training.pk)},
        request=request,
    )
    return certificate


@dataclass
class IssueResult:
    issued: list[Certificate] = field(default_factory=list)
    not_eligible: int = 0


@transaction.atomic
def certificates_issue_all(*, user, training: Training, request=None) -> IssueResult:
    """Issue a certificate to every participant who qualifies and has none yet."""
    require_organizer(user, training, request)
    result = IssueResult()
    for participant in training.participants.select_related("training", "data_key"):
        if certificate_blockers(participant):
            result.not_eligible += 1
            continue
        result.issued.append(certificate_issue(user=user, participant=participant, request=request))
    return result


@transaction.atomic
def certificate_revoke(*, user, certificate: Certificate, reason: str, request=None) -> Certificate:
    require_organizer(user, certificate.participant.training, request)
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.is_revoked:
        raise ValidationError(_("This certificate is already revoked."))
    if reason not in RevocationReason.values:
        raise ValidationError({"revocation_reason": _("Choose a reason.")})
    certificate.revoked_at = timezone.now()
    certificate.revoked_by = user
    certificate.revocation_reason = reason
    certificate.full_clean()
    certificate.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=certificate,
        fields=["revoked_at"],
        details={"reason": reason},
        request=request,
    )
    return certificate
