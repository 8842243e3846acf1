"""Charts drawn on the server as SVG (as the plan's timeline): stacked vertical bars, one
bar per table row (a month, or a stage), one colour per column (a disaggregation). No
JavaScript, no inline style (CSP); every bar segment carries a <title>; the page shows the
same numbers as a table beside the chart."""

from __future__ import annotations

from dataclasses import dataclass, field

PALETTE = (
    "#0b5cad",
    "#d9822b",
    "#1d7b46",
    "#b42318",
    "#6741d9",
    "#0e7c86",
    "#a61e4d",
    "#5c940d",
    "#495057",
    "#e8590c",
    "#1864ab",
    "#862e9c",
)
FONT = "Noto Sans, Noto Sans Khmer, Noto Sans SC, sans-serif"
LEFT, TOP, BOTTOM, PLOT_H = 48, 16, 64, 200


@dataclass
class Segment:
    x: int
    y: int
    w: int
    h: int
    fill: str
    title: str


@dataclass
class Tick:
    y: int
    label: str


@dataclass
class XLabel:
    x: int
    y: int
    text: str


@dataclass
class Chart:
    width: int
    height: int
    segments: list[Segment] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    xlabels: list[XLabel] = field(default_factory=list)
    legend: list[tuple[str, str, int, int]] = field(default_factory=list)  # label, fill, x, y
    plot_left: int = LEFT
    plot_top: int = TOP
    plot_bottom: int = TOP + PLOT_H
    font: str = FONT
    empty: bool = False


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    step = 10 ** (len(str(int(value))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * step:
            return factor * step
    return 10 * step


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def stacked_bars(
    row_labels: list[str], col_labels: list[str], cells: list[list], *, unit: str = ""
) -> Chart:
    """``cells[i][j]`` (None counts as 0) stacked per row ``i``."""
    n = max(1, len(row_labels))
    bar_w = 22 if n > 12 else 34
    gap = 10
    width = max(360, LEFT + n * (bar_w + gap) + 20)
    totals = [sum(v or 0 for v in line) for line in cells]
    top_value = _nice_max(max(totals, default=0))
    legend_rows = (len(col_labels) + 2) // 3
    height = TOP + PLOT_H + BOTTOM + legend_rows * 18 + 8
    chart = Chart(width=width, height=height, empty=not any(totals))
    for k in range(5):
        value = top_value * k / 4
        chart.ticks.append(Tick(TOP + PLOT_H - int(PLOT_H * k / 4), _fmt(value)))
    for i, label in enumerate(row_labels):
        x = LEFT + gap + i * (bar_w + gap)
        base = TOP + PLOT_H
        for j, col in enumerate(col_labels):
            value = cells[i][j] or 0
            if value <= 0:
                continue
            h = max(1, round(PLOT_H * value / top_value))
            base -= h
            words = [label, col, f"{_fmt(value)}{(' ' + unit) if unit else ''}"]
            chart.segments.append(
                Segment(
                    x, base, bar_w, h, PALETTE[j % len(PALETTE)], " · ".join(w for w in words if w)
                )
            )
        chart.xlabels.append(XLabel(x + bar_w // 2, TOP + PLOT_H + 14, label))
    for j, col in enumerate(col_labels):
        chart.legend.append(
            (
                col,
                PALETTE[j % len(PALETTE)],
                LEFT + (j % 3) * 170,
                TOP + PLOT_H + BOTTOM - 8 + (j // 3) * 18,
            )
        )
    return chart
