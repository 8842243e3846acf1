"""Disclosure control for the figures of a progress report (SECURITY.md DP-9, #40).

A progress report leaves the node: it is sent to the other node (``sync``), printed and
downloaded as a DOCX, and copied into the monitoring's review pack. Some of its indicators
count people who may be victims, or records about them. Their figures go through the
monitoring app's protection (``ctip.monitoring.release`` and ``sdc``), not a copy of it:

* **The period** of a report is whole calendar months (``release.check_months``); any
  other is refused, naming the field, and audited as ``statistics_differencing_blocked``
  (``release.refusal_audit``): two reports over 1–31 March and 3–31 March would subtract
  to the people of 1–2 March.
* **A count over the period** (screenings, case-information messages, messages): never
  published on its own. Its month counts are one block per calendar year in the monitoring
  release log (months × one column, with the year total), protected by ``sdc.protect``
  (small months withheld, and another month with them when the year total is shown) and
  checked against every earlier version of the block (``release.release_grid``: a month
  that changed by fewer than the threshold since it was published is withheld). The
  report's figure is the sum of its months as published, or the year total for a calendar
  year, and is withheld when one of its months is: two reports over overlapping periods
  then subtract to months that are 0 or at least the threshold, and a later report over
  the same period does not show a small change.
* **A count on a date** (persons recorded: a stock): one entry per month end in the log,
  withheld when small, when it changed by fewer than the threshold since it was published,
  or when it differs by fewer than the threshold from the figure of any other month end
  already published (the difference of two month ends is the people recorded between
  them).

Withheld figures are shown as "<k" (k the monitoring's threshold, ``CTIP_SDC_THRESHOLD``,
10 by default), as the monitoring shows a withheld cell. Values entered by hand (the other
country's figures) of these indicators are shown as "<k" when small.

The on-screen indicators page (``/plan/indicators/``) shows the same figures by the same
rules, for every user (no role sees the true counts): its period is refused unless whole
calendar months (audited with object ``plan.indicator`` and channel ``plan.page``), and
each figure goes through ``protect`` and the same release log as the reports, so a page
and a report over overlapping periods cannot be subtracted either.

Indicators deliberately not protected: plan versions, activities done and reports issued
(about the plan); focal persons and registered services (published directory entries);
police focal officers (accounts of officials); officials trained (officials in their public
role, trained jointly with the other side, which holds the same lists). Indicators of the
monitoring app (``monitoring.*``) are protected by the monitoring itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from ctip.audit.services import audit_security_event
from ctip.monitoring import release
from ctip.monitoring.indicators import months_between
from ctip.plan import indicators

__all__ = [
    "FLOWS",
    "STOCKS",
    "Figure",
    "check_period",
    "entered",
    "is_protected",
    "protect",
    "small_figures",
    "withheld",
]

# Counts over the period whose unit is a person or a record about one.
FLOWS = frozenset(
    {
        "cases.screenings_agreed_form",
        "exchange.case_information_messages",
        # Every message, case-information messages included.
        "exchange.messages_exchanged",
    }
)
# Counts on the period's end date, about people.
STOCKS = frozenset({"cases.persons_recorded"})

CHANNEL = "plan.report"
OBJECT_TYPE = "plan.progressreport"
REPORT_CODE = "plan.progress_report"
# The on-screen indicators page: its figures and its refused periods.
PAGE_CHANNEL = "plan.page"
PAGE_OBJECT_TYPE = "plan.indicator"
PAGE_CODE = "plan.indicators"
# The name of a plan figure's table in the monitoring release log.
TABLE_PREFIX = "plan:"
SERIES = "series"  # the stock's lock row in the log (no versions)


def is_protected(code: str) -> bool:
    return code in FLOWS or code in STOCKS


def withheld(k: int) -> str:
    """How a withheld figure is shown (the monitoring's "<k")."""
    return f"<{k}"


def threshold() -> int:
    from ctip.monitoring.services import threshold as monitoring_threshold

    return monitoring_threshold()


@dataclass(frozen=True)
class Figure:
    """A figure as it may leave the node: ``value`` None when withheld or not available."""

    value: int | Decimal | None
    available: bool
    withheld: bool = False
    note: str = ""


def check_period(
    *,
    user,
    start: dt.date,
    end: dt.date,
    request=None,
    code: str = REPORT_CODE,
    channel: str = CHANNEL,
    object_type: str = OBJECT_TYPE,
) -> None:
    """Refuse a period that is not whole calendar months (``release.PeriodRefused``
    naming ``start`` or ``end``), auditing an off-grid one as a blocked differencing
    attempt. A report's by default; the indicators page gives ``PAGE_CODE``,
    ``PAGE_CHANNEL`` and ``PAGE_OBJECT_TYPE``. Call it outside the transaction that would
    be rolled back."""
    try:
        release.check_months(start, end)
    except release.PeriodRefused as refused:
        release.refusal_audit(
            user=user,
            code=code,
            by="",
            start=start,
            end=end,
            refused=refused,
            channel=channel,
            request=request,
            object_type=object_type,
        )
        raise


def protect(
    code: str,
    *,
    country: str,
    start: dt.date,
    end: dt.date,
    k: int,
    user=None,
    request=None,
    channel: str = CHANNEL,
) -> Figure:
    """The figure of the computed indicator ``code`` for a report over ``start`` … ``end``
    (whole months: ``release.PeriodRefused`` otherwise), through the release log."""
    release.check_months(start, end)
    log = {"user": user, "request": request, "channel": channel}
    if code in STOCKS:
        return _stock(code, country=country, end=end, k=k, **log)
    if code in FLOWS:
        return _flow(code, country=country, start=start, end=end, k=k, **log)
    raise ValueError(f"{code} is not a protected indicator")


def _measure(code, *, country, start, end):
    return indicators.compute(code, country=country, start=start, end=end)


def _flow(code, *, country, start, end, k, **log) -> Figure:
    months = months_between(start, end)
    whole_year = start == dt.date(start.year, 1, 1) and end == dt.date(start.year, 12, 31)
    note = ""
    values: list[int | None] = []
    total = None
    for year in sorted({int(month[:4]) for month in months}):
        rows = tuple(f"{year:04d}-{month:02d}" for month in range(1, 13))
        counts = []
        for row in rows:
            first = dt.date(year, int(row[5:]), 1)
            measure = _measure(code, country=country, start=first, end=release.month_end(first))
            if not measure.available:
                return Figure(None, False, note=measure.note)
            note = note or measure.note
            counts.append([int(measure.value or 0)])
        wanted = {i for i, row in enumerate(rows) if row in months}
        region = {(i, j) for i in wanted for j in (0, 1)}
        if whole_year:
            region |= {(12, 0), (12, 1)}
        p = release.release_grid(
            table=TABLE_PREFIX + code,
            by="",
            block=str(year),
            rows=rows,
            cols=("all",),
            counts=counts,
            region=region,
            k=k,
            **log,
        )
        values += [p.row_totals[i] for i in sorted(wanted)]
        total = p.total
    if whole_year:
        return Figure(total, True, withheld=total is None, note=note)
    if any(v is None for v in values):
        return Figure(None, True, withheld=True, note=note)
    return Figure(sum(values), True, note=note)


def _stock(code, *, country, end, k, user, request, channel) -> Figure:
    from ctip.monitoring.models import ReleasedTable, TableRelease

    measure = _measure(code, country=country, start=end.replace(day=1), end=end)
    if not measure.available:
        return Figure(None, False, note=measure.note)
    value = int(measure.value or 0)
    table = TABLE_PREFIX + code
    with transaction.atomic():
        # One figure at a time per series: the check below reads every month end's.
        lock, _created = ReleasedTable.objects.get_or_create(table=table, by="", block=SERIES)
        ReleasedTable.objects.select_for_update().get(pk=lock.pk)
        month = f"{end.year:04d}-{end.month:02d}"
        others = TableRelease.objects.filter(released_table__table=table).exclude(
            released_table__block__in=(SERIES, month)
        )
        close = any(
            0 < abs(value - shown) < k
            for version in others
            for shown in (version.shown[0][0],)
            if shown is not None and shown != release.NOT_PUBLISHED
        )
        p = release.release_grid(
            table=table,
            by="",
            block=month,
            rows=(month,),
            cols=("all",),
            counts=[[value]],
            region={(0, 0)},
            k=k,
            margins=False,
            withhold={(0, 0)} if close else frozenset(),
            user=user,
            request=request,
            channel=channel,
        )
        if close and value >= k:
            audit_security_event(
                actor=user,
                event=release.WITHHELD_EVENT,
                object_type=OBJECT_TYPE,
                object_id=code,
                details={"block": month, "reason": "other_month_end", "channel": channel},
                request=request,
            )
    shown = p.cells[0][0]
    return Figure(shown, True, withheld=shown is None, note=measure.note)


def small_figures(content: dict, *, k: int) -> list[str]:
    """The plan indicator codes of a report's content whose figure of a protected indicator
    shows a count below ``k`` (a report issued before the disclosure control, or a
    tampered one): such a report is not sent."""
    from ctip.plan.models import Indicator

    protected = {
        code
        for code, computed in Indicator.objects.values_list("code", "computed")
        if is_protected(computed)
    }
    found = []
    for item in content.get("indicators", ()):
        if item.get("code") not in protected:
            continue
        for value in (item.get("values") or {}).values():
            try:
                number = Decimal(str(value.get("value")))
            except (ArithmeticError, ValueError, TypeError):
                continue  # withheld ("<k"), not available (None)
            if 0 < number < k:
                found.append(item["code"])
    return sorted(set(found))


def entered(value, *, k: int) -> tuple[object, bool]:
    """A value entered by hand for a protected indicator: (value, withheld)."""
    if value is not None and 0 < value < k:
        return None, True
    return value, False
