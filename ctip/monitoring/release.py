"""What leaves the node: indicator tables on a fixed grid of periods (SECURITY.md #40, DP-9).

Suppressing small cells in one table is not enough when the period of a table is free:
two tables over periods that differ by a day, or by one month, are subtracted, and the
difference is a small count (``Jan–Apr`` minus ``Jan–Mar`` is April). And two tables over
overlapping periods may choose different complementary cells for the same month, which an
attacker combines. The defence here has three parts:

1. **A grid of periods.** A table that leaves the node covers whole calendar months: its
   ``start`` is the first day of a month and its ``end`` the last day of a month. A table
   whose rows are not months (the median days per SOP stage) covers exactly one calendar
   year. Any other period is refused (:class:`PeriodRefused`, naming the parameter), and
   the refusal is audited as a blocked differencing attempt (:func:`refusal_audit`).
2. **One protected block per calendar year.** A table over months is never protected on
   its own: each calendar year's table (12 months × the breakdown, with its margins) is
   protected once, by ``sdc.protect`` (deterministic), and any period of whole months is
   *cut out of* those blocks: each month's row with its row total, exactly as in its
   year's block. Column totals and the grand total are published only for a period that
   is exactly one calendar year, and are then the block's own. So every number that any
   download, API answer or review pack publishes is a number of one of the year blocks,
   and the same month's cell is withheld or shown the same way whatever period was asked:
   subtracting two tables gives zero or something the block already publishes, and the
   block's complementary suppression holds against all of them together.
3. **A release log** (``release_grid``; models ``ReleasedTable`` / ``TableRelease``): the
   records change (a victim identified late for March), so the same block is published in
   versions. Each new version is protected with the earlier ones in view (pins, then
   ``sdc.disclosures`` on each pair), so that neither a small count nor a small change
   can be recomputed from two versions; an indicator's month totals are released as their
   own table (``_margins``), so every breakdown shows them the same way.

No personal data here: codes and counts.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from ctip.audit.services import audit_security_event
from ctip.monitoring import indicators as m
from ctip.monitoring import sdc

__all__ = [
    "MAX_MONTHS",
    "PeriodRefused",
    "Published",
    "check_months",
    "check_period",
    "default_period",
    "month_end",
    "published",
    "refusal_audit",
    "release_grid",
    "whole_months",
]

MAX_MONTHS = 36
BLOCKED_EVENT = "statistics_differencing_blocked"
WITHHELD_EVENT = "statistics_differencing_withheld"
NOT_PUBLISHED = -1  # in a stored release's ``shown``: an entry the release did not cover


class PeriodRefused(ValueError):
    """A period that may not leave the node. ``parameter`` names the query parameter to fix
    ("start" or "end"); ``off_grid`` is True when the period is off the grid (a differencing
    attempt, audited), False when it is merely invalid (end before start, too long)."""

    def __init__(self, parameter: str, message: str, *, off_grid: bool):
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.off_grid = off_grid


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def whole_months(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The smallest period of whole months holding ``start`` … ``end``."""
    return start.replace(day=1), month_end(end)


def by_year(code: str) -> bool:
    """Tables whose rows are not months are published for one calendar year only."""
    ind = m.indicator(code)
    return ind.over != "month"


def default_period(code: str) -> tuple[dt.date, dt.date]:
    """The period of a table when none is asked: the last twelve months as whole months,
    or this calendar year for a table published by year."""
    from ctip.monitoring.selectors import default_period as twelve_months

    start, end = twelve_months()
    return _year(end.year) if by_year(code) else (start, end)


def check_period(code: str, start: dt.date, end: dt.date) -> None:
    """Refuse a period off the grid (see the module docstring)."""
    if end < start:
        raise PeriodRefused("end", _("The end of the period is before its start."), off_grid=False)
    if by_year(code):
        if (start.month, start.day) != (1, 1):
            raise PeriodRefused(
                "start",
                _("This table is published for whole calendar years: start on 1 January."),
                off_grid=True,
            )
        if (end.year, end.month, end.day) != (start.year, 12, 31):
            raise PeriodRefused(
                "end",
                _("This table is published for whole calendar years: end on 31 December."),
                off_grid=True,
            )
        return
    check_months(start, end)


