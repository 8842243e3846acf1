"""Reads of the monitoring app, each taking the acting user: the dashboard's panels, the
statistics side by side, the received progress reports, the annual review pack."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from ctip.accounts import permissions
from ctip.monitoring import catalogue, charts, release
from ctip.monitoring import indicators as m
from ctip.monitoring.models import (
    SEX_COLUMNS,
    VICTIM_CATEGORIES,
    MonthlyStatistics,
    ReviewNote,
)

RESOURCE = "monitoring"


def _require(user, action=permissions.VIEW, request=None):
    permissions.require(user, RESOURCE, action, request=request)


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last twelve calendar months, this one included, as whole months (the grid on
    which tables leave the node, ``release``)."""
    from django.utils import timezone

    from ctip.monitoring.release import month_end

    today = today or timezone.localdate()
    first = today.replace(day=1)
    year, month = first.year, first.month - 11
    while month < 1:
        year, month = year - 1, month + 12
    return dt.date(year, month, 1), month_end(today)


def column_label(ind: m.Indicator, by: str, code: str) -> str:
    fixed = {
        "all": _("All"),
        "trained": _("Handled by trained officials"),
        "not_trained": _("Handled by others"),
        "median": _("Median days"),
    }
    if code in fixed and (not by or ind.compute is not None):
        return str(fixed[code])
    return m.dimension_label(ind.source, by, code) if by else str(fixed.get(code, code))


def row_label(ind: m.Indicator, code: str) -> str:
    if ind.over == "month":
        return code
    return m.dimension_label(ind.source, ind.over, code)


def by_label(by: str) -> str:
    names = {
        "sex": _("sex"),
        "age": _("age group"),
        "nationality": _("nationality"),
        "exploitation": _("form of exploitation"),
        "province": _("province of origin"),
        "result": _("screening result"),
        "need": _("need"),
        "status": _("status"),
        "cross_border": _("cross-border"),
        "track": _("track"),
    }
    return str(names.get(by, by))


def panel_title(code: str, by: str) -> str:
    ind = m.indicator(code)
    if not by:
        return ind.label()
    return f"{ind.label()} — {_('by %(what)s') % {'what': by_label(by)}}"


@dataclass
class Panel:
    indicator: m.Indicator
    by: str
    table: m.Table
    title: str
    rows: list[str]
    cols: list[str]
    chart: charts.Chart | None
    anchor: str
    # The period of its download: the dashboard's whole months, or, for a table published
    # by calendar year only (``release.by_year``), the year the period ends in.
    download_start: dt.date | None = None
    download_end: dt.date | None = None
    by_year: bool = False

    @property
    def body(self) -> list[tuple[str, list, object]]:
        """(row label, cells, row total) for the table beside the chart."""
        out = []
        for i, label in enumerate(self.rows):
            line = list(self.table.cells[i])
            total = sum(v or 0 for v in line) if self.table.kind == "count" else None
            out.append((label, line, total))
        return out


def panel(
    code: str, by: str, *, start: dt.date, end: dt.date, refresh: bool = False, memo=None
) -> Panel:
    ind = m.indicator(code)
    table = m.compute(code, start=start, end=end, by=by, cached=not refresh, rows_memo=memo)
    title = panel_title(code, by)
    rows = [row_label(ind, r) for r in table.rows]
    cols = [column_label(ind, by, c) for c in table.cols]
    chart = (
        charts.stacked_bars(rows, cols, [list(line) for line in table.cells], unit=ind.unit)
        if table.available
        else None
    )
    by_year = release.by_year(code)
    download = (dt.date(end.year, 1, 1), dt.date(end.year, 12, 31)) if by_year else (start, end)
    return Panel(
        ind,
        by,
        table,
        title,
        rows,
        cols,
        chart,
        f"{code.split('.')[-1]}-{by or 'all'}",
        *download,
        by_year,
    )


def dashboard(*, user, start: dt.date, end: dt.date, refresh: bool = False, request=None):
    """Every panel of the dashboard (each source read once)."""
    _require(user, request=request)
    memo: dict = {}
    return [
        panel(code, by, start=start, end=end, refresh=refresh, memo=memo)
        for code, by in catalogue.PANELS
    ]


