"""Indicators of capacity building (plan V.1–V.3 and the expected results "cases handled
by trained law enforcement officials", "victims identified using the agreed form").

Plain functions returning plain data, for this app's pages and for the plan and monitoring
apps. No personal data leaves them: counts, shares and means only.

**Trained** means: holds a certificate of a training that was not revoked and had not
expired at the reference date (``as_of``, default today). Certificates are issued only to
participants who attended enough sessions (and passed the post-test where a pass mark is
set), so the certificate is the one record that says "this official completed it".

The cases app (persons, screenings, cases) is looked up with ``django.apps`` at call time
and may not exist, or may not have the fields expected: the share functions then report
``available=False`` with the reason instead of failing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ctip.training.models import Certificate, Participant, TrainingType

__all__ = [
    "BY_CHOICES",
    "CASE_USER_FIELDS",
    "SCREENING_USER_FIELDS",
    "Improvement",
    "Row",
    "Share",
    "cases_handled_by_trained",
    "officials_trained",
    "officials_trained_total",
    "screenings_handled_by_trained",
    "score_improvement",
    "trained_user_ids",
]

# Which user field of the cases app's models names the official who handled the record,
# in order of preference. The first that exists and points to the user model is used.
CASE_USER_FIELDS = ("assigned_to", "caseworker", "assigned_caseworker", "handled_by")
SCREENING_USER_FIELDS = ("screener", "screened_by", "interviewer", "created_by")
# A date-time (or date) field that says when the record was made, for the period filter.
CASE_DATE_FIELDS = ("opened_at", "created_at")
SCREENING_DATE_FIELDS = ("submitted_at", "interview_date", "created_at")

BY_CHOICES = ("country", "agency", "type")


def _today(as_of: dt.date | None) -> dt.date:
    return as_of or timezone.localdate()


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def _end_of(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` (in the node's time zone)."""
    return _start_of(day + dt.timedelta(days=1))


def _types(training_types: Iterable[str] | None) -> list[str] | None:
    if training_types is None:
        return None
    chosen = list(training_types)
    unknown = set(chosen) - set(TrainingType.values)
    if unknown:
        raise ValueError(f"unknown training type(s): {', '.join(sorted(unknown))}")
    return chosen


def valid_certificates(
    *, as_of: dt.date | None = None, training_types: Iterable[str] | None = None
) -> models.QuerySet[Certificate]:
    """Certificates that were issued by, not revoked by, and not expired at ``as_of``."""
    day = _today(as_of)
    end = _end_of(day)
    qs = Certificate.objects.filter(issued_at__lt=end).filter(
        Q(revoked_at__isnull=True) | Q(revoked_at__gte=end),
        Q(valid_until__isnull=True) | Q(valid_until__gte=day),
    )
    types = _types(training_types)
    if types is not None:
        qs = qs.filter(participant__training__type__in=types)
    return qs


def trained_user_ids(
    *, as_of: dt.date | None = None, training_types: Iterable[str] | None = None
) -> set[int]:
    """Users of this node who count as trained at ``as_of``."""
    return set(
        valid_certificates(as_of=as_of, training_types=training_types)
        .filter(participant__user__isnull=False)
        .values_list("participant__user_id", flat=True)
    )


# --- Officials trained by country, agency and type ----------------------------------------


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    count: int