def check_months(start: dt.date, end: dt.date) -> None:
    """Refuse a period that is not whole calendar months (at most ``MAX_MONTHS``): the grid
    of a table over months, also used for the figures of other apps' reports (the plan's
    progress reports)."""
    if end < start:
        raise PeriodRefused("end", _("The end of the period is before its start."), off_grid=False)
    if start.day != 1:
        raise PeriodRefused(
            "start",
            _("Periods are whole calendar months: start on the first day of a month."),
            off_grid=True,
        )
    if end != month_end(end):
        raise PeriodRefused(
            "end",
            _("Periods are whole calendar months: end on the last day of a month."),
            off_grid=True,
        )
    if len(m.months_between(start, end)) > MAX_MONTHS:
        raise PeriodRefused("end", _("Choose a period of at most three years."), off_grid=False)


def refusal_audit(
    *,
    user,
    code: str,
    by: str,
    start: dt.date,
    end: dt.date,
    refused: PeriodRefused,
    channel: str,
    request=None,
    object_type: str = "monitoring.indicator",
) -> None:
    """The evidence of a refused period off the grid (a blocked differencing attempt), kept
    although the request failed. Dates and codes only. ``object_type``: what was asked
    for (another app's report names its own)."""
    if not refused.off_grid:
        return
    audit_security_event(
        actor=user,
        event=BLOCKED_EVENT,
        object_type=object_type,
        object_id=code,
        details={
            "by": by,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "parameter": refused.parameter,
            "reason": "period_off_grid",
            "channel": channel,
        },
        request=request,
    )


@dataclass(frozen=True)
class Published:
    """A table as it may leave the node: codes (rows, cols) and counts, None where
    withheld. ``col_totals`` and ``total`` are None when the period is not one calendar
    year (or the table has no margins); ``support`` gives, for a table of values (medians),
    how many records stand behind each (None where withheld)."""

    code: str
    by: str
    start: dt.date
    end: dt.date
    threshold: int
    kind: str
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    cells: tuple[tuple, ...]
    row_totals: tuple | None
    col_totals: tuple | None
    total: int | None
    support: tuple | None = None
    available: bool = True
    reason: str = ""


