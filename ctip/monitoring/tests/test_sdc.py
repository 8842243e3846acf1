"""Disclosure control attacked: an attacker holding a published table (cells and margins)
tries to recompute every withheld cell. Three attacks, each must fail:

1. peeling: solve any line (row or column equation) that has one unknown, repeat;
2. linear algebra: a withheld value is recomputable exactly when its unit vector lies in the
   row space of the equations over the withheld entries (exact rational elimination);
3. exhaustive search with non-negativity, on small tables: every withheld cell must have at
   least two values consistent with everything published.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.monitoring.sdc import protect


def grid_of(p):
    """The published grid with margins, None where withheld."""
    grid = [list(line) + [rt] for line, rt in zip(p.cells, p.row_totals, strict=True)]
    grid.append(list(p.col_totals) + [p.total])
    return grid


def equations(n_rows, n_cols):
    """Each equation as a list of ((i, j), coefficient): every line of the grid adds up."""
    eqs = []
    for i in range(n_rows):
        eqs.append([((i, j), 1) for j in range(n_cols - 1)] + [((i, n_cols - 1), -1)])
    for j in range(n_cols):
        eqs.append([((i, j), 1) for i in range(n_rows - 1)] + [((n_rows - 1, j), -1)])
    return eqs


def peel(grid):
    """Attack 1: repeatedly solve lines with one unknown. Returns what it recovered."""
    grid = [row[:] for row in grid]
    n_rows, n_cols = len(grid), len(grid[0])
    recovered = {}
    progress = True
    while progress:
        progress = False
        for eq in equations(n_rows, n_cols):
            unknown = [(pos, k) for pos, k in eq if grid[pos[0]][pos[1]] is None]
            if len(unknown) == 1:
                (pos, k) = unknown[0]
                rest = sum(k2 * grid[p[0]][p[1]] for p, k2 in eq if p != pos)
                value = -rest * k  # k * x + rest = 0  →  x = -rest / k, k = ±1
                grid[pos[0]][pos[1]] = value
                recovered[pos] = value
                progress = True
    return recovered


def determined(grid):
    """Attack 2: withheld positions whose value the equations fix (rank test over Q)."""
    n_rows, n_cols = len(grid), len(grid[0])
    unknowns = [(i, j) for i in range(n_rows) for j in range(n_cols) if grid[i][j] is None]
    index = {pos: k for k, pos in enumerate(unknowns)}
    matrix = []
    for eq in equations(n_rows, n_cols):
        row = [Fraction(0)] * len(unknowns)
        for pos, k in eq:
            if pos in index:
                row[index[pos]] += k
        if any(row):
            matrix.append(row)
    # Reduced row echelon form.
    rref, pivot_cols = [], []
    for row in matrix:
        row = row[:]
        for prow, pc in zip(rref, pivot_cols, strict=True):
            if row[pc]:
                factor = row[pc]
                row = [a - factor * b for a, b in zip(row, prow, strict=True)]
        lead = next((k for k, v in enumerate(row) if v), None)
        if lead is None:
            continue
        row = [v / row[lead] for v in row]
        for n, prow in enumerate(rref):
            if prow[lead]:
                factor = prow[lead]
                rref[n] = [a - factor * b for a, b in zip(prow, row, strict=True)]
        rref.append(row)
        pivot_cols.append(lead)
    # A variable is fixed when some row of the RREF is exactly its unit vector.
    fixed = set()
    for row in rref:
        nonzero = [k for k, v in enumerate(row) if v]
        if len(nonzero) == 1:
            fixed.add(unknowns[nonzero[0]])
    return fixed


def feasible_values(grid, limit):
    """Attack 3: every assignment of the withheld entries (0..limit) consistent with the
    published equations, by search with propagation (a line with one unknown left fixes
    it); returns the set of values seen per withheld position."""
    n_rows, n_cols = len(grid), len(grid[0])
    unknowns = [(i, j) for i in range(n_rows) for j in range(n_cols) if grid[i][j] is None]
    seen = {pos: set() for pos in unknowns}
    eqs = equations(n_rows, n_cols)

    def solve(trial):
        changed = True
        while changed:
            changed = False
            for eq in eqs:
                open_ = [(p, k) for p, k in eq if trial[p[0]][p[1]] is None]
                known = sum(k * trial[p[0]][p[1]] for p, k in eq if trial[p[0]][p[1]] is not None)
                if not open_ and known != 0:
                    return
                if len(open_) == 1:
                    (p, k) = open_[0]
                    value = -known * k
                    if not 0 <= value <= limit:
                        return
                    trial[p[0]][p[1]] = value
                    changed = True
        free = next(
            ((i, j) for i in range(n_rows) for j in range(n_cols) if trial[i][j] is None), None
        )
        if free is None:
            for pos in unknowns:
                seen[pos].add(trial[pos[0]][pos[1]])
            return
        for v in range(limit + 1):
            branch = [row[:] for row in trial]
            branch[free[0]][free[1]] = v
            solve(branch)

    solve([row[:] for row in grid])
    return seen


def test_a_known_table_small_cells_and_their_protection():
    p = protect(
        ["Jan", "Feb", "Mar"],
        ["female", "male"],
        [[12, 3], [20, 15], [11, 14]],
        threshold=10,
    )
    assert p.cells[0][1] is None  # the 3 is withheld
    assert p.primary == 1 and p.secondary >= 3  # its row, its column, and a closing cell
    grid = grid_of(p)
    assert peel(grid) == {}
    assert determined(grid) == set()
    # Published numbers are the true ones where shown.
    assert p.total == 75 and p.row_totals[1] == 35


def test_the_margin_recomputation_attack_fails_on_the_textbook_case():
    # One small cell in a row whose total is published: total − the rest would give it.
    p = protect(["a", "b"], ["x", "y", "z"], [[5, 30, 40], [25, 35, 45]], threshold=10)
    grid = grid_of(p)
    assert grid[0][0] is None
    assert peel(grid) == {}
    assert determined(grid) == set()
    values = feasible_values(grid, limit=110)
    assert all(len(v) >= 2 for v in values.values())
    assert 5 in values[(0, 0)]


def test_small_margins_are_withheld_and_protected():
    p = protect(["a", "b", "c"], ["x", "y"], [[2, 1], [30, 12], [14, 22]], threshold=10)
    assert p.row_totals[0] is None and p.cells[0][0] is None and p.cells[0][1] is None
    grid = grid_of(p)
    assert peel(grid) == {} and determined(grid) == set()


def test_bridges_are_closed_not_only_lines():
    # Two blocks of withheld cells joined through one row: each line has two withheld
    # entries but the joining entry would still follow from the equations.
    counts = [[3, 40, 50, 60], [4, 41, 51, 61], [70, 80, 5, 90], [71, 81, 6, 91]]
    p = protect(list("abcd"), list("wxyz"), counts)
    grid = grid_of(p)
    assert peel(grid) == {} and determined(grid) == set()


def test_nothing_small_nothing_withheld_and_threshold_one_disables():
    p = protect(["a"], ["x", "y"], [[10, 0]])
    assert p.suppressed == 0 and p.cells == ((10, 0),) and p.total == 10
    q = protect(["a"], ["x", "y"], [[1, 2]], threshold=1)
    assert q.suppressed == 0


def test_noise_keeps_margins_consistent_and_is_reproducible():
    counts = [[30, 40], [50, 60]]
    a = protect(["a", "b"], ["x", "y"], counts, noise_epsilon=0.5, rng=random.Random(7))
    b = protect(["a", "b"], ["x", "y"], counts, noise_epsilon=0.5, rng=random.Random(7))
    assert a == b and a.noise_epsilon == 0.5
    for line, total in zip(a.cells, a.row_totals, strict=True):
        assert sum(line) == total
    assert sum(a.row_totals) == a.total
    with pytest.raises(ValueError, match="epsilon"):
        protect(["a"], ["x"], [[1]], noise_epsilon=0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="negative"):
        protect(["a"], ["x"], [[-1]])
    with pytest.raises(ValueError, match="one row per row label"):
        protect(["a", "b"], ["x"], [[1]])
    with pytest.raises(ValueError, match="threshold"):
        protect(["a"], ["x"], [[1]], threshold=0)


tables = st.integers(1, 5).flatmap(
    lambda r: st.integers(1, 5).flatmap(
        lambda c: st.lists(
            st.lists(st.one_of(st.integers(0, 12), st.integers(10, 200)), min_size=c, max_size=c),
            min_size=r,
            max_size=r,
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(tables)
def test_no_withheld_value_can_be_recomputed(counts):
    rows = [f"r{i}" for i in range(len(counts))]
    cols = [f"c{j}" for j in range(len(counts[0]))]
    p = protect(rows, cols, counts)
    grid = grid_of(p)
    # Every published number is the true one.
    full = [line + [sum(line)] for line in counts]
    full.append([sum(full[i][j] for i in range(len(counts))) for j in range(len(cols) + 1)])
    for i, line in enumerate(grid):
        for j, value in enumerate(line):
            assert value is None or value == full[i][j]
            if value is not None:
                assert value == 0 or value >= p.threshold
    assert peel(grid) == {}
    assert determined(grid) == set()
