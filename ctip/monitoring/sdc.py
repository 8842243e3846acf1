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
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_THRESHOLD",
    "Protected",
    "Release",
    "SUPPRESSED",
    "TOTAL",
    "disclosures",
    "protect",
]

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
    withhold: Collection[tuple[int, int]] = (),
    keep: Collection[tuple[int, int]] = (),
) -> Protected:
    """Protect the table ``counts[i][j]`` (rows × cols, non-negative integers).

    ``threshold``: cells with 0 < n < threshold are withheld (1 disables suppression).
    ``withhold``: positions of the grid with its margins ((i, j), ``i == len(rows)`` the
    total row, ``j == len(cols)`` the total column) withheld whatever their value (the
    release log's choice, ``disclosures``); protected like the small ones.
    ``keep``: positions published whatever their value and never chosen to protect another
    (a margin another table publishes already, so the attacker knows it anyway).
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
    kept = set(keep)
    for i in range(n_rows):
        for j in range(n_cols):
            if 0 < grid[i][j] < threshold and (i, j) not in kept:
                hidden[i][j] = True
                primary += 1

    secondary = 0
    for i, j in (*withhold, *kept):
        if not (0 <= i < n_rows and 0 <= j < n_cols):
            raise ValueError("a position to withhold or keep is outside the table")
    for i, j in withhold:
        if not hidden[i][j] and (i, j) not in kept:
            hidden[i][j] = True
            secondary += 1
    if primary or secondary:
        secondary += _complement(grid, hidden, n_rows, n_cols, kept)

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


def _complement(grid, hidden, n_rows, n_cols, kept=frozenset()) -> int:
    added = 0
    while True:
        changed = False
        # 1. No line with exactly one withheld entry.
        for i in range(n_rows):
            line = [j for j in range(n_cols) if hidden[i][j]]
            if len(line) == 1:
                choices = [(i, j) for j in range(n_cols) if not hidden[i][j] and (i, j) not in kept]
                if choices:
                    bi, bj = min(choices, key=lambda p: _cost(grid, *p, n_rows, n_cols))
                    hidden[bi][bj] = True
                    added += 1
                    changed = True
        for j in range(n_cols):
            line = [i for i in range(n_rows) if hidden[i][j]]
            if len(line) == 1:
                choices = [(i, j) for i in range(n_rows) if not hidden[i][j] and (i, j) not in kept]
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
            if not hidden[i][j] and ((i in a_rows) != (j in a_cols)) and (i, j) not in kept
        ]
        if not choices:  # only with kept entries in the way; fail safe: hide all the rest
            for i in range(n_rows):
                for j in range(n_cols):
                    if not hidden[i][j] and (i, j) not in kept:
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


# --- differencing between two releases of the same table -----------------------------------

TOTAL = "*"  # the code of the margin (total row or total column) in ``disclosures``
_P = 2**61 - 1  # a prime: the rank test runs in GF(p), exact for these 0/±1 systems


@dataclass(frozen=True)
class Release:
    """One published version of a table. ``counts[i][j]``: the true counts it was computed
    from (kept inside the node, never published); ``shown``: the grid with its margins
    ((r+1) × (c+1)) as published: a number, None where withheld, and ``covered[i][j]``
    False where the release did not publish that entry at all (a month outside the
    period). A column missing from one release and present in the other is a zero there
    (a breakdown lists every value that has a record)."""

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    shown: tuple[tuple[int | None, ...], ...]
    covered: tuple[tuple[bool, ...], ...]

    def true(self) -> dict[tuple[str, str], int]:
        """Every entry's true value by (row code, column code), margins as ``TOTAL``."""
        out: dict[tuple[str, str], int] = {}
        for i, r in enumerate(self.rows):
            for j, c in enumerate(self.cols):
                out[(r, c)] = self.counts[i][j]
            out[(r, TOTAL)] = sum(self.counts[i])
        for j, c in enumerate(self.cols):
            out[(TOTAL, c)] = sum(line[j] for line in self.counts)
        out[(TOTAL, TOTAL)] = sum(sum(line) for line in self.counts)
        return out

    def published(self) -> dict[tuple[str, str], int | None]:
        """Every entry the release covered: its value, or None where withheld."""
        out: dict[tuple[str, str], int | None] = {}
        labels_r = (*self.rows, TOTAL)
        labels_c = (*self.cols, TOTAL)
        for i, r in enumerate(labels_r):
            for j, c in enumerate(labels_c):
                if self.covered[i][j]:
                    out[(r, c)] = self.shown[i][j]
        return out


