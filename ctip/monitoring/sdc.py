"""Statistical disclosure control: the one function every aggregate passes before it leaves
the node (to the peer, or as a download). No Django import.

A table is counts in rows × columns. It is published *with its margins* (row totals,
column totals, the grand total), so the published numbers satisfy additive relations: in
every row, the cells add up to the row total; in every column, to the column total; the
row totals and the column totals each add up to the grand total. Think of the table with
its margins as an (r+1) × (c+1) grid whose last row and last column hold the totals: every
line of that grid is one equation.

**Primary suppression**: a cell with 0 < n < threshold (default 10, as CTDC does) is
withheld. So is a small margin. Zeros are published: "nobody" discloses nothing about a
person, and hiding them would only hide structure.

**Complementary suppression**: a withheld entry could be recomputed from a line that has
it as its only unknown (total − the others). Withheld entries, seen as edges between the
grid's row-lines and column-lines, can be recomputed exactly when the edge is a *bridge*
of that graph (not on a cycle): on a cycle, adding +d, −d, +d … around it keeps every
equation true, so the value is not determined. The function therefore withholds more
entries (the smallest non-zero ones first, interior cells before totals) until no line
holds exactly one withheld entry and no withheld entry is a bridge. Cells on a cycle of
non-zero values can move both ways, so the attacker's interval contains more than one
value for every withheld cell.

**Noise** (optional): Laplace noise of scale 1/epsilon (a count's sensitivity is 1) added
to each interior cell, rounded and floored at 0, *before* suppression; the margins are
recomputed from the noisy cells, so published numbers stay consistent.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["DEFAULT_THRESHOLD", "Protected", "SUPPRESSED", "protect"]

DEFAULT_THRESHOLD = 10
SUPPRESSED = None  # a withheld value is None in ``Protected.cells`` and the margins


@dataclass(frozen=True)
class Protected:
    """A protected table: ``cells[i][j]``, ``row_totals[i]``, ``col_totals[j]`` and
    ``total`` are counts, or None where withheld. ``primary`` and ``secondary`` count the
    entries withheld for being small and to protect them."""

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...]
    col_totals: tuple[int | None, ...]
    total: int | None
    threshold: int
    primary: int = 0
    secondary: int = 0
    noise_epsilon: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def suppressed(self) -> int:
        return self.primary + self.secondary

    def as_rows(self, *, total_label: str = "Total", mark: str = "<10") -> list[list[str]]:
        """A header row and one row per row label, with a total column and a total row;
        withheld values shown as ``mark``."""

        def show(v):
            return mark if v is None else str(v)

        out = [["", *self.cols, total_label]]
        for label, cells, row_total in zip(self.rows, self.cells, self.row_totals, strict=True):
            out.append([label, *(show(v) for v in cells), show(row_total)])
        out.append([total_label, *(show(v) for v in self.col_totals), show(self.total)])
        return out


def _laplace(rng: random.Random, scale: float) -> float:
    # The difference of two exponentials with mean ``scale`` is Laplace(0, scale).
    return rng.expovariate(1 / scale) - rng.expovariate(1 / scale)


def protect(
    rows: Sequence[str],
    cols: Sequence[str],
    counts: Sequence[Sequence[int]],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    noise_epsilon: float | None = None,
    rng: random.Random | None = None,
) -> Protected:
    """Protect the table ``counts[i][j]`` (rows × cols, non-negative integers).

    ``threshold``: cells with 0 < n < threshold are withheld (1 disables suppression).
    ``noise_epsilon``: if given, Laplace noise of scale 1/epsilon is added first;
    ``rng`` (default: the system's secure generator) makes tests reproducible.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    r, c = len(rows), len(cols)
    if len(counts) != r or any(len(line) != c for line in counts):
        raise ValueError("counts must have one row per row label and one value per column")
    values = [[int(v) for v in line] for line in counts]
    if any(v < 0 for line in values for v in line):
        raise ValueError("counts must not be negative")
    notes: list[str] = []
    if noise_epsilon is not None:
        if not (noise_epsilon > 0 and math.isfinite(noise_epsilon)):
            raise ValueError("noise_epsilon must be a positive number")
        generator = rng or random.SystemRandom()
        scale = 1 / noise_epsilon
        values = [[max(0, round(v + _laplace(generator, scale))) for v in line] for line in values]
        notes.append(f"Laplace noise, epsilon {noise_epsilon:g}")

    # The grid with its margins: (r+1) × (c+1); the last row and column are totals.
    grid = [line + [sum(line)] for line in values]
    grid.append([sum(grid[i][j] for i in range(r)) for j in range(c + 1)])
    n_rows, n_cols = r + 1, c + 1
    hidden = [[False] * n_cols for _ in range(n_rows)]
    primary = 0
    for i in range(n_rows):
        for j in range(n_cols):
            if 0 < grid[i][j] < threshold:
                hidden[i][j] = True
                primary += 1

    secondary = 0
    if primary:
        secondary = _complement(grid, hidden, n_rows, n_cols)

    def out(i, j):
        return None if hidden[i][j] else grid[i][j]

    return Protected(
        rows=tuple(rows),
        cols=tuple(cols),
        cells=tuple(tuple(out(i, j) for j in range(c)) for i in range(r)),
        row_totals=tuple(out(i, c) for i in range(r)),
        col_totals=tuple(out(r, j) for j in range(c)),
        total=out(r, c),
        threshold=threshold,
        primary=primary,
        secondary=secondary,
        noise_epsilon=noise_epsilon,
        notes=tuple(notes),
    )


def _cost(grid, i, j, n_rows, n_cols) -> tuple:
    """Order of preference for complementary suppression: non-zero before zero (a zero
    moves only one way), interior before totals, small before large."""
    value = grid[i][j]
    is_margin = i == n_rows - 1 or j == n_cols - 1
    return (value == 0, is_margin, value, i, j)


def _complement(grid, hidden, n_rows, n_cols) -> int:
    added = 0
    while True:
        changed = False
        # 1. No line with exactly one withheld entry.
        for i in range(n_rows):
            line = [j for j in range(n_cols) if hidden[i][j]]
            if len(line) == 1:
                choices = [(i, j) for j in range(n_cols) if not hidden[i][j]]
                if choices:
                    bi, bj = min(choices, key=lambda p: _cost(grid, *p, n_rows, n_cols))
                    hidden[bi][bj] = True
                    added += 1
                    changed = True
        for j in range(n_cols):
            line = [i for i in range(n_rows) if hidden[i][j]]
            if len(line) == 1:
                choices = [(i, j) for i in range(n_rows) if not hidden[i][j]]
                if choices:
                    bi, bj = min(choices, key=lambda p: _cost(grid, *p, n_rows, n_cols))
                    hidden[bi][bj] = True
                    added += 1
                    changed = True
        if changed:
            continue
        # 2. No withheld entry that is a bridge (its value follows from the equations).
        bridge = _find_bridge(hidden, n_rows, n_cols)
        if bridge is None:
            return added
        a_rows, a_cols = bridge
        # Join the two sides with one more withheld entry: a cell (row on one side, column
        # on the other) closes a cycle through the bridge.
        choices = [
            (i, j)
            for i in range(n_rows)
            for j in range(n_cols)
            if not hidden[i][j] and ((i in a_rows) != (j in a_cols))
        ]
        if not choices:  # cannot happen in a grid with margins; fail safe: hide everything
            for i in range(n_rows):
                for j in range(n_cols):
                    if not hidden[i][j]:
                        hidden[i][j] = True
                        added += 1
            return added
        bi, bj = min(choices, key=lambda p: _cost(grid, *p, n_rows, n_cols))
        hidden[bi][bj] = True
        added += 1


def _find_bridge(hidden, n_rows, n_cols):
    """A withheld entry whose removal disconnects its row-line from its column-line; returns
    the (row-lines, column-lines) reachable from its row-line without it, or None."""
    edges = [(i, j) for i in range(n_rows) for j in range(n_cols) if hidden[i][j]]
    for ei, ej in edges:
        seen_rows, seen_cols = {ei}, set()
        stack = [("r", ei)]
        while stack:
            kind, node = stack.pop()
            if kind == "r":
                for j in range(n_cols):
                    if hidden[node][j] and (node, j) != (ei, ej) and j not in seen_cols:
                        seen_cols.add(j)
                        stack.append(("c", j))
            else:
                for i in range(n_rows):
                    if hidden[i][node] and (i, node) != (ei, ej) and i not in seen_rows:
                        seen_rows.add(i)
                        stack.append(("r", i))
        if ej not in seen_cols:
            return seen_rows, seen_cols
    return None
