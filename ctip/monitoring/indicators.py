"""The indicators of the Plan of Action, defined in one place as data.

An **indicator** is a name in three languages, a *source* of records, a *measure* over them
(count, or median of a value), a filter, and the *disaggregations* it may be broken down
by. A **source** turns this node's records in a period into plain rows: one dict per
counted unit with its ``month`` and its dimension codes (never a name or a free text).
The same rows feed every indicator on that source, so the dashboard reads each source once.

Other apps add theirs from their ``AppConfig.ready``::

    from ctip.monitoring import indicators as m

    m.register_source(m.Source("enforcement.cases", rows=my_rows,
                               dimensions={"offence": offence_label}))
    m.register(m.Indicator(
        code="enforcement.cases_opened",
        name={"en": "Law-enforcement cases opened", "km": "…", "zh-hans": "…"},
        source="enforcement.cases", by=("offence",)))

or, for a figure that is not a count over rows, ``Indicator(..., compute=fn)`` with
``fn(*, start, end, by) -> Table``.

Count indicators are also registered in the plan's registry (``ctip.plan.indicators``) under
their code, so a plan indicator can say ``computed: monitoring.victims_identified``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

__all__ = [
    "AGE_BANDS",
    "Indicator",
    "Source",
    "Table",
    "age_band",
    "compute",
    "indicator",
    "months_between",
    "register",
    "register_source",
    "registered",
]

# CTDC's age bands (its public dataset's "ageBroad"), also used by the HTCDS export.
AGE_BANDS = ("0-8", "9-17", "18-20", "21-23", "24-26", "27-29", "30-38", "39-47", "48+")
UNKNOWN = "unknown"


def age_band(age: int | None) -> str:
    if age is None or age < 0:
        return UNKNOWN
    for band in AGE_BANDS[:-1]:
        low, high = (int(x) for x in band.split("-"))
        if low <= age <= high:
            return band
    return AGE_BANDS[-1]


def months_between(start: dt.date, end: dt.date) -> list[str]:
    """``YYYY-MM`` of every month from ``start`` to ``end``."""
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@dataclass(frozen=True)
class Source:
    code: str
    rows: Callable[[dt.date, dt.date], Iterable[dict]]
    # dimension code → function giving the label of one of its values (active language)
    dimensions: dict[str, Callable[[str], str]] = field(default_factory=dict)
    # dimensions whose value is a list (a row counts once under each of its values)
    multi: frozenset[str] = frozenset()
    # the order of a dimension's values when it is fixed (otherwise: largest first)
    orders: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Indicator:
    code: str
    name: dict[str, str]  # en, km, zh-hans
    source: str = ""
    measure: str = "count"  # "count" or "median:<row key>"
    where: dict[str, tuple] = field(default_factory=dict)  # row key → values kept
    by: tuple[str, ...] = ()  # the disaggregations offered
    over: str = "month"  # the rows of the table: "month", or a dimension
    unit: str = ""
    note: dict[str, str] = field(default_factory=dict)
    compute: Callable | None = None  # fn(*, start, end, by) -> Table, for other measures
    plan: bool = True  # also answer in the plan's registry (counts only)

    def label(self, language: str | None = None) -> str:
        lang = (language or get_language() or "en").lower()
        key = "zh-hans" if lang.startswith("zh") else "km" if lang.startswith("km") else "en"
        return self.name.get(key) or self.name["en"]

    def note_label(self, language: str | None = None) -> str:
        if not self.note:
            return ""
        lang = (language or get_language() or "en").lower()
        key = "zh-hans" if lang.startswith("zh") else "km" if lang.startswith("km") else "en"
        return self.note.get(key) or self.note.get("en", "")


@dataclass(frozen=True)
class Table:
    """A computed table: ``cells[i][j]`` for row ``rows[i]`` and column ``cols[j]`` (codes;
    labels are looked up when shown). ``kind`` is "count" (additive, margins make sense) or
    "value" (medians, shares: no margins)."""

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    cells: tuple[tuple, ...]
    kind: str = "count"
    support: tuple[tuple[int, ...], ...] | None = None  # for "value": records behind each
    available: bool = True
    reason: str = ""

    @property
    def total(self) -> int:
        return sum(v or 0 for line in self.cells for v in line) if self.kind == "count" else 0

    def col_totals(self) -> list[int]:
        return [sum(line[j] or 0 for line in self.cells) for j in range(len(self.cols))]

    def row_totals(self) -> list[int]:
        return [sum(v or 0 for v in line) for line in self.cells]


_INDICATORS: dict[str, Indicator] = {}
_SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> Source:
    _SOURCES[source.code] = source
    return source


def register(ind: Indicator) -> Indicator:
    """Add (or replace) an indicator; count indicators answer in the plan's registry too."""
    if set(ind.name) - {"en", "km", "zh-hans"} or "en" not in ind.name:
        raise ValueError(f"{ind.code}: names are given in en, km and zh-hans")
    if ind.compute is None and not ind.source:
        raise ValueError(f"{ind.code}: give a source or a compute function")
    _INDICATORS[ind.code] = ind
    if ind.plan and ind.compute is None and ind.measure == "count":
        from ctip.plan import indicators as plan_indicators

        def for_plan(*, country, start, end, _code=ind.code):
            """The count for a plan indicator, which travels in progress reports: the
            sum of the month totals as published (``release``), withheld when one of them
            is; only for a period of whole calendar months."""
            from ctip.monitoring import release
            from ctip.monitoring.services import threshold

            try:
                pub = release.published(
                    _code, "", start=start, end=end, k=threshold(), channel="plan", cached=False
                )
            except release.PeriodRefused as refused:
                return plan_indicators.Measure(None, False, refused.message)
            if pub.total is not None:
                return pub.total
            if not pub.available or any(v is None for v in pub.row_totals or ()):
                return plan_indicators.Measure(None, False, "withheld: small counts")
            return sum(pub.row_totals)

        plan_indicators.register(ind.code, for_plan)
    return ind