def disclosures(
    earlier: Release, new: Release, *, threshold: int
) -> set[tuple[str, tuple[str, str]]]:
    """What an attacker holding both releases of one table could recompute that should stay
    hidden: a withheld count 0 < n < threshold of either release (``"small"``), or a
    change 0 < |d| < threshold of an entry between them (``"change"``: "one more victim
    in March, female"). Returns (kind, (row code, column code)) pairs; empty when safe.

    The attacker is granted the worst case: the published numbers of both, the additive
    lines of both grids, and the knowledge of which entries did not change (every entry
    whose true value is the same in both is one unknown, not two). A value is recomputable
    when its vector lies in the row space of those equations."""
    rows = list(dict.fromkeys((*earlier.rows, *new.rows)))
    cols = list(dict.fromkeys((*earlier.cols, *new.cols)))
    labels_r, labels_c = [*rows, TOTAL], [*cols, TOTAL]
    versions = []
    for rel in (earlier, new):
        true, shown = rel.true(), rel.published()
        # A value a breakdown does not list had no record: zero, and known to be zero.
        for r in labels_r:
            for c in labels_c:
                if (r not in rel.rows and r != TOTAL) or (c not in rel.cols and c != TOTAL):
                    true[(r, c)] = 0
                    shown[(r, c)] = 0
        versions.append((true, shown))
    (true_e, shown_e), (true_n, shown_n) = versions

    # Unknowns: every entry of each version not published; an entry whose true value is
    # the same in both versions is one unknown (union of the two names).
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pos in ((r, c) for r in labels_r for c in labels_c):
        if true_e.get(pos) == true_n.get(pos):
            parent[find(("e", pos))] = find(("n", pos))

    def term(version: str, pos) -> tuple[object | None, int]:
        """(unknown id or None, known value) of one entry of one version."""
        shown = shown_e if version == "e" else shown_n
        value = shown.get(pos)
        if value is not None:
            return None, value
        # Published in the other version and unchanged: known as well.
        other = shown_n if version == "e" else shown_e
        if find(("e", pos)) == find(("n", pos)) and other.get(pos) is not None:
            return None, other[pos]
        return find((version, pos)), 0

    equations: list[tuple[dict, int]] = []
    for version in ("e", "n"):
        for r in labels_r:  # every row line: cells − total = 0
            line = [((r, c), 1) for c in cols] + [((r, TOTAL), -1)]
            equations.append(_equation(version, line, term))
        for c in labels_c:
            line = [((r, c), 1) for r in rows] + [((TOTAL, c), -1)]
            equations.append(_equation(version, line, term))
    basis = _echelon([eq for eq in equations if eq[0]])

    found: set[tuple[str, tuple[str, str]]] = set()
    for pos in ((r, c) for r in labels_r for c in labels_c):
        for version, true, shown in (("e", true_e, shown_e), ("n", true_n, shown_n)):
            value = true.get(pos, 0)
            if shown.get(pos) is not None or not 0 < value < threshold:
                continue
            var, _known = term(version, pos)
            if var is None or _in_span(basis, {var: 1}):
                found.add(("small", pos))
        delta = true_n.get(pos, 0) - true_e.get(pos, 0)
        if 0 < abs(delta) < threshold:
            vector: dict = {}
            for version, sign in (("n", 1), ("e", -1)):
                var, _known = term(version, pos)
                if var is not None:
                    vector[var] = (vector.get(var, 0) + sign) % _P
            if _in_span(basis, {k: v for k, v in vector.items() if v}):
                found.add(("change", pos))
    return found


def _equation(version, line, term) -> tuple[dict, int]:
    coeffs: dict = {}
    constant = 0
    for pos, k in line:
        var, known = term(version, pos)
        if var is None:
            constant += k * known
        else:
            coeffs[var] = (coeffs.get(var, 0) + k) % _P
    return {v: k for v, k in coeffs.items() if k}, (-constant) % _P


def _echelon(equations: list[tuple[dict, int]]) -> list[tuple[object, dict]]:
    """Row echelon form over GF(p) of sparse rows: (pivot, row with pivot coefficient 1)."""
    basis: list[tuple[object, dict]] = []
    for coeffs, _rhs in equations:
        row = _reduce(basis, dict(coeffs))
        if not row:
            continue
        pivot = next(iter(row))
        inverse = pow(row[pivot], _P - 2, _P)
        basis.append((pivot, {v: k * inverse % _P for v, k in row.items()}))
    return basis


def _reduce(basis, row: dict) -> dict:
    for pivot, brow in basis:
        factor = row.get(pivot)
        if factor:
            for v, k in brow.items():
                value = (row.get(v, 0) - factor * k) % _P
                if value:
                    row[v] = value
                else:
                    row.pop(v, None)
    return row


def _in_span(basis, vector: dict) -> bool:
    """Whether the linear form ``vector`` is fixed by the equations (in their row space)."""
    return not vector or not _reduce(basis, dict(vector))
