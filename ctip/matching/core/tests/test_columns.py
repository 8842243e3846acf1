"""The comparison of many pairs a field at a time (:mod:`ctip.matching.core.columns`) gives
exactly the levels of the per-pair comparison (:func:`engine.comparer`), on blocked and
random pairs, in both orders, in every script, with extra fields whose values sit on the
similarity thresholds."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date

import numpy as np
import pytest

from ctip.matching.core import columns, synth
from ctip.matching.core.csvio import read_text
from ctip.matching.core.engine import (
    EngineConfig,
    _normalise,
    candidate_arrays,
    comparer,
    estimate_u,
    field_names,
    level_count,
    match_records,
    prepare,
)
from ctip.matching.core.tests.test_engine import to_csv

TODAY = date(2025, 6, 1)

#: Values of an extra field close to each other: equal, one letter apart, a transposition,
#: a shared prefix, digits of one length and another, a single character.
EXTRA_VALUES = (
    "12",
    "1",
    "21",
    "120",
    "100",
    "45",
    "martha",
    "marhta",
    "marta",
    "dwayne",
    "duane",
    "dixon",
    "dicksonx",
    "pine street",
    "pine st",
    "5122 old rd",
    "5122 old road",
    "a",
)


def _extras(ids: list[str], rng: random.Random) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for rid in ids:
        values = {}
        for name in ("doc", "street"):
            if rng.random() < 0.8:  # a fifth of the records lack each field
                values[name] = rng.choice(EXTRA_VALUES)
        out[rid] = values
    return out


@pytest.fixture(scope="module")
def feats():
    rng = random.Random(11)
    rows = synth.cross_script(120, seed=4, places=True) + synth.perturbed(400, seed=9)
    for k, row in enumerate(rows):
        row["record_id"] = f"r{k}"
    data = read_text(to_csv(rows), today=TODAY)
    extras = _extras([r.id for r in data.records], rng)
    return prepare(data.records, EngineConfig(), extras)


def _pairs(feats, n_random: int = 6000) -> tuple[np.ndarray, np.ndarray]:
    left, right = candidate_arrays(feats, EngineConfig())
    rng = np.random.default_rng(5)
    n = len(feats)
    a, b = rng.integers(0, n, n_random), rng.integers(0, n, n_random)
    # Blocked pairs in both orders, random pairs, and a record with itself.
    return (
        np.concatenate([left, right, a, [0, 1]]),
        np.concatenate([right, left, b, [0, 1]]),
    )


def test_levels_equal_the_per_pair_comparison(feats):
    names = field_names(feats)
    assert {"name", "name_zh", "birth", "sex", "nationality", "place"} <= set(names)
    assert {"x:doc", "x:street"} <= set(names)
    left, right = _pairs(feats)
    rows = columns.levels(columns.Columns(feats, names), left, right)
    compare = comparer(tuple(names))
    seen: dict[str, set] = defaultdict(set)
    pairs = zip(left.tolist(), right.tolist(), strict=True)
    for (i, j), row in zip(pairs, rows.tolist(), strict=True):
        expected = compare(feats[i], feats[j])
        got = tuple(None if v == columns.MISSING else v for v in row)
        assert got == expected, (feats[i].id, feats[j].id, names, expected, got)
        for name, level in zip(names, expected, strict=True):
            seen[name].add(level)
    # The pairs reach the levels that could go wrong: the test is not vacuous.
    for name in ("name", "birth", "x:doc", "x:street"):
        assert set(range(level_count(name))) | {None} <= seen[name] | {None}, (name, seen[name])
    assert len(seen["name_zh"] - {None}) >= 3
    assert len(seen["place"] - {None}) >= 3
    assert {None, 0, 1} <= seen["sex"]


def test_chunks_number_vectors_the_same_way(feats):
    names = field_names(feats)
    left, right = _pairs(feats, 2000)
    cols = columns.Columns(feats, names)
    whole = columns.VectorCodes(names)
    one = np.concatenate(list(columns.compare_pairs(cols, left, right, whole)))
    small = columns.VectorCodes(names)
    many = np.concatenate(list(columns.compare_pairs(cols, left, right, small, chunk=97)))
    as_vectors = [whole.vectors[c] for c in one.tolist()]
    assert as_vectors == [small.vectors[c] for c in many.tolist()]
    assert len(set(as_vectors)) == len(whole.vectors) > 50


def test_fields_no_record_holds_are_missing(feats):
    names = (*field_names(feats), "x:passport")
    rows = columns.levels(columns.Columns(feats, names), *_pairs(feats, 100))
    assert (rows[:, names.index("x:passport")] == columns.MISSING).all()
    none = np.zeros(0, dtype=np.int64)
    assert columns.levels(columns.Columns(feats, names), none, none).shape == (0, len(names))


def test_u_from_columns_equals_u_pair_by_pair(feats):
    """The random pairs' levels counted per field, as the engine counted them pair by pair."""
    config = EngineConfig(u_sample_pairs=3000)
    names = field_names(feats)
    u = estimate_u(feats, names, config)
    rng = random.Random(config.seed)
    counts = {k: [1.0] * level_count(k) for k in names}
    compare = comparer(tuple(names))
    for _ in range(config.u_sample_pairs):
        i, j = rng.sample(range(len(feats)), 2)
        for name, level in zip(names, compare(feats[i], feats[j]), strict=True):
            if level is not None:
                counts[name][level] += 1
    for name in names:
        assert u[name] == pytest.approx(_normalise(counts[name]), rel=1e-12), name


def test_a_run_does_not_depend_on_the_chunk_size(feats, monkeypatch):
    records_rows = synth.cross_script(80, seed=6, places=True)
    data = read_text(to_csv(records_rows), today=TODAY)
    first = match_records(data.records)
    monkeypatch.setattr(columns, "CHUNK", 50)
    second = match_records(data.records)
    assert first.clusters == second.clusters
    assert [(p.left_id, p.right_id, p.probability) for p in first.pairs] == [
        (p.left_id, p.right_id, p.probability) for p in second.pairs
    ]