def registered() -> list[Indicator]:
    return list(_INDICATORS.values())


def indicator(code: str) -> Indicator:
    try:
        return _INDICATORS[code]
    except KeyError:
        raise LookupError(f"no indicator {code!r}") from None


def source(code: str) -> Source:
    return _SOURCES[code]


def dimension_label(source_code: str, dimension: str, value: str) -> str:
    src = _SOURCES.get(source_code)
    fn = src.dimensions.get(dimension) if src else None
    return fn(value) if fn else value


# --- computing ---------------------------------------------------------------------------


def cache_seconds() -> int:
    return int(getattr(settings, "CTIP_MONITORING_CACHE_SECONDS", 600))


def _cache_key(code: str, start: dt.date, end: dt.date, by: str) -> str:
    return f"ctip:monitoring:{settings.CTIP_NODE}:{code}:{by}:{start}:{end}"


def compute(
    code: str,
    *,
    start: dt.date,
    end: dt.date,
    by: str = "",
    cached: bool = True,
    rows_memo: dict | None = None,
) -> Table:
    """The indicator's table for the period, broken down by ``by`` (a disaggregation or "").

    Cached for ``CTIP_MONITORING_CACHE_SECONDS`` (600 by default) in Django's cache;
    ``cached=False`` recomputes (and refreshes the cache). ``rows_memo`` shares the source
    rows between indicators computed together."""
    ind = indicator(code)
    if by and by not in ind.by:
        raise ValueError(f"{code} cannot be broken down by {by!r}")
    key = _cache_key(code, start, end, by)
    if cached:
        hit = cache.get(key)
        if hit is not None:
            return hit
    table = _compute(ind, start=start, end=end, by=by, rows_memo=rows_memo)
    cache.set(key, table, cache_seconds())
    return table


def _source_rows(src: Source, start, end, rows_memo) -> list[dict]:
    memo_key = (src.code, start, end)
    if rows_memo is not None and memo_key in rows_memo:
        return rows_memo[memo_key]
    rows = list(src.rows(start, end))
    if rows_memo is not None:
        rows_memo[memo_key] = rows
    return rows


def _compute(ind: Indicator, *, start, end, by, rows_memo) -> Table:
    if ind.compute is not None:
        return ind.compute(start=start, end=end, by=by)
    src = _SOURCES.get(ind.source)
    if src is None:
        return Table((), (), (), available=False, reason="the data is not in this system yet")
    rows = _source_rows(src, start, end, rows_memo)
    if ind.where:
        rows = [r for r in rows if all(r.get(k) in v for k, v in ind.where.items())]

    def values_of(row, dim):
        value = row.get(dim)
        if dim in src.multi:
            return list(value) or [UNKNOWN]
        return [value if value not in (None, "") else UNKNOWN]

    row_keys = months_between(start, end) if ind.over == "month" else None
    if ind.measure == "count":
        counts: Counter = Counter()
        for row in rows:
            for r in values_of(row, ind.over):
                if by:
                    for c in values_of(row, by):
                        counts[(r, c)] += 1
                else:
                    counts[(r, "all")] += 1
        if row_keys is None:
            row_keys = _ordered(src, ind.over, Counter({r: n for (r, _), n in counts.items()}))
        col_counts: Counter = Counter()
        for (_r, c), n in counts.items():
            col_counts[c] += n
        cols = _ordered(src, by, col_counts) if by else ["all"]
        cells = tuple(tuple(counts.get((r, c), 0) for c in cols) for r in row_keys)
        return Table(tuple(row_keys), tuple(cols), cells)
    if ind.measure.startswith("median:"):
        value_key = ind.measure.split(":", 1)[1]
        groups: dict = defaultdict(list)
        for row in rows:
            for r in values_of(row, ind.over):
                groups[r].append(row[value_key])
        if row_keys is None:
            row_keys = _ordered(src, ind.over, Counter({k: len(v) for k, v in groups.items()}))
        cells = tuple((_median(groups.get(r, [])),) for r in row_keys)
        support = tuple((len(groups.get(r, [])),) for r in row_keys)
        return Table(tuple(row_keys), ("median",), cells, kind="value", support=support)
    raise ValueError(f"{ind.code}: unknown measure {ind.measure!r}")


def _median(values: list) -> float | None:
    if not values:
        return None
    return round(float(statistics.median(values)), 1)


def _ordered(src: Source, dim: str, counts: Counter) -> list[str]:
    """A fixed order when the source gives one (every value shown, zeros too, then any
    value not in it); otherwise largest first."""
    order = src.orders.get(dim)
    if order:
        return list(order) + sorted(str(v) for v in counts if v not in order)
    return [v for v, _ in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))]
