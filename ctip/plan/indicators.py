"""Computed indicators: a small registry of functions that count things in this node's data.

An indicator in the plan file names its function with ``computed: <code>``. Other apps'
models are looked up through ``django.apps.apps.get_model`` and every function checks that
the model (and the fields it needs) exist, so the plan app imports no domain app and keeps
working while those apps are being built: a missing model gives "not available yet".

Add one (also from another app's ``AppConfig.ready``)::

    from ctip.plan import indicators

    @indicators.register("training.officials_trained")
    def officials_trained(*, country, start, end):
        return Participant.objects.filter(...).count()   # or None when not measurable

A function returns a number, a ``Measure``, or ``None`` ("not available").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["Measure", "compute", "model_or_none", "register", "registered"]


@dataclass(frozen=True)
class Measure:
    value: int | Decimal | None
    available: bool = True
    note: str = ""


@dataclass(frozen=True)
class _Entry:
    fn: Callable
    this_node_only: bool


_REGISTRY: dict[str, _Entry] = {}


def register(code: str, fn: Callable | None = None, *, this_node_only: bool = True):
    """Register ``fn(*, country, start, end)`` under ``code``; usable as a decorator.

    ``this_node_only``: the data lives in this node's own records, so the function answers
    only for this node's country (the other country's figure comes from the other node)."""

    def decorate(func: Callable) -> Callable:
        _REGISTRY[code] = _Entry(func, this_node_only)
        return func

    return decorate(fn) if fn is not None else decorate


def registered() -> set[str]:
    return set(_REGISTRY)


def compute(code: str, *, country: str, start: date, end: date) -> Measure:
    entry = _REGISTRY.get(code)
    if entry is None:
        return Measure(None, False, "unknown computed indicator")
    if entry.this_node_only and country != settings.CTIP_NODE:
        return Measure(None, False, "reported by the other node")
    result = entry.fn(country=country, start=start, end=end)
    if result is None:
        return Measure(None, False, "the data is not in this system yet")
    if isinstance(result, Measure):
        return result
    return Measure(result)


# --- helpers for guarded look-ups ----------------------------------------------------


def model_or_none(label: str) -> type[models.Model] | None:
    """The model ``app_label.ModelName`` if that app defines it, else None."""
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def field_or_none(model: type[models.Model], *names: str) -> models.Field | None:
    """The first of ``names`` that the model has."""
    for name in names:
        try:
            return model._meta.get_field(name)
        except Exception:  # noqa: BLE001, S112 - FieldDoesNotExist: try the next name
            continue
    return None


def upto(model: type[models.Model], end: date, *names: str) -> models.Q | None:
    """A filter "recorded on or before ``end``" on the first date field of ``names``."""
    field = field_or_none(model, *names)
    if field is None:
        return None
    if isinstance(field, models.DateTimeField):
        limit = timezone.make_aware(datetime.combine(end, time.max))
        return models.Q(**{f"{field.name}__lte": limit})
    return models.Q(**{f"{field.name}__lte": end})


def within(model: type[models.Model], start: date, end: date, *names: str) -> models.Q | None:
    field = field_or_none(model, *names)
    if field is None:
        return None
    if isinstance(field, models.DateTimeField):
        low = timezone.make_aware(datetime.combine(start, time.min))
        high = timezone.make_aware(datetime.combine(end, time.max))
        return models.Q(**{f"{field.name}__gte": low, f"{field.name}__lte": high})
    return models.Q(**{f"{field.name}__gte": start, f"{field.name}__lte": end})


DATE_FIELDS = ("created_at", "recorded_at", "sent_at", "date", "screened_at", "held_on")


# --- built-in indicators ---------------------------------------------------------------


@register("plan.versions_agreed", this_node_only=False)
def versions_agreed(*, country, start, end):
    Endorsement = apps.get_model("plan", "Endorsement")
    per_version: dict = {}
    for version_id, party in Endorsement.objects.filter(endorsed_on__lte=end).values_list(
        "version_id", "party"
    ):
        per_version.setdefault(version_id, set()).add(party)
    return sum(1 for parties in per_version.values() if {"KH", "CN"} <= parties)


@register("plan.activities_done", this_node_only=False)
def activities_done(*, country, start, end):
    StatusUpdate = apps.get_model("plan", "StatusUpdate")
    latest: dict = {}
    rows = (
        StatusUpdate.objects.filter(
            country=country, step__isnull=True, as_of__lte=end, activity__withdrawn=False
        )
        .order_by("activity_id", "-as_of", "-recorded_at")
        .values_list("activity_id", "status")
    )
    for activity_id, status in rows:
        latest.setdefault(activity_id, status)
    return sum(1 for status in latest.values() if status == "done")


@register("plan.progress_reports")
def progress_reports(*, country, start, end):
    ProgressReport = apps.get_model("plan", "ProgressReport")
    return ProgressReport.objects.filter(
        country=country, created_at__date__gte=start, created_at__date__lte=end
    ).count()


@register("cases.persons_recorded")
def persons_recorded(*, country, start, end):
    """Persons in this node's database on ``end`` (a stock, not a flow)."""
    Person = model_or_none("cases.Person")
    if Person is None:
        return None
    when = upto(Person, end, *DATE_FIELDS)
    return Person.objects.filter(when).count() if when is not None else Person.objects.count()


