"""Comparison vectors of many pairs at once, a field at a time.

:func:`~.engine.comparer` compares one pair, field by field, in Python: clear, and what the
node uses for the pair a reviewer looks at. A run compares hundreds of thousands of pairs
(millions at national scale), and every field but the name is a simple test on values
each record holds once: equal codes, a Jaro–Winkler similarity, birth ranges as day
numbers. :class:`Columns` keeps those values as arrays, one per field, and
:func:`compare_pairs` works out each field's level for a whole chunk of pairs with NumPy
and rapidfuzz's ``cpdist`` (C loops, on every processor). Only the name, the one field
whose comparison is an algorithm of its own, is compared in Python, once per distinct pair
of written names in the chunk.

The levels are exactly those of :func:`~.engine.comparer` (a test compares the two on
random and blocked pairs of every script); the pairs' vectors come back as codes into a
list of distinct vectors, the form training and scoring take.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

from . import engine
from .dates import _DAYS_PER_YEAR

#: A missing level (a side lacks the field) in the level arrays.
MISSING = -1
#: Pairs compared per chunk (bounded memory for the arrays of strings rapidfuzz reads).
CHUNK = 100_000


def _codes(values: Sequence[object]) -> np.ndarray:
    """An int code per value, equal codes for equal values, -1 for an empty one."""
    seen: dict[object, int] = {}
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        out[i] = seen.setdefault(v, len(seen)) if v else -1
    return out


class Columns:
    """The values of each compared field of ``feats``, as arrays indexed like ``feats``."""

    def __init__(self, feats: Sequence[engine.Features], names: Sequence[str]) -> None:
        self.feats = feats
        self.names = tuple(names)
        n = len(feats)
        # Records with the same written names compare their names alike: one number each.
        name_ids: dict[tuple, int] = {}
        self.name_id = np.fromiter(
            (
                name_ids.setdefault((f.parts, f.joined, f.more_keys, f.han), len(name_ids))
                for f in feats
            ),
            dtype=np.int64,
            count=n,
        )
        self.name_count = len(name_ids)
        self.han = np.fromiter((f.han for f in feats), dtype=bool, count=n)
        self.has_birth = np.fromiter((f.birth is not None for f in feats), dtype=bool, count=n)
        self.earliest = np.fromiter(
            (f.birth.earliest.toordinal() if f.birth else 0 for f in feats), np.int64, count=n
        )
        self.latest = np.fromiter(
            (f.birth.latest.toordinal() if f.birth else 0 for f in feats), np.int64, count=n
        )
        self.day = [f.birth_day for f in feats]
        self.day_code = _codes(self.day)
        self.ymd = np.fromiter((int(d) if d else 0 for d in self.day), np.int64, count=n)
        self.sex = _codes([f.sex for f in feats])
        self.nationality = _codes([f.nationality for f in feats])
        depth = max((len(f.place) for f in feats), default=0)
        self.place = [
            _codes([f.place[k] if len(f.place) > k else None for f in feats]) for k in range(depth)
        ]
        self.extra: dict[str, tuple[list[str | None], np.ndarray]] = {}
        for name in self.names:
            if name.startswith("x:"):
                key = name[2:]
                values = [dict(f.extra).get(key) for f in feats]
                self.extra[name] = (values, _codes(values))


def _exact(codes: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    x, y = codes[left], codes[right]
    return np.where((x < 0) | (y < 0), MISSING, (x == y).astype(np.int8)).astype(np.int8)


def _place(cols: Columns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if not cols.place:
        return np.full(len(left), MISSING, dtype=np.int8)
    first = cols.place[0]
    present = (first[left] >= 0) & (first[right] >= 0)
    agree = np.ones(len(left), dtype=bool)
    depth = np.zeros(len(left), dtype=np.int8)
    for codes in cols.place:
        x, y = codes[left], codes[right]
        agree &= (x >= 0) & (x == y)
        depth += agree
    depth = np.minimum(depth, len(engine.PLACE_LEVELS) - 1)
    return np.where(present, depth, MISSING).astype(np.int8)


def _birth(cols: Columns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """:func:`engine.birth_level`, for arrays of pairs."""
    out = np.full(len(left), MISSING, dtype=np.int8)
    both = cols.has_birth[left] & cols.has_birth[right]
    if not both.any():
        return out
    a, b = left[both], right[both]
    ea, la, eb, lb = cols.earliest[a], cols.latest[a], cols.earliest[b], cols.latest[b]
    overlap = (ea <= lb) & (eb <= la)
    gap = np.maximum(eb - la, ea - lb)
    near_year = np.where(overlap, True, gap / _DAYS_PER_YEAR <= 2.0)
    level = np.where(near_year, 1, 0).astype(np.int8)
    da, db = cols.day_code[a], cols.day_code[b]
    days = (da >= 0) & (db >= 0)
    centred = np.abs((ea + la) // 2 - (eb + lb) // 2) <= engine.CENTRE_TOLERANCE_DAYS
    level = np.where(~days & overlap, np.where(centred, 4, 2), level)
    differ = np.flatnonzero(days & (da != db))
    if len(differ):
        ya, yb = cols.ymd[a[differ]], cols.ymd[b[differ]]
        swapped = (
            (ya // 10000 == yb // 10000)
            & (ya // 100 % 100 == yb % 100)
            & (ya % 100 == yb // 100 % 100)
        )
        typed = cpdist(
            [cols.day[i] for i in a[differ].tolist()],
            [cols.day[j] for j in b[differ].tolist()],
            scorer=OSA.distance,
            workers=-1,
        )
        level[differ[(typed <= 1) | swapped]] = 3
    level[days & (da == db)] = 5
    out[both] = level
    return out


def _extra(
    values: list[str | None], codes: np.ndarray, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """:func:`engine._extra_level` for arrays of pairs (missing when a side has no value)."""
    x, y = codes[left], codes[right]
    out = np.where((x < 0) | (y < 0), MISSING, 3).astype(np.int8)
    differ = np.flatnonzero((x >= 0) & (y >= 0) & (x != y))
    if len(differ):
        sim = cpdist(
            [values[i] for i in left[differ].tolist()],
            [values[j] for j in right[differ].tolist()],
            scorer=JaroWinkler.normalized_similarity,
            dtype=np.float64,  # the thresholds are met as the per-pair comparison meets them
            workers=-1,
        )
        out[differ] = np.where(sim >= 0.92, 2, np.where(sim >= 0.8, 1, 0))
    return out


def _names(cols: Columns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """:func:`engine.name_level` once per distinct ordered pair of written names."""
    keys = cols.name_id[left] * cols.name_count + cols.name_id[right]
    unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    feats, level = cols.feats, engine.name_level
    found = np.fromiter(
        (
            MISSING if (v := level(feats[i], feats[j])) is None else v
            for i, j in zip(left[first].tolist(), right[first].tolist(), strict=True)
        ),
        dtype=np.int8,
        count=len(unique),
    )
    return found[inverse.ravel()]


def levels(cols: Columns, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The level of every field (columns in the order of ``cols.names``) of every pair
    (rows), ``MISSING`` where a side lacks the field."""
    out = np.empty((len(left), len(cols.names)), dtype=np.int8)
    if not len(left):
        return out
    name = None
    across = None
    for k, field in enumerate(cols.names):
        if field in engine.NAME_FIELDS:
            if name is None:
                name = _names(cols, left, right)
                across = cols.han[left] != cols.han[right]
            if "name_zh" not in cols.names:
                out[:, k] = name
            elif field == "name":
                out[:, k] = np.where(across, MISSING, name)
            else:
                out[:, k] = np.where(across, name, MISSING)
        elif field == "birth":
            out[:, k] = _birth(cols, left, right)
        elif field == "sex":
            out[:, k] = _exact(cols.sex, left, right)
        elif field == "nationality":
            out[:, k] = _exact(cols.nationality, left, right)
        elif field == "place":
            out[:, k] = _place(cols, left, right)
        elif field.startswith("x:"):
            out[:, k] = _extra(*cols.extra[field], left, right)
        else:
            raise ValueError(f"unknown field {field!r}")
    return out


