"""Indicators of law-enforcement cooperation (plan IV.1–IV.6), for this app's page and for
the plan and monitoring apps. Plain functions returning plain data: counts and medians, no
personal data, no text of any request or meeting.

Definitions (the period is inclusive, in the node's time zone; default: all time):

* **requests sent**: case-information requests this node sent in the period;
  **requests answered**: of those sent in the period, how many have their answer;
  **requests received / answered by us**: the same for requests from the other country.
* **median days to answer**: the median, over requests (of the given direction) answered
  in the period, of the days between sending and the answer, to one decimal.
* **meetings held**: investigation meetings with minutes (status held) whose first day is
  in the period, wherever held and whichever node recorded them.
* **cases addressed**: this node's law-enforcement cases that, in the period, had a request
  answered (either way) or were taken up at a meeting held.
* **focal officers active**: this country's taskforce members who, in the period, sent or
  answered a request (as user or as the addressed counterpart) or took part in a meeting
  held.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ctip.enforcement.models import (
    Direction,
    InfoRequest,
    LeCase,
    Meeting,
    MeetingStatus,
    Participant,
    RequestStatus,
    TaskforceMember,
)

__all__ = [
    "Summary",
    "cases_addressed",
    "focal_officers_active",
    "median_days_to_answer",
    "meetings_held",
    "requests_answered",
    "requests_sent",
    "summary",
]


def _bounds(start: dt.date | None, end: dt.date | None):
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz) if start else None
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz) if end else None
    return lo, hi


def _period(field: str, start, end) -> Q:
    lo, hi = _bounds(start, end)
    q = Q()
    if lo:
        q &= Q(**{f"{field}__gte": lo})
    if hi:
        q &= Q(**{f"{field}__lt": hi})
    return q


def _day_period(field: str, start, end) -> Q:
    q = Q()
    if start:
        q &= Q(**{f"{field}__gte": start})
    if end:
        q &= Q(**{f"{field}__lte": end})
    return q


def requests_sent(*, start=None, end=None, direction: str = Direction.OUTGOING) -> int:
    return InfoRequest.objects.filter(_period("sent_at", start, end), direction=direction).count()


def requests_answered(*, start=None, end=None, direction: str = Direction.OUTGOING) -> int:
    return InfoRequest.objects.filter(
        _period("sent_at", start, end), direction=direction, status=RequestStatus.ANSWERED
    ).count()


def median_days_to_answer(
    *, start=None, end=None, direction: str = Direction.OUTGOING
) -> float | None:
    rows = InfoRequest.objects.filter(
        _period("answered_at", start, end),
        direction=direction,
        status=RequestStatus.ANSWERED,
    ).values_list("sent_at", "answered_at")
    days = [(answered - sent).total_seconds() / 86400 for sent, answered in rows]
    return round(statistics.median(days), 1) if days else None


def meetings_held(*, start=None, end=None) -> int:
    return Meeting.objects.filter(
        _day_period("starts_on", start, end), status=MeetingStatus.HELD
    ).count()


def cases_addressed(*, start=None, end=None) -> int:
    answered = InfoRequest.objects.filter(
        _period("answered_at", start, end), status=RequestStatus.ANSWERED
    )
    held = Meeting.objects.filter(_day_period("starts_on", start, end), status=MeetingStatus.HELD)
    return (
        LeCase.objects.filter(
            Q(pk__in=answered.filter(le_case__isnull=False).values("le_case"))
            | Q(pk__in=held.values("le_cases"))
            | Q(reference__in=_referenced(held))
        )
        .distinct()
        .count()
    )


def _referenced(meetings) -> list[str]:
    refs: set[str] = set()
    for references in meetings.values_list("case_references", flat=True):
        refs.update(references or ())
    return sorted(refs)


def focal_officers_active(*, start=None, end=None) -> int:
    here = settings.CTIP_NODE
    members = TaskforceMember.objects.filter(country=here)
    sent = InfoRequest.objects.filter(_period("sent_at", start, end), direction=Direction.OUTGOING)
    answered = InfoRequest.objects.filter(
        _period("answered_at", start, end),
        direction=Direction.INCOMING,
        status=RequestStatus.ANSWERED,
    )
    attended = Participant.objects.filter(
        _day_period("meeting__starts_on", start, end),
        meeting__status=MeetingStatus.HELD,
        member__isnull=False,
    )
    return (
        members.filter(
            Q(pk__in=sent.filter(requester__isnull=False).values("requester"))
            | Q(pk__in=answered.values("counterpart"))
            | Q(pk__in=attended.values("member"))
        )
        .distinct()
        .count()
    )


@dataclass(frozen=True)
class Summary:
    start: dt.date | None
    end: dt.date | None
    requests_sent: int
    requests_answered: int
    median_days_to_answer: float | None
    requests_received: int
    requests_received_answered: int
    median_days_we_answer: float | None
    overdue_requests: int
    meetings_held: int
    cases_addressed: int
    focal_officers_active: int

    def as_dict(self) -> dict:
        data = asdict(self)
        data["start"] = self.start.isoformat() if self.start else None
        data["end"] = self.end.isoformat() if self.end else None
        return data


def summary(*, start: dt.date | None = None, end: dt.date | None = None) -> Summary:
    period = {"start": start, "end": end}
    incoming = {"direction": Direction.INCOMING, **period}
    today = timezone.localdate()
    return Summary(
        start=start,
        end=end,
        requests_sent=requests_sent(**period),
        requests_answered=requests_answered(**period),
        median_days_to_answer=median_days_to_answer(**period),
        requests_received=requests_sent(**incoming),
        requests_received_answered=requests_answered(**incoming),
        median_days_we_answer=median_days_to_answer(**incoming),
        overdue_requests=InfoRequest.objects.filter(
            status__in=[RequestStatus.SENT, RequestStatus.RECEIVED], deadline__lt=today
        ).count(),
        meetings_held=meetings_held(**period),
        cases_addressed=cases_addressed(**period),
        focal_officers_active=focal_officers_active(**period),
    )