@register("cases.screenings_agreed_form")
def screenings_agreed_form(*, country, start, end):
    """Screenings made in the period with the agreed (common) identification form."""
    Screening = model_or_none("cases.Screening")
    if Screening is None:
        return None
    period = within(Screening, start, end, *DATE_FIELDS)
    qs = Screening.objects.filter(period) if period is not None else Screening.objects.all()
    form = field_or_none(Screening, "form_version", "form")
    if form is not None and form.is_relation:
        flag = field_or_none(form.related_model, "agreed", "is_agreed")
        if flag is not None:
            return qs.filter(**{f"{form.name}__{flag.name}": True}).count()
        status = field_or_none(form.related_model, "status")
        if status is not None:
            return qs.filter(**{f"{form.name}__status": "agreed"}).count()
    # Every screening in this system is made with the common form.
    return Measure(qs.count(), True, "all screenings use the common form")


def _languages(value) -> set[str]:
    if isinstance(value, (list, tuple, set)):
        return {str(v).lower() for v in value}
    return {part.strip().lower() for part in str(value or "").replace(";", ",").split(",")}


def _published(model, qs):
    flag = field_or_none(model, "published", "is_published", "is_public")
    if flag is not None:
        return qs.filter(**{flag.name: True})
    status = field_or_none(model, "status")
    if status is not None:
        return qs.filter(status="published")
    return qs


@register("directory.focal_persons_km_zh")
def focal_persons_km_zh(*, country, start, end):
    FocalPerson = model_or_none("directory.FocalPerson")
    if FocalPerson is None:
        return None
    languages = field_or_none(FocalPerson, "languages")
    if languages is None or languages.is_relation:
        return None
    qs = _published(FocalPerson, FocalPerson.objects.all())
    when = upto(FocalPerson, end, *DATE_FIELDS)
    if when is not None:
        qs = qs.filter(when)
    return sum(
        1
        for value in qs.values_list(languages.name, flat=True)
        if {"km", "zh"} <= {lang.split("-")[0] for lang in _languages(value)}
    )


@register("directory.services_registered")
def services_registered(*, country, start, end):
    Service = model_or_none("directory.Service")
    if Service is None:
        return None
    qs = _published(Service, Service.objects.all())
    when = upto(Service, end, *DATE_FIELDS)
    return qs.filter(when).count() if when is not None else qs.count()


def _messages(start, end, message_type: str | None):
    Message = model_or_none("exchange.Message")
    if Message is None:
        return None
    period = within(Message, start, end, *DATE_FIELDS)
    qs = Message.objects.filter(period) if period is not None else Message.objects.all()
    if message_type:
        kind = field_or_none(Message, "type", "message_type", "kind")
        if kind is None:
            return None
        qs = qs.filter(**{kind.name: message_type})
    return qs.count()


@register("exchange.messages_exchanged")
def messages_exchanged(*, country, start, end):
    return _messages(start, end, None)


@register("exchange.case_information_messages")
def case_information_messages(*, country, start, end):
    return _messages(start, end, "case_information")


@register("training.officials_trained")
def officials_trained(*, country, start, end):
    """Distinct officials of ``country`` certified in the period and still holding a valid
    certificate at its end: the training app's own definition of "trained"
    (``ctip.training.indicators``), not a count of registrations."""
    if not apps.is_installed("ctip.training"):
        return None
    from ctip.training import indicators as training_indicators  # noqa: PLC0415

    return training_indicators.officials_trained_total(country=country, since=start, as_of=end)


@register("accounts.police_focal_officers")
def police_focal_officers(*, country, start, end):
    RoleAssignment = apps.get_model("accounts", "RoleAssignment")
    return (
        RoleAssignment.objects.filter(
            role="police_focal",
            user__is_active=True,
            user__agency__country=country,
            assigned_at__date__lte=end,
        )
        .values("user_id")
        .distinct()
        .count()
    )
