"""Retention (DP-7): a schedule per record class, legal holds, and the purge that
crypto-shreds what is past its retention. The schedule and its reasons: docs/retention.md.

Record classes (days from settings, each with an environment override):

- a **closed case** (and everything recorded in it, under the case's data key), shredded
  ``CTIP_RETENTION_CLOSED_CASE_DAYS`` after it was closed;
- a **person** (with their screenings, under the person's data key), shredded once nothing
  keeps them: no case left unshredded (open, closed too recently, on hold, under review),
  and nothing recorded about them for ``CTIP_RETENTION_NO_CASE_DAYS`` (their record and
  their last screening). A screening that led to no case, or a person registered and never
  screened, goes this way.

Never purged: an open case; a case with a request still waiting for a supervisor or an
approved emergency access (break-glass) or consent override the DPO has not reviewed yet;
a case whose repatriation is still under way; a record under a legal hold (a hold on a
person keeps their cases too; a hold on a case keeps its person).

Shredding destroys the record's data key (``wrapped`` emptied, ``shredded_at`` set, by
``core.services.data_keys_shred``), so every value encrypted under it is unreadable here
and, once the master key of older backups is destroyed, in every backup
(``core/backup.py``). In the same transaction the purge erases
what the key no longer opens (the ciphertext of the cases app's records under a shredded
key: pages then show empty fields instead of failing) and the keyed tokens that would still
let someone holding the node's index key test a guessed name: the person's search tokens
and their matching blocking-key tokens (``matching.PersonKey``). The same erasure applies to
records whose key was shredded by another route (a restore with ``--allow-shredded``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.cases.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseDocument,
    LegalHold,
    Person,
    RepatriationStatus,
    Screening,
)
from ctip.core.models import DataKey, EncryptedTextField
from ctip.core.services import data_keys_shred

#: Defaults (days). A closed victim case is kept seven years after closure: long enough
#: for a prosecution, a complaint or a return of the person to rely on it, the span most
#: case-management retention policies in the region use. A person who never had a case
#: (a screening that found no trafficking, a record never screened) two years after the
#: last thing recorded about them: long enough to recognise a repeat contact, short for
#: data about someone the node does not assist. Both are for the node's data protection
#: officer to set under national law (docs/retention.md).
DEFAULT_CLOSED_CASE_DAYS = 7 * 365
DEFAULT_NO_CASE_DAYS = 2 * 365

#: Ids per statement (far below SQLite's and PostgreSQL's limits on parameters).
_CHUNK = 500


@dataclass(frozen=True)
class Schedule:
    closed_case_days: int
    no_case_days: int

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"retention {name} must be a whole number of days, 1 or more")


def current_schedule() -> Schedule:
    return Schedule(
        closed_case_days=getattr(
            settings, "CTIP_RETENTION_CLOSED_CASE_DAYS", DEFAULT_CLOSED_CASE_DAYS
        ),
        no_case_days=getattr(settings, "CTIP_RETENTION_NO_CASE_DAYS", DEFAULT_NO_CASE_DAYS),
    )


@dataclass
class PurgeReport:
    applied: bool
    #: Closed cases past retention that were shredded (or, in a dry run, would be).
    cases: int = 0
    #: Persons shredded, and their screenings (under the person's key).
    persons: int = 0
    screenings: int = 0
    #: Past retention but kept: by a legal hold; by a request or review still waiting;
    #: by a repatriation still under way.
    kept_on_hold: int = 0
    kept_under_review: int = 0
    kept_repatriation: int = 0
    #: Erased under shredded keys (this run's and any shredded before by another route).
    records_erased: int = 0
    search_tokens_cleared: int = 0
    person_keys_deleted: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def changed(self) -> bool:
        counts = self.as_dict()
        del counts["applied"]
        for kept in ("kept_on_hold", "kept_under_review", "kept_repatriation"):
            del counts[kept]
        return any(counts.values())


# --- what is due ----------------------------------------------------------------------------


def _held_persons() -> QuerySet:
    return LegalHold.objects.filter(released_at__isnull=True, person__isnull=False).values(
        "person_id"
    )


def _held_cases() -> QuerySet:
    return LegalHold.objects.filter(released_at__isnull=True, case__isnull=False).values("case_id")


def _under_review() -> QuerySet:
    """Cases with a request a supervisor has not decided, or an approved emergency access or
    consent override that the DPO has not reviewed yet (the review needs the record)."""
    waiting = Q(status=ApprovalStatus.PENDING) | Q(
        status=ApprovalStatus.APPROVED, reviewed_at__isnull=True
    ) & ~Q(kind=ApprovalKind.CASE_CLOSURE)
    return Approval.objects.filter(waiting, case__isnull=False).values("case_id")


def _case_hold_q() -> Q:
    return Q(pk__in=_held_cases()) | Q(person_id__in=_held_persons())


def _case_review_q() -> Q:
    return Q(pk__in=_under_review())


def _case_repatriation_q() -> Q:
    return Q(repatriation__status=RepatriationStatus.ACTIVE)


def _live(qs: QuerySet) -> QuerySet:
    return qs.filter(data_key__shredded_at__isnull=True)


def due_cases(schedule: Schedule, now: dt.datetime) -> tuple[QuerySet, dict[str, int]]:
    """Closed cases past retention that nothing keeps, and how many others are kept."""
    cutoff = now - dt.timedelta(days=schedule.closed_case_days)
    past = _live(Case.objects.filter(closed_at__lte=cutoff))
    held = past.filter(_case_hold_q())
    review = past.exclude(_case_hold_q()).filter(_case_review_q())
    travel = past.exclude(_case_hold_q()).exclude(_case_review_q()).filter(_case_repatriation_q())
    due = past.exclude(_case_hold_q()).exclude(_case_review_q()).exclude(_case_repatriation_q())
    kept = {"hold": held.count(), "review": review.count(), "repatriation": travel.count()}
    return due, kept


def due_persons(schedule: Schedule, now: dt.datetime) -> tuple[QuerySet, int]:
    """Persons nothing keeps any more, and how many quiet persons a legal hold keeps."""
    case_cutoff = now - dt.timedelta(days=schedule.closed_case_days)
    quiet_since = now - dt.timedelta(days=schedule.no_case_days)
    recent = Q(created_at__gt=quiet_since) | Q(updated_at__gt=quiet_since)
    recent |= Q(submitted_at__gt=quiet_since)
    quiet = (
        _live(Person.objects.filter(created_at__lte=quiet_since))
        .exclude(pk__in=Screening.objects.filter(recent).values("person_id"))
        .exclude(
            pk__in=_live(
                Case.objects.filter(Q(closed_at__isnull=True) | Q(closed_at__gt=case_cutoff))
            ).values("person_id")
        )
    )
    keeping = _live(Case.objects.filter(_case_hold_q() | _case_review_q() | _case_repatriation_q()))
    held = quiet.filter(
        Q(pk__in=_held_persons()) | Q(pk__in=keeping.filter(_case_hold_q()).values("person_id"))
    )
    due = quiet.exclude(pk__in=_held_persons()).exclude(pk__in=keeping.values("person_id"))
    return due, held.count()


# --- shredding and erasing ------------------------------------------------------------------


def _chunks(ids: list) -> Iterator[list]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _encrypted_models() -> list[tuple[type[models.Model], list[str]]]:
    out = []
    for model in apps.get_app_config("cases").get_models():
        names = [f.attname for f in model._meta.fields if isinstance(f, EncryptedTextField)]
        if names:
            out.append((model, names))
    return out


def _erase_under_shredded_keys() -> int:
    """Blank the ciphertext of the cases app's records whose data key is destroyed: nothing
    can open it any more, and pages then show an empty field instead of failing."""
    erased = 0
    for model, names in _encrypted_models():
        holding = Q()
        for name in names:
            holding |= Q(**{f"{name}__isnull": False})
        erased += (
            model.objects.filter(data_key__shredded_at__isnull=False)
            .filter(holding)
            .update(**dict.fromkeys(names))
        )
    erased += (
        CaseDocument.objects.filter(data_key__shredded_at__isnull=False)
        .exclude(content=b"")
        .update(content=b"")
    )
    return erased


def _clear_keyed_tokens() -> tuple[int, int]:
    """Delete the keyed tokens of every shredded person: search tokens and matching
    blocking-key tokens (the "no keys" marker matching keeps for an unreadable person is
    not a token and stays, so that matching does not read the person again)."""
    cleared = (
        Person.objects.filter(data_key__shredded_at__isnull=False)
        .exclude(search_tokens="")
        .update(search_tokens="")
    )
    deleted = 0
    if apps.is_installed("ctip.matching"):
        from ctip.matching.models import PersonKey
        from ctip.matching.services import NO_KEYS

        deleted, _by_model = (
            PersonKey.objects.filter(person__data_key__shredded_at__isnull=False)
            .exclude(token=NO_KEYS)
            .delete()
        )
    return cleared, deleted


def retention_purge(
    *, apply: bool = False, now: dt.datetime | None = None, schedule: Schedule | None = None
) -> PurgeReport:
    """Crypto-shred every record past its retention that nothing keeps. A dry run
    (``apply=False``, the default) counts and changes nothing. Applied, it is one
    transaction (a failure leaves everything as it was) and writes one audit row with the
    counts when it changed anything; a second run finds nothing to do."""
    now = now or timezone.now()
    schedule = schedule or current_schedule()
    with transaction.atomic():
        cases, kept = due_cases(schedule, now)
        persons, held_persons = due_persons(schedule, now)
        case_keys = list(cases.values_list("data_key_id", flat=True))
        person_ids = list(persons.values_list("pk", flat=True))
        person_keys: set = set(persons.values_list("data_key_id", flat=True))
        screenings = 0
        for chunk in _chunks(person_ids):
            found = Screening.objects.filter(person_id__in=chunk)
            screenings += found.count()
            # Screenings are under their person's key; one under a key of its own goes too.
            person_keys.update(found.values_list("data_key_id", flat=True))
        report = PurgeReport(
            applied=apply,
            cases=len(case_keys),
            persons=len(person_ids),
            screenings=screenings,
            kept_on_hold=kept["hold"] + held_persons,
            kept_under_review=kept["review"],
            kept_repatriation=kept["repatriation"],
        )
        if not apply:
            return report
        data_keys_shred(key_ids=[*case_keys, *person_keys], now=now)
        report.records_erased = _erase_under_shredded_keys()
        report.search_tokens_cleared, report.person_keys_deleted = _clear_keyed_tokens()
        if report.changed:
            audit_record(
                actor=None,
                action=Action.DELETE,
                object_type="cases.retention",
                details={
                    **report.as_dict(),
                    "closed_case_days": schedule.closed_case_days,
                    "no_case_days": schedule.no_case_days,
                },
            )
    return report


# --- legal holds ----------------------------------------------------------------------------


def legal_hold_allowed(user) -> bool:
    """May this user place and release legal holds (on records they may see)? Supervisors,
    who seal cases, and the data protection officer, who reviews them."""
    return permissions.can(user, "case", permissions.SEAL) or permissions.can(
        user, "case", "review"
    )


def _may_hold(user, request, *, person_id=None, case_id=None) -> None:
    """``legal_hold_allowed``, on a record the user may see (else one "not found", logged,
    like every other refusal)."""
    if not legal_hold_allowed(user):
        raise permissions.deny(user, "legal_hold", permissions.CREATE, request=request)
    if case_id is not None:
        permissions.access(user, "case", Case.objects.all(), case_id, request=request)
    else:
        permissions.access(user, "person", Person.objects.all(), person_id, request=request)


def legal_hold_place(
    *, user, reason: str, person: Person | None = None, case: Case | None = None, request=None
) -> LegalHold:
    """Keep a person (and their cases) or a case (and its person) from the retention purge
    until the hold is released. The caller has fetched the record through ``access_*``.
    The right is checked before the transaction, so a refusal's security event stays."""
    if (person is None) == (case is None):
        raise ValueError("a legal hold names a person or a case")
    _may_hold(user, request, person_id=person and person.pk, case_id=case and case.pk)
    return _legal_hold_place(user=user, reason=reason, person=person, case=case, request=request)