class VectorCodes:
    """Distinct comparison vectors, numbered in the order they are met, chunk by chunk."""

    def __init__(self, names: Sequence[str]) -> None:
        radix = np.array([engine.level_count(n) + 1 for n in names], dtype=np.int64)
        self.weights = np.concatenate(([1], np.cumprod(radix[:-1]))).astype(np.int64)
        self.number: dict[int, int] = {}
        self.vectors: list[tuple[int | None, ...]] = []

    def codes(self, rows: np.ndarray) -> np.ndarray:
        """The number of each row's vector (a row of levels per pair, see :func:`levels`)."""
        keys = (rows.astype(np.int64) + 1) @ self.weights
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        numbers = np.empty(len(unique), dtype=np.uint32)
        for k, (key, row) in enumerate(zip(unique.tolist(), first.tolist(), strict=True)):
            number = self.number.get(key)
            if number is None:
                number = self.number[key] = len(self.vectors)
                self.vectors.append(tuple(None if v == MISSING else v for v in rows[row].tolist()))
            numbers[k] = number
        return numbers[inverse.ravel()]


def compare_pairs(
    cols: Columns,
    left: np.ndarray,
    right: np.ndarray,
    vectors: VectorCodes,
    chunk: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield, chunk by chunk, the vector numbers of the pairs ``(left[k], right[k])``."""
    chunk = chunk or CHUNK
    for start in range(0, len(left), chunk):
        rows = levels(cols, left[start : start + chunk], right[start : start + chunk])
        yield vectors.codes(rows)
