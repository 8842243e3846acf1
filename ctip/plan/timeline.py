"""The timeline: a Gantt-style chart by year and area, drawn on the server as SVG.

Each activity is a row; each year its timeframe marks is a bar, one per country, coloured
by that country's status. Cells the draft left uncertain ("?", "??") are drawn dashed.
Every bar carries a <title> (read by screen readers and shown on hover); a table of the
same rows follows the chart on the page. No JavaScript, no inline styles (CSP).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ctip.plan.models import Status
from ctip.plan.selectors import ActivityRow

COLOURS = {
    Status.NOT_STARTED: "#9aa5b1",
    Status.IN_PROGRESS: "#0b5cad",
    Status.DONE: "#1d7b46",
    Status.BLOCKED: "#b42318",
}
COUNTRY_NAMES = {"KH": "Cambodia", "CN": "China"}
LABEL_W, YEAR_W, HEAD_H, AREA_H, PAD = 400, 150, 34, 30, 12
BAR_H = 10
FONT = "Noto Sans, Noto Sans Khmer, Noto Sans SC, sans-serif"


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to about ``limit`` characters without splitting a Khmer cluster (a
    consonant with its subscripts and vowel signs) or leaving a dangling subscript sign."""
    if len(text) <= limit:
        return text
    cut = limit
    while cut < len(text) and (
        unicodedata.category(text[cut]) in ("Mn", "Mc") or text[cut - 1] == "\u17d2"
    ):
        cut += 1
    return text[:cut].rstrip() + "…"


@dataclass
class Bar:
    x: int
    y: int
    w: int
    h: int
    fill: str
    dashed: bool
    title: str


@dataclass
class Row:
    y: int
    h: int
    label: str
    title: str
    href: str
    bars: list[Bar] = field(default_factory=list)
    country_labels: list[tuple[str, int]] = field(default_factory=list)
    no_timeframe: bool = False
    stripe: bool = False


@dataclass
class AreaBand:
    y: int
    title: str


@dataclass
class Chart:
    width: int
    height: int
    years: list[tuple[int, int]]  # (year, x)
    areas: list[AreaBand]
    rows: list[Row]
    legend: list[tuple[str, str, int]]  # (label, colour, x)
    legend_y: int
    label_w: int = LABEL_W
    year_w: int = YEAR_W
    head_h: int = HEAD_H
    font: str = FONT
    grid: list[int] = field(default_factory=list)


def build(rows: list[ActivityRow], years: list[int], countries: tuple[str, ...], url_for) -> Chart:
    """Lay out the chart for ``rows`` (already filtered) over ``years``."""
    lang = (get_language() or "en").lower()
    limit = 44 if lang.startswith("km") else 26 if lang.startswith("zh") else 52
    years = sorted(set(years) | {c.year for r in rows for c in r.activity.timeframe.all()})
    year_x = {year: LABEL_W + i * YEAR_W for i, year in enumerate(years)}
    width = LABEL_W + max(1, len(years)) * YEAR_W + PAD
    row_h = max(26, len(countries) * (BAR_H + 4) + 8)
    y = HEAD_H
    areas, out_rows = [], []
    current_area = None
    for index, row in enumerate(rows):
        activity = row.activity
        if activity.area_id != current_area:
            current_area = activity.area_id
            areas.append(AreaBand(y, f"{activity.area.code}. {activity.area.title}"))
            y += AREA_H
        label = f"{activity.number}  {activity.text}"
        chart_row = Row(
            y=y,
            h=row_h,
            label=shorten(label, limit),
            title=label,
            href=url_for(activity),
            stripe=index % 2 == 1,
        )
        cells = list(activity.timeframe.all())
        chart_row.no_timeframe = not cells
        top = y + (row_h - len(countries) * (BAR_H + 4) + 4) // 2
        for i, country in enumerate(countries):
            chart_row.country_labels.append((country, top + i * (BAR_H + 4) + BAR_H - 1))
        for cell in cells:
            if cell.year not in year_x:
                continue
            for i, country in enumerate(countries):
                update = row.statuses.get(country)
                status = update.status if update else Status.NOT_STARTED
                words = [
                    f"{activity.number}",
                    str(cell.year),
                    f"{_(COUNTRY_NAMES[country])}: {Status(status).label}",
                ]
                if update:
                    words.append(_("as of %(date)s") % {"date": update.as_of.isoformat()})
                if cell.note:
                    words.append(_("plan says: %(note)s") % {"note": cell.note})
                if cell.uncertain:
                    words.append(_("uncertain in the draft"))
                chart_row.bars.append(
                    Bar(
                        x=year_x[cell.year] + 6,
                        y=top + i * (BAR_H + 4),
                        w=YEAR_W - 12,
                        h=BAR_H,
                        fill=COLOURS[status],
                        dashed=cell.uncertain,
                        title=" · ".join(words),
                    )
                )
        out_rows.append(chart_row)
        y += row_h
    legend_y = y + 24
    legend, x = [], 0
    for status in Status:
        legend.append((str(status.label), COLOURS[status], x))
        x += 150
    height = legend_y + 30
    return Chart(
        width=width,
        height=height,
        years=[(year, year_x[year]) for year in years],
        areas=areas,
        rows=out_rows,
        legend=legend,
        legend_y=legend_y,
        grid=[year_x[year] for year in years] + [LABEL_W + len(years) * YEAR_W],
    )
