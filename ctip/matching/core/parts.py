"""How two name parts compare, once both are phonetic keys.

Five outcomes, from strongest to weakest:

``equal``
    Same key (Sokhar / សុខា / 索卡 all key to "soka"). Full credit; may support a 'match'.
``close``
    High string similarity with the same ending: a likely typo (Spohal / Sophal) or an
    unfolded variant (Rotana / Ratana). Good credit, but only ever supports 'possible':
    a dropped letter can also be a different name (Chantrea / Chantha).
``vowel``
    Same consonants and ending; the vowels differ only by a pair in
    :data:`VOWEL_NEIGHBOURS` (Pich / Pech, Prum / Prom, Huot / Hout, Mony / Muny). Khmer
    vowel signs are read differently after a- and o-series consonants (ុ o/u, ិ e/i, ា a/ea,
    ោ ao/o, ែ ae/e, ួ uo) and writers mix the readings up. Credit as configured; 'possible'
    at most. Other vowel differences make different names (Chan / Chhun, San / Sun).
``weak``
    Some resemblance, or a different ending. Khmer names are told apart by how they end
    (Chanthy / Chantha, Vanna / Vannak, Sok / Sokha, Bora / Borey), so a different final
    vowel or consonant caps the similarity at ``token_floor``: no credit, counted as conflict.
``None``
    Unrelated.

Similarity is the mean of Jaro-Winkler (rewards a shared beginning, as spelling variants
have) and normalised OSA edit similarity (counts a transposition as one edit, and penalises
the extra or missing letters Jaro-Winkler forgives).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz.distance import OSA, JaroWinkler

from .config import MatchConfig

PartKind = Literal["equal", "close", "vowel", "weak"]

VOWEL_NEIGHBOURS: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (("o", "u"), ("e", "i"), ("a", "ea"), ("ao", "o"), ("ae", "e"), ("uo", "u"))
    + (("uo", "o"),)
)

_GROUPS = re.compile(r"[aeiou]+|[^aeiou]+")
_KIND_RANK = {"equal": 3, "close": 2, "vowel": 2, "weak": 1}


@dataclass(frozen=True)
class PartMatch:
    kind: PartKind
    similarity: float
    credit: float
    left_key: str
    right_key: str
    different_ending: bool = False


def key_groups(key: str) -> list[str]:
    """Alternating consonant and vowel groups: "chanti" -> ["ch", "a", "nt", "i"]."""
    return _GROUPS.findall(key)


@lru_cache(maxsize=1 << 16)
def similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    return (JaroWinkler.normalized_similarity(a, b) + OSA.normalized_similarity(a, b)) / 2


def _is_vowel(group: str) -> bool:
    return group[0] in "aeiou"


def is_vowel_variant(a: str, b: str) -> bool:
    """Same consonant groups and ending; every differing vowel group is a neighbour pair."""
    ga, gb = key_groups(a), key_groups(b)
    if a == b or len(ga) != len(gb) or not ga or ga[-1] != gb[-1]:
        return False
    for x, y in zip(ga, gb, strict=True):
        if x == y:
            continue
        if not (_is_vowel(x) and _is_vowel(y)) or frozenset((x, y)) not in VOWEL_NEIGHBOURS:
            return False
    return True


def _ending(key: str) -> str:
    groups = key_groups(key)
    return groups[-1] if groups else ""


def compare_keys(a: str, b: str, config: MatchConfig) -> PartMatch | None:
    """Classify one pair of keys (see the module docstring)."""
    if a and a == b:
        return PartMatch("equal", 1.0, 1.0, a, b)
    sim = similarity(a, b)
    if _ending(a) != _ending(b):
        if sim < config.token_floor:
            return None
        return PartMatch("weak", config.token_floor, 0.0, a, b, different_ending=True)
    if is_vowel_variant(a, b):
        return PartMatch("vowel", sim, config.vowel_variant_credit, a, b)
    if sim >= config.token_near:
        credit = 0.8 + 0.2 * (sim - config.token_near) / (1.0 - config.token_near)
        return PartMatch("close", sim, credit, a, b)
    if sim >= config.token_floor:
        credit = 0.5 * (sim - config.token_floor) / (config.token_near - config.token_floor)
        return PartMatch("weak", sim, credit, a, b)
    return None


def best_part_match(
    left_keys: Sequence[str], right_keys: Sequence[str], config: MatchConfig
) -> PartMatch | None:
    """Best classification over all alternative keys of two parts."""
    best: PartMatch | None = None
    for a in left_keys:
        for b in right_keys:
            found = compare_keys(a, b, config)
            if found is None:
                continue
            if found.kind == "equal":
                return found
            if best is None or _rank(found) > _rank(best):
                best = found
    return best


def _rank(match: PartMatch) -> tuple[int, float, float]:
    return (_KIND_RANK[match.kind], match.credit, match.similarity)
