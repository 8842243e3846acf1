"""Precision and recall on a seeded synthetic labelled set (see synthetic.py for how it is built).

'Flagged' means the matcher did not say 'non_match', i.e. a caseworker will look at the pair.
Measured with seed 20250115 (300 + 300 pairs): precision 0.997, recall 0.963; a 'match' alone
has precision 1.0 and recall 0.77. The remaining misses are real limits: romanisations that
do not reach the popular spelling (Keo, Khieu, Reaksmey) and some transposition typos.
"""

from __future__ import annotations

from collections import Counter

import pytest

from ctip.matching.core import blocking_keys, compare_people

from .synthetic import labelled_pairs

MIN_PRECISION = 0.9
MIN_RECALL = 0.9


@pytest.fixture(scope="module")
def outcomes():
    return [(pair, compare_people(pair.left, pair.right)) for pair in labelled_pairs()]


def test_generator_is_deterministic():
    first, second = labelled_pairs(20, 20), labelled_pairs(20, 20)
    assert first == second
    assert labelled_pairs(20, 20, seed=1) != first


def test_precision_and_recall(outcomes):
    counts = Counter((pair.same, result.decision != "non_match") for pair, result in outcomes)
    tp, fp, fn = counts[True, True], counts[False, True], counts[True, False]
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    strict = Counter((p.same, r.decision == "match") for p, r in outcomes)
    strict_precision = strict[True, True] / max(1, strict[True, True] + strict[False, True])
    strict_recall = strict[True, True] / (strict[True, True] + strict[True, False])
    print(  # noqa: T201
        f"\nflagged (match or possible): precision {precision:.3f} recall {recall:.3f}"
        f"\n'match' only: precision {strict_precision:.3f} recall {strict_recall:.3f}"
    )
    for pair, result in outcomes:
        if pair.same != (result.decision != "non_match"):
            kind = "missed" if pair.same else "false alarm"
            print(f"  {kind}: {pair.left.names} / {pair.right.names}: {result.notes[-1]}")  # noqa: T201
    assert precision >= MIN_PRECISION
    assert recall >= MIN_RECALL


def test_every_decision_carries_evidence(outcomes):
    for _, result in outcomes:
        assert result.evidence_for or result.evidence_against
        assert result.notes[-1].startswith(result.decision)


def test_blocking_keeps_every_true_pair(outcomes):
    missed = [
        p for p, _ in outcomes if p.same and not blocking_keys(p.left) & blocking_keys(p.right)
    ]
    assert not missed
