"""Weights and thresholds for person matching, in one frozen and validated object.

A matching run records the exact settings that produced each decision, so a reviewer can
reproduce why two records were linked. Validation happens at construction: a bad setting
must fail loudly when the run starts, never silently skew decisions for thousands of pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

# Fields that are fractions in [0, 1].
_UNIT_FIELDS = (
    "match_threshold",
    "possible_threshold",
    "name_match_min",
    "name_possible_min",
    "token_floor",
    "token_near",
    "vowel_variant_credit",
    "weight_name",
    "weight_birth",
    "weight_sex",
    "weight_nationality",
)
_NON_NEGATIVE_FLOATS = ("missing_part_weight", "conflict_part_weight", "birth_max_gap_years")
_POSITIVE_INTS = ("max_name_tokens", "max_merge_tokens", "max_spellings")
_BOOLS = ("sex_mismatch_is_veto", "match_requires_birth")


@dataclass(frozen=True)
class MatchConfig:
    """Settings for :func:`compare_names` and :func:`compare_people`.

    The defaults are deliberately conservative: a ``'match'`` needs at least two name parts
    with equal phonetic keys, no part that is merely similar or conflicting, and an
    overlapping birth range, because common Khmer names (Chan Sokha, Sok Srey...) are shared
    by many different people. Everything weaker is at most ``'possible'``: a human decides.
    """

    #: Combined score at or above which a pair may be a ``'match'`` (other gates permitting).
    match_threshold: float = 0.85
    #: Combined score at or above which a pair is at least ``'possible'`` (human review).
    possible_threshold: float = 0.65
    #: Name score required for a ``'match'``.
    name_match_min: float = 0.9
    #: Name score below which the pair is a ``'non_match'`` whatever else agrees.
    name_possible_min: float = 0.7
    #: Phonetic-key similarity below which two name parts get no credit at all.
    token_floor: float = 0.8
    #: Similarity at or above which two name parts are "close" (likely typo; review only).
    token_near: float = 0.85
    #: Credit for parts differing only in a commonly confused vowel (Pich/Pech; review only).
    vowel_variant_credit: float = 0.75
    #: Cost of a name part present in only one record (records are often incomplete).
    missing_part_weight: float = 0.3
    #: Cost of name parts left unmatched on both sides (they contradict each other).
    conflict_part_weight: float = 1.0
    weight_name: float = 0.6
    weight_birth: float = 0.25
    weight_sex: float = 0.1
    weight_nationality: float = 0.05
    #: Birth ranges further apart than this veto the pair.
    birth_max_gap_years: float = 3.0
    #: Recorded sex differs (both known): veto. Set False where data entry is unreliable.
    sex_mismatch_is_veto: bool = True
    #: A ``'match'`` needs overlapping birth ranges; a name alone only reaches ``'possible'``.
    match_requires_birth: bool = True
    #: Names with more parts are truncated (protects the pairwise alignment from blow-up).
    max_name_tokens: int = 6
    #: How many adjacent parts may be joined ("Sok Kha" = "Sokha").
    max_merge_tokens: int = 3
    #: Alternative keys tried per name part or joined parts (Chinese and Khmer readings).
    max_spellings: int = 12

    def __post_init__(self) -> None:
        for name in _UNIT_FIELDS:
            _check_float(name, getattr(self, name), upper=1.0)
        for name in _NON_NEGATIVE_FLOATS:
            _check_float(name, getattr(self, name), upper=math.inf)
        for name in _POSITIVE_INTS:
            _check_int(name, getattr(self, name), minimum=1)
        for name in _BOOLS:
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool")
        if self.possible_threshold > self.match_threshold:
            raise ValueError("possible_threshold must not exceed match_threshold")
        if self.name_possible_min > self.name_match_min:
            raise ValueError("name_possible_min must not exceed name_match_min")
        if not self.token_floor < self.token_near:
            raise ValueError("token_floor must be below token_near")
        if self.token_floor >= 1.0:
            raise ValueError("token_floor must be below 1")
        if self.weight_name <= 0:
            raise ValueError("weight_name must be positive: names drive every decision")

    def as_dict(self) -> dict[str, float | int | bool]:
        """Plain dict for audit logs (the settings behind a decision)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _check_float(name: str, value: object, *, upper: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if math.isnan(value) or not 0.0 <= value <= upper:
        bound = "[0, 1]" if upper == 1.0 else ">= 0"
        raise ValueError(f"{name} must be in {bound}, got {value!r}")
    if math.isinf(value):
        raise ValueError(f"{name} must be finite, got {value!r}")


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")


DEFAULT_CONFIG = MatchConfig()
