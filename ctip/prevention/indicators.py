"""Indicators of prevention (plan II.2: "tool packages disseminated to target groups"), for
this app's pages and for the plan and monitoring apps.

Plain functions returning plain data: counts of dissemination events and of people reached,
by sex and age group, channel, target group, country or year. No personal data is recorded
in dissemination at all (counts only). An event reaches several target groups at once, so
in ``reached_by("audience")`` one event's people count under each of its groups (the rows
do not add up to the total); every other breakdown adds up.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from ctip.accounts.models import Country
from ctip.prevention.models import (
    REACHED_FIELDS,
    AudienceGroup,
    CivilCertificate,
    DisseminationChannel,
    DisseminationEvent,
)

__all__ = [
    "BY_CHOICES",
    "Reached",
    "Row",
    "certificates_issued",
    "people_reached",
    "reached_by",
]

BY_CHOICES = ("channel", "audience", "country", "year")


@dataclass(frozen=True)
class Reached:
    events: int
    total: int
    female: int
    male: int
    unknown: int
    by_group: dict[str, int]  # REACHED_FIELDS -> count


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    events: int
    reached: int


def _events(country: str | None = None, start: dt.date | None = None, end: dt.date | None = None):
    qs = DisseminationEvent.objects.all()
    if country:
        qs = qs.filter(country=country)
    if start:
        qs = qs.filter(date__gte=start)
    if end:
        qs = qs.filter(date__lte=end)
    return qs


def people_reached(
    *, country: str | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> Reached:
    """Events and people reached, by sex and age group, in the period (dates inclusive)."""
    sums = _events(country, start, end).aggregate(
        events=Count("id"), **{name: Sum(name) for name in REACHED_FIELDS}
    )
    groups = {name: sums[name] or 0 for name in REACHED_FIELDS}
    female = sum(v for k, v in groups.items() if k.startswith("female"))
    male = sum(v for k, v in groups.items() if k.startswith("male"))
    return Reached(
        events=sums["events"],
        total=sum(groups.values()),
        female=female,
        male=male,
        unknown=groups["unknown"],
        by_group=groups,
    )


def reached_by(
    by: str,
    *,
    country: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[Row]:
    if by not in BY_CHOICES:
        raise ValueError(f"by must be one of {', '.join(BY_CHOICES)}")
    events = Counter()
    reached = Counter()
    for event in _events(country, start, end).only(
        "channel", "audiences", "country", "date", *REACHED_FIELDS
    ):
        if by == "audience":
            keys = event.audiences
        elif by == "year":
            keys = [str(event.date.year)]
        else:
            keys = [getattr(event, by)]
        for key in keys:
            events[key] += 1
            reached[key] += event.reached
    labels = {
        "channel": dict(DisseminationChannel.choices),
        "audience": dict(AudienceGroup.choices),
        "country": dict(Country.choices),
    }.get(by, {})
    return [
        Row(key=key, label=str(labels.get(key, key)), events=events[key], reached=reached[key])
        for key in sorted(events, key=lambda k: (-reached[k], k))
    ]


def certificates_issued(
    *, start: dt.date | None = None, end: dt.date | None = None
) -> dict[str, int]:
    """Singleness and marriage certificates issued by this node's authorities, and how many
    of them are revoked (counts only)."""
    qs = CivilCertificate.objects.all()
    if start:
        qs = qs.filter(issued_on__gte=start)
    if end:
        qs = qs.filter(issued_on__lte=end)
    return qs.aggregate(
        singleness=Count("id", filter=Q(doc_type="singleness")),
        marriage=Count("id", filter=Q(doc_type="marriage")),
        revoked=Count("id", filter=Q(revoked_at__isnull=False)),
    )