def published_rows(pub: release.Published) -> list[list[str]]:
    """A published table (``release.published``: through the disclosure control, cut out
    of the protected year blocks) as labelled rows for a CSV file or the review pack: a
    header, one row per row code, and a total row when the table has its margins (a whole
    calendar year). Withheld values are shown as "<k"."""
    ind = m.indicator(pub.code)
    mark = f"<{pub.threshold}"
    total = str(_("Total"))
    rows = [row_label(ind, r) for r in pub.rows]
    cols = [column_label(ind, pub.by, c) for c in pub.cols]

    def show(v):
        return mark if v is None else str(v)

    if pub.kind == "count":
        out = [["", *cols, total]]
        for label, line, row_total in zip(rows, pub.cells, pub.row_totals or (), strict=True):
            out.append([label, *(show(v) for v in line), show(row_total)])
        if pub.col_totals is not None:
            out.append([total, *(show(v) for v in pub.col_totals), show(pub.total)])
        return out
    out = [["", *cols, str(_("Records"))]]
    for label, line, support in zip(rows, pub.cells, pub.support or (), strict=True):
        n = support[0] if support else 0
        if n is None:  # withheld: resting on fewer than k records
            out.append([label, *(mark for _v in line), mark])
        else:
            out.append([label, *("" if v is None else str(v) for v in line), str(n)])
    return out


# --- migration statistics ------------------------------------------------------------------


def statistics_rows(*, user, request=None):
    _require(user, request=request)
    return MonthlyStatistics.objects.all()


def access_statistics(user, pk, *, request=None) -> MonthlyStatistics:
    """Statistics are node-wide (no owning agency): any viewer may see any month."""
    _require(user, request=request)
    row = MonthlyStatistics.objects.filter(pk=pk).first()
    if row is None:
        raise permissions.deny(user, RESOURCE, permissions.VIEW, pk, request=request)
    return row


@dataclass
class SideBySide:
    month: dt.date
    own: MonthlyStatistics | None
    other: MonthlyStatistics | None


def side_by_side(*, user, request=None) -> list[SideBySide]:
    """Each month with this node's figures beside the other node's."""
    _require(user, request=request)
    here = settings.CTIP_NODE
    by_month: dict = {}
    for row in MonthlyStatistics.objects.order_by("-month"):
        slot = by_month.setdefault(row.month, SideBySide(row.month, None, None))
        if row.country == here:
            slot.own = row
        else:
            slot.other = row
    return list(by_month.values())


def victims_display(table: dict) -> list[tuple[str, list, object]]:
    """(category label, cells, row total) of a stored victims table."""
    from ctip.monitoring.sources import exploitation_label

    if not table or not table.get("cells"):
        return []
    return [
        (exploitation_label(cat), line, total)
        for cat, line, total in zip(table["rows"], table["cells"], table["row_totals"], strict=True)
    ]


def sex_columns() -> list[str]:
    from ctip.monitoring.sources import sex_label

    return [sex_label("female"), sex_label("male"), str(_("Other or unknown"))]


# --- progress reports received through the exchange --------------------------------------


def received_reports(*, user, request=None):
    """The other node's progress reports held here (the plan app receives them)."""
    _require(user, request=request)
    from ctip.plan.models import ProgressReport

    return ProgressReport.objects.exclude(received_from="").order_by("-received_at")


def sent_reports(*, user, request=None):
    _require(user, request=request)
    from ctip.plan.models import ProgressReport

    return ProgressReport.objects.filter(received_from="", sent_at__isnull=False).order_by(
        "-sent_at"
    )


# --- review notes --------------------------------------------------------------------------


def review_notes(*, user, year: int, request=None):
    _require(user, request=request)
    return ReviewNote.objects.filter(year=year)


__all__ = [
    "SEX_COLUMNS",
    "VICTIM_CATEGORIES",
    "dashboard",
    "default_period",
    "panel",
    "panel_title",
    "published_rows",
    "received_reports",
    "review_notes",
    "side_by_side",
]