@transaction.atomic
def _legal_hold_place(*, user, reason: str, person, case, request) -> LegalHold:
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for the legal hold.")]})
    record = person or case
    if not DataKey.objects.filter(pk=record.data_key_id, shredded_at__isnull=True).exists():
        raise ValidationError(_("This record was erased at the end of its retention."))
    hold = LegalHold(
        person=person,
        case=case,
        data_key_id=record.data_key_id,
        reason=reason.strip(),
        placed_by=user,
    )
    hold.full_clean()
    hold.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=hold,
        fields=["reason"],
        details={"person" if person else "case": str(record.pk)},
        request=request,
    )
    return hold


def legal_hold_release(*, user, hold: LegalHold, request=None) -> LegalHold:
    _may_hold(user, request, person_id=hold.person_id, case_id=hold.case_id)
    return _legal_hold_release(user=user, hold=hold, request=request)


@transaction.atomic
def _legal_hold_release(*, user, hold: LegalHold, request) -> LegalHold:
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if not hold.active:
        raise ValidationError(_("This legal hold was already released."))
    hold.released_at = timezone.now()
    hold.released_by = user
    hold.full_clean()
    hold.save(update_fields=["released_at", "released_by"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=hold,
        fields=["released_at"],
        details={
            "person" if hold.person_id else "case": str(hold.person_id or hold.case_id),
            "released": True,
        },
        request=request,
    )
    return hold
