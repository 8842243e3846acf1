"""Meetings recorded elsewhere that a finance meeting can be taken from, without retyping:
a joint training (``ctip.training``) or a law-enforcement investigation meeting
(``ctip.enforcement``, through its ``meetings_for_cost_sharing`` selector).

Each source answers through the acting user's permissions in its own app. What is taken:
title, host, place, dates, the Parties present and the programme. Officials named by the
enforcement app (it hands them to finance for this purpose) become delegation members; a
training's participants are trainees whose names the training app shows only to the
training's managers, so a training gives one delegation per country, without names.

Another source registers a loader with :func:`register`: ``loader(user, source_id)`` returns
a :class:`SourceMeeting` or None, ``lister(user)`` the ones the user may take.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps

from ctip.accounts.models import Country
from ctip.finance.models import MeetingKind, MeetingSource, MemberRole


@dataclass(frozen=True)
class SourceMember:
    name: str
    organisation: str = ""
    role: str = MemberRole.MEMBER
    user_id: int | None = None


@dataclass(frozen=True)
class SourceMeeting:
    source_type: str  # a MeetingSource value
    source_id: str
    title: str
    kind: str  # a MeetingKind value
    host_country: str
    place: str
    starts_on: dt.date
    ends_on: dt.date
    parties: frozenset[str]
    members: dict[str, tuple[SourceMember, ...]] = field(default_factory=dict)
    programme: tuple[tuple[dt.date, str], ...] = ()

    @property
    def source_label(self) -> str:
        return str(MeetingSource(self.source_type).label)


@dataclass(frozen=True)
class _Source:
    lister: Callable
    loader: Callable


_SOURCES: dict[str, _Source] = {}


def register(source_type: str, *, lister: Callable, loader: Callable) -> None:
    if source_type not in MeetingSource.values:
        raise ValueError(f"unknown meeting source {source_type!r}")
    _SOURCES[source_type] = _Source(lister, loader)


def available(user) -> list[SourceMeeting]:
    """Every meeting the user may take, of every installed source, by date."""
    found: list[SourceMeeting] = []
    for source in _SOURCES.values():
        found.extend(source.lister(user))
    return sorted(found, key=lambda m: (m.starts_on, m.title))


def load(user, source_type: str, source_id: str) -> SourceMeeting | None:
    source = _SOURCES.get(source_type)
    return source.loader(user, source_id) if source else None


def _parties(countries) -> frozenset[str]:
    return frozenset(c for c in countries if c in Country.values)


# --- Training ---------------------------------------------------------------------------------


def _training_meeting(training) -> SourceMeeting:
    countries = training.participants.values_list("country", flat=True).distinct()
    return SourceMeeting(
        source_type=MeetingSource.TRAINING,
        source_id=str(training.pk),
        title=training.title,
        kind=MeetingKind.TRAINING,
        host_country=training.host_country,
        place=training.place,
        starts_on=training.start_date,
        ends_on=training.end_date,
        parties=_parties({training.host_country, *countries}),
        programme=tuple((s.date, s.title) for s in training.sessions.order_by("date", "pk")),
    )


def _training_list(user) -> list[SourceMeeting]:
    from ctip.training import selectors  # noqa: PLC0415 - an optional app

    trainings = selectors.training_list(user=user).exclude(status="cancelled")
    return [_training_meeting(t) for t in trainings.prefetch_related("sessions")[:200]]


def _training_load(user, source_id: str) -> SourceMeeting | None:
    from ctip.accounts.permissions import NotFound  # noqa: PLC0415
    from ctip.training import selectors  # noqa: PLC0415

    try:
        training = selectors.access_training(user, source_id)
    except NotFound:
        return None
    if training.status == "cancelled":
        return None
    return _training_meeting(training)


# --- Law enforcement ------------------------------------------------------------------------


def _enforcement_meeting(row) -> SourceMeeting:
    members: dict[str, list[SourceMember]] = {}
    for p in row.participants:
        members.setdefault(p.country, []).append(
            SourceMember(
                name=p.name,
                organisation=p.organisation,
                role=p.role if p.role in MemberRole.values else MemberRole.MEMBER,
                user_id=p.user_id,
            )
        )
    return SourceMeeting(
        source_type=MeetingSource.ENFORCEMENT,
        source_id=row.id,
        title=row.title,
        kind=MeetingKind.MEETING,
        host_country=row.host_country,
        place=row.place,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        parties=_parties(row.countries),
        members={c: tuple(m) for c, m in members.items()},
    )


def _enforcement_rows(user):
    from ctip.enforcement import selectors  # noqa: PLC0415 - an optional app

    return selectors.meetings_for_cost_sharing(user=user)


def _enforcement_list(user) -> list[SourceMeeting]:
    return [_enforcement_meeting(r) for r in _enforcement_rows(user)]


def _enforcement_load(user, source_id: str) -> SourceMeeting | None:
    row = next((r for r in _enforcement_rows(user) if r.id == str(source_id)), None)
    return _enforcement_meeting(row) if row else None


def register_installed() -> None:
    """Register the sources whose apps are installed (from the AppConfig)."""
    if apps.is_installed("ctip.training"):
        register(MeetingSource.TRAINING, lister=_training_list, loader=_training_load)
    if apps.is_installed("ctip.enforcement"):
        from ctip.enforcement import selectors  # noqa: PLC0415

        if hasattr(selectors, "meetings_for_cost_sharing"):
            register(MeetingSource.ENFORCEMENT, lister=_enforcement_list, loader=_enforcement_load)