def _year(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def published_for(
    code: str, by: str, *, start: dt.date, end: dt.date, k: int, user, channel: str, request
) -> Published:
    """:func:`published` for a user's request: a refused period is audited (a blocked
    differencing attempt when off the grid) and raised again for the caller to answer."""
    try:
        return published(
            code, by, start=start, end=end, k=k, user=user, channel=channel, request=request
        )
    except PeriodRefused as refused:
        refusal_audit(
            user=user,
            code=code,
            by=by,
            start=start,
            end=end,
            refused=refused,
            channel=channel,
            request=request,
        )
        raise


def published(
    code: str,
    by: str,
    *,
    start: dt.date,
    end: dt.date,
    k: int,
    user=None,
    channel: str = "download",
    request=None,
    cached: bool = True,
) -> Published:
    """The table of ``code`` by ``by`` over a period on the grid (refused otherwise, see
    ``check_period``), cut out of the protected year blocks, each block checked against
    the release log (``release_grid``) and the release recorded."""
    check_period(code, start, end)
    ind = m.indicator(code)
    base = {"code": code, "by": by, "start": start, "end": end, "threshold": k}
    release = {"user": user, "channel": channel, "request": request}
    if by_year(code):
        return _published_year(ind, by, start.year, k=k, cached=cached, base=base, **release)
    months = m.months_between(start, end)
    whole_year = (start, end) == _year(start.year)
    blocks = {}
    for year in sorted({int(month[:4]) for month in months}):
        first, last = _year(year)
        table = m.compute(code, start=first, end=last, by=by, cached=cached)
        if not table.available or table.kind != "count":
            return _unavailable(base, table)
        wanted = {i for i, month in enumerate(table.rows) if month in months}
        r, c = len(table.rows), len(table.cols)
        region = {(i, j) for i in wanted for j in range(c + 1)}
        if whole_year:
            region |= {(r, j) for j in range(c + 1)}
        linked: dict = {}
        if _shares_margins(ind, by):
            linked = _margins(code, year, table, wanted, whole_year, k=k, release=release)
        blocks[year] = release_grid(
            table=code,
            by=by,
            block=str(year),
            rows=table.rows,
            cols=table.cols,
            counts=table.cells,
            region=region,
            k=k,
            **linked,
            **release,
        )
    cols: list[str] = []
    for protected in blocks.values():
        cols += [c for c in protected.cols if c not in cols]
    cells, row_totals = [], []
    for month in months:
        protected = blocks[int(month[:4])]
        i = protected.rows.index(month)
        line = dict(zip(protected.cols, protected.cells[i], strict=True))
        # A column the block does not have had no record in that year: a true zero.
        cells.append(tuple(line.get(c, 0) for c in cols))
        row_totals.append(protected.row_totals[i])
    only = blocks[start.year] if whole_year else None
    return Published(
        **base,
        kind="count",
        rows=tuple(months),
        cols=tuple(cols),
        cells=tuple(cells),
        row_totals=tuple(row_totals),
        col_totals=tuple(only.col_totals) if only else None,
        total=only.total if only else None,
    )


# The ``by`` of an indicator's margin table in the release log: the table with no breakdown
# (months × "all") is exactly its month totals and year total.
MARGINS = ""


def _shares_margins(ind: m.Indicator, by: str) -> bool:
    """Whether the table's row totals are the indicator's month totals (the same numbers
    in every breakdown): not when a row can count under several values of ``by``, nor
    for a table that is the indicator's only shape (no breakdown, or its own function)."""
    if ind.compute is not None or not by:
        return False
    return by not in m.source(ind.source).multi


def _margins(code, year, table, wanted, whole_year, *, k, release) -> dict:
    """The indicator's month totals and year total, released as their own table (months ×
    one column) through the release log, whatever breakdown asked: every breakdown then
    shows them the same way (``withhold`` / ``keep`` for ``release_grid``). Without this,
    a month total withheld in one breakdown to protect a cell, and shown in another, gives
    the cell back; or a breakdown never asked before shows a total that changed by one."""
    totals = [[sum(line)] for line in table.cells]
    r = len(table.rows)
    region = {(i, j) for i in wanted for j in (0, 1)}
    if whole_year:
        region |= {(r, 0), (r, 1)}
    p = release_grid(
        table=code,
        by=MARGINS,
        block=str(year),
        rows=table.rows,
        cols=("all",),
        counts=totals,
        region=region,
        k=k,
        **release,
    )
    c = len(table.cols)
    shown = {(i, c): p.row_totals[i] for i in range(r)} | {(r, c): p.total}
    in_region = {pos for pos in shown if pos[0] in wanted or (whole_year and pos[0] == r)}
    return {
        "withhold": {pos for pos, v in shown.items() if v is None},
        "keep": {pos for pos in in_region if shown[pos] is not None},
    }


def _unavailable(base: dict, table: m.Table) -> Published:
    return Published(
        **base,
        kind=table.kind,
        rows=(),
        cols=(),
        cells=(),
        row_totals=None,
        col_totals=None,
        total=None,
        available=False,
        reason=table.reason or "not a count over months",
    )


def _published_year(
    ind: m.Indicator, by: str, year: int, *, k: int, cached: bool, base: dict, **release
) -> Published:
    start, end = _year(year)
    table = m.compute(ind.code, start=start, end=end, by=by, cached=cached)
    if not table.available:
        return _unavailable(base, table)
    r, c = len(table.rows), len(table.cols)
    if table.kind == "count":
        p = release_grid(
            table=ind.code,
            by=by,
            block=str(year),
            rows=table.rows,
            cols=table.cols,
            counts=table.cells,
            region={(i, j) for i in range(r + 1) for j in range(c + 1)},
            k=k,
            **release,
        )
        return Published(
            **base,
            kind="count",
            rows=p.rows,
            cols=p.cols,
            cells=p.cells,
            row_totals=p.row_totals,
            col_totals=p.col_totals,
            total=p.total,
        )
    # Values (medians): each withheld with its number of records when that number is
    # withheld (fewer than k records, or the release log's choice). No margins are
    # published, so no complementary suppression is needed.
    support = table.support or tuple((0,) * c for _ in table.rows)
    p = release_grid(
        table=ind.code,
        by=by,
        block=str(year),
        rows=table.rows,
        cols=table.cols,
        counts=support,
        region={(i, j) for i in range(r) for j in range(c)},
        k=k,
        margins=False,
        **release,
    )
    cells = tuple(
        tuple(None if n is None else v for v, n in zip(line, shown, strict=True))
        for line, shown in zip(table.cells, p.cells, strict=True)
    )
    return Published(
        **base,
        kind=table.kind,
        rows=table.rows,
        cols=table.cols,
        cells=cells,
        row_totals=None,
        col_totals=None,
        total=None,
        support=p.cells,
    )


# --- the release log ------------------------------------------------------------------------


def _grid(p: sdc.Protected) -> list[list[int | None]]:
    grid = [[*line, total] for line, total in zip(p.cells, p.row_totals, strict=True)]
    grid.append([*p.col_totals, p.total])
    return grid


def _primary_only(rows, cols, counts, *, k: int, withhold) -> sdc.Protected:
    """For a table published without margins: each small count withheld, and the release
    log's choices; nothing else (no line can be added up)."""
    cells = tuple(
        tuple(None if 0 < n < k or (i, j) in withhold else n for j, n in enumerate(line))
        for i, line in enumerate(counts)
    )
    r, c = len(rows), len(cols)
    return sdc.Protected(
        rows=tuple(rows),
        cols=tuple(cols),
        cells=cells,
        row_totals=(None,) * r,
        col_totals=(None,) * c,
        total=None,
        threshold=k,
    )


def _as_release(rows, cols, counts, grid, region) -> sdc.Release:
    r, c = len(rows), len(cols)
    shown = tuple(
        tuple(grid[i][j] if (i, j) in region else None for j in range(c + 1)) for i in range(r + 1)
    )
    covered = tuple(tuple((i, j) in region for j in range(c + 1)) for i in range(r + 1))
    return sdc.Release(
        tuple(rows),
        tuple(cols),
        tuple(tuple(int(v) for v in line) for line in counts),
        shown,
        covered,
    )


def _stored(version) -> sdc.Release:
    shown = tuple(
        tuple(None if v is None or v == NOT_PUBLISHED else v for v in line)
        for line in version.shown
    )
    covered = tuple(tuple(v != NOT_PUBLISHED for v in line) for line in version.shown)
    return sdc.Release(
        tuple(version.rows),
        tuple(version.cols),
        tuple(tuple(line) for line in version.counts),
        shown,
        covered,
    )


def release_grid(
    *,
    table: str,
    by: str,
    block: str,
    rows: Sequence[str],
    cols: Sequence[str],
    counts: Sequence[Sequence[int]],
    region: set[tuple[int, int]],
    k: int,
    user=None,
    channel: str,
    request=None,
    margins: bool = True,
    withhold: set[tuple[int, int]] = frozenset(),
    keep: set[tuple[int, int]] = frozenset(),
) -> sdc.Protected:
    """Protect one block (a table of the grid) for publishing the entries in ``region``
    (positions of the grid with its margins), against every earlier release of the same
    block, and record the release.

    1. Pins: an entry withheld by an earlier release and unchanged since is withheld again
       (the same cell is suppressed the same way), and an entry that changed by fewer
       than k since an earlier release covered it is withheld (its change is a small count).
    2. ``sdc.protect`` with those pins (complementary suppression around them).
    3. ``sdc.disclosures`` against each earlier release: if the pair still gives away a
       small count or a small change, more is withheld and it is tried again.

    ``withhold`` and ``keep``: margins that another table (``_margins``) withholds or
    publishes, so that this one shows them the same way and never relies on withholding
    one that is published elsewhere.

    When the log made the table withhold more than the disclosure control alone, the
    blocked differencing is audited (``statistics_differencing_withheld``)."""
    from ctip.monitoring.models import ReleasedTable, TableRelease

    rows, cols = tuple(rows), tuple(cols)
    counts = tuple(tuple(int(v) for v in line) for line in counts)
    r, c = len(rows), len(cols)
    index_r = {code: i for i, code in enumerate(rows)} | {sdc.TOTAL: r}
    index_c = {code: j for j, code in enumerate(cols)} | {sdc.TOTAL: c}

    fixed, kept = set(withhold), set(keep)

    def protect(more) -> sdc.Protected:
        if margins:
            return sdc.protect(
                rows, cols, counts, threshold=k, withhold=(set(more) | fixed) - kept, keep=kept
            )
        return _primary_only(rows, cols, counts, k=k, withhold=set(more) | fixed)

    with transaction.atomic():
        holder, _created = ReleasedTable.objects.get_or_create(table=table, by=by, block=block)
        holder = ReleasedTable.objects.select_for_update().get(pk=holder.pk)
        earlier = [_stored(v) for v in holder.versions.all()]
        plain = protect(())
        new_true = _as_release(rows, cols, counts, _grid(plain), region).true()
        forced: set[tuple[int, int]] = set()
        for old in earlier:
            old_true = old.true()
            for pos, value in old.published().items():
                if pos[0] not in index_r or pos[1] not in index_c:
                    continue
                where = (index_r[pos[0]], index_c[pos[1]])
                change = new_true[pos] - old_true.get(pos, 0)
                if (value is None and change == 0) or 0 < abs(change) < k:
                    forced.add(where)
        p = protect(forced)
        for _attempt in range(2 * (r + c) + 4):
            new = _as_release(rows, cols, counts, _grid(p), region)
            leaks = set()
            for old in earlier:
                leaks |= sdc.disclosures(old, new, threshold=k)
            if not leaks:
                break
            grid = _grid(p)
            more = set()
            for _kind, (code_r, code_c) in leaks:
                if code_r not in index_r or code_c not in index_c:
                    continue
                i, j = index_r[code_r], index_c[code_c]
                if (i, j) in region and grid[i][j] is not None:
                    more.add((i, j))
                else:  # recomputed from its lines: withhold what they publish
                    more |= {
                        pos
                        for pos in region
                        if (pos[0] == i or pos[1] == j) and grid[pos[0]][pos[1]] is not None
                    }
            more -= kept
            if not more - forced:
                more = set(region) - kept
                if not more - forced:
                    break  # nothing left to withhold but what another table publishes
            forced |= more
            p = protect(forced)
        else:  # fail safe: publish nothing of this block
            p = protect(set(region) | {(i, j) for i in range(r + 1) for j in range(c + 1)})
        shown = [
            [v if (i, j) in region else NOT_PUBLISHED for j, v in enumerate(line)]
            for i, line in enumerate(_grid(p))
        ]
        record = {"rows": list(rows), "cols": list(cols), "counts": [list(x) for x in counts]}
        digest = hashlib.sha256(
            json.dumps({**record, "shown": shown}, sort_keys=True).encode()
        ).hexdigest()
        is_new = not holder.versions.filter(digest=digest).exists()
        if is_new:
            TableRelease.objects.create(
                released_table=holder,
                **record,
                shown=shown,
                digest=digest,
                channel=channel,
                released_by=user if getattr(user, "is_authenticated", False) else None,
            )
        plain_shown = [
            [v if (i, j) in region else NOT_PUBLISHED for j, v in enumerate(line)]
            for i, line in enumerate(_grid(plain))
        ]
        if is_new and shown != plain_shown:
            withheld = sum(
                1
                for a, b in zip(sum(shown, []), sum(plain_shown, []), strict=True)
                if a is None and b is not None
            )
            audit_security_event(
                actor=user,
                event=WITHHELD_EVENT,
                object_type="monitoring.indicator",
                object_id=table,
                details={
                    "by": by,
                    "block": block,
                    "withheld": withheld,
                    "reason": "earlier_release",
                    "channel": channel,
                    "earlier_versions": len(earlier),
                },
                request=request,
            )
    return p