def officials_trained(
    *,
    by: str,
    as_of: dt.date | None = None,
    since: dt.date | None = None,
    training_types: Iterable[str] | None = None,
) -> list[Row]:
    """Distinct trained officials per country, agency or training type, largest first.

    An official is a user of this node, or an external participant identified by the keyed
    token of their name and their country (the same person in two trainings counts once).
    By type, an official trained in two types counts in each. ``since`` keeps certificates
    issued on or after that day (e.g. the reporting year).
    """
    if by not in BY_CHOICES:
        raise ValueError(f"by must be one of {', '.join(BY_CHOICES)}")
    qs = valid_certificates(as_of=as_of, training_types=training_types)
    if since is not None:
        qs = qs.filter(issued_at__gte=_start_of(since))
    rows = qs.values(
        "participant__user_id",
        "participant__name_token",
        "participant__country",
        "participant__agency__code",
        "participant__agency__name_en",
        "participant__agency_name",
        "participant__training__type",
    ).distinct()
    seen: set[tuple[str, str]] = set()
    counts: Counter[str] = Counter()
    labels: dict[str, str] = {}
    for row in rows:
        user_id = row["participant__user_id"]
        country = row["participant__country"]
        official = (
            f"user:{user_id}"
            if user_id is not None
            else f"ext:{row['participant__name_token']}:{country}"
        )
        if by == "country":
            key, label = country, country
        elif by == "type":
            key = row["participant__training__type"]
            label = str(TrainingType(key).label)
        elif row["participant__agency__code"]:
            key, label = row["participant__agency__code"], row["participant__agency__name_en"]
        else:
            written = " ".join(row["participant__agency_name"].split())
            key, label = f"{country}:{written.casefold()}", written
        if (key, official) in seen:
            continue
        seen.add((key, official))
        counts[key] += 1
        labels.setdefault(key, label)
    return [Row(k, labels[k], n) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def officials_trained_total(
    *,
    country: str = "",
    since: dt.date | None = None,
    as_of: dt.date | None = None,
    training_types: Iterable[str] | None = None,
) -> int:
    """The number of distinct trained officials (of one country, if given): the plan's
    "officials trained" with the signature its indicator registry uses (country, start,
    end)."""
    rows = officials_trained(by="country", since=since, as_of=as_of, training_types=training_types)
    return sum(r.count for r in rows if not country or r.key == country)


# --- Share of cases and screenings handled by trained officials ----------------------------


@dataclass(frozen=True)
class Share:
    available: bool
    total: int = 0
    by_trained: int = 0
    model: str = ""
    user_field: str = ""
    date_field: str = ""
    reason: str = ""

    @property
    def percent(self) -> Decimal | None:
        if not self.available or not self.total:
            return None
        value = Decimal(self.by_trained * 100) / Decimal(self.total)
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _user_field(model, candidates: Iterable[str]) -> str | None:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    for name in candidates:
        try:
            f = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if getattr(f, "many_to_one", False) and f.related_model is user_model:
            return name
    return None


def _date_field(model, candidates: Iterable[str]) -> str | None:
    for name in candidates:
        try:
            f = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if isinstance(f, models.DateField):  # DateTimeField is a DateField too
            return name
    return None


def _share(
    model_name: str,
    user_fields: Iterable[str],
    date_fields: Iterable[str],
    *,
    since: dt.date | None,
    until: dt.date | None,
    training_types: Iterable[str] | None,
    only_submitted: bool = False,
) -> Share:
    label = f"cases.{model_name}"
    try:
        model = apps.get_model("cases", model_name)
    except LookupError:
        return Share(False, model=label, reason=f"{label} does not exist on this node")
    user_field = _user_field(model, user_fields)
    if user_field is None:
        return Share(False, model=label, reason=f"{label} has no user field that names the handler")
    qs = model._default_manager.filter(**{f"{user_field}__isnull": False})
    if only_submitted:
        try:
            status = model._meta.get_field("status")
        except FieldDoesNotExist:
            status = None
        if status is not None and "submitted" in {c[0] for c in status.choices or ()}:
            qs = qs.filter(status="submitted")  # a draft identified nobody yet
    date_field = _date_field(model, date_fields) if (since or until) else None
    if (since or until) and date_field is None:
        return Share(False, model=label, user_field=user_field, reason="no date field to filter on")
    if date_field:
        is_datetime = isinstance(model._meta.get_field(date_field), models.DateTimeField)
        if since:
            start = _start_of(since) if is_datetime else since
            qs = qs.filter(**{f"{date_field}__gte": start})
        if until:
            if is_datetime:
                qs = qs.filter(**{f"{date_field}__lt": _end_of(until)})
            else:
                qs = qs.filter(**{f"{date_field}__lte": until})
    trained = trained_user_ids(as_of=until, training_types=training_types)
    total = qs.count()
    by_trained = qs.filter(**{f"{user_field}__in": trained}).count() if trained else 0
    return Share(True, total, by_trained, label, user_field, date_field or "")


def cases_handled_by_trained(
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    training_types: Iterable[str] | None = None,
) -> Share:
    """Cases (opened in the period, if given) whose assigned caseworker counted as trained
    at the end of the period (or today). Cases with nobody assigned are not counted."""
    return _share(
        "Case",
        CASE_USER_FIELDS,
        CASE_DATE_FIELDS,
        since=since,
        until=until,
        training_types=training_types,
    )


def screenings_handled_by_trained(
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    training_types: Iterable[str] | None = None,
) -> Share:
    """Submitted screenings (identification forms) whose screener counted as trained.
    Pass ``training_types=["id_form_sop"]`` for "identified by officials trained on the
    agreed form"."""
    return _share(
        "Screening",
        SCREENING_USER_FIELDS,
        SCREENING_DATE_FIELDS,
        since=since,
        until=until,
        training_types=training_types,
        only_submitted=True,
    )


# --- Improvement between pre- and post-tests ----------------------------------------------


@dataclass(frozen=True)
class Improvement:
    participants: int  # with both scores
    mean_pre: Decimal | None
    mean_post: Decimal | None
    mean_change: Decimal | None
    improved: int  # post above pre

    @property
    def improved_percent(self) -> Decimal | None:
        if not self.participants:
            return None
        value = Decimal(self.improved * 100) / Decimal(self.participants)
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def score_improvement(
    *,
    training=None,
    training_types: Iterable[str] | None = None,
    host_country: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Improvement:
    """Mean pre- and post-test scores and their mean change over participants who sat both
    tests, for one training or for trainings (of some types, hosted by a country, ending
    within a period)."""
    qs = Participant.objects.filter(pre_score__isnull=False, post_score__isnull=False)
    if training is not None:
        qs = qs.filter(training=training)
    types = _types(training_types)
    if types is not None:
        qs = qs.filter(training__type__in=types)
    if host_country:
        qs = qs.filter(training__host_country=host_country)
    if since:
        qs = qs.filter(training__end_date__gte=since)
    if until:
        qs = qs.filter(training__end_date__lte=until)
    pairs = list(qs.values_list("pre_score", "post_score"))
    pre = [p for p, _ in pairs]
    post = [q for _, q in pairs]
    return Improvement(
        participants=len(pairs),
        mean_pre=_mean(pre),
        mean_post=_mean(post),
        mean_change=_mean([q - p for p, q in pairs]),
        improved=sum(1 for p, q in pairs if q > p),
    )
