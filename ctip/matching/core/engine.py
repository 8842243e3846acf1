"""The matching engine: blocking, comparison vectors, a Fellegi–Sunter model, clustering.

Pipeline (every step a pure function, no Django):

1. :func:`prepare` turns each :class:`PersonRecord` (plus optional extra identifying fields
   such as a document number or an address) into :class:`Features`: the name parts in the
   shared Khmer-Latin key space (every alternative reading of Khmer script and Chinese
   characters, and adjacent parts joined so "Sok Kha" meets "Sokha"), the birth range, sex,
   nationality.
2. :func:`candidate_pairs` (blocking) puts records into blocks by several keys and compares
   only records sharing a block: two name parts; one name part and the exact birth date;
   the exact birth date alone; the value of an identifier-like extra field. Blocks larger
   than ``max_block_size`` are skipped (and counted): such a key is too common to say
   anything, and another rule still catches true pairs. Cost grows with the number of
   records times the block sizes, not with its square.
3. :func:`compare_pair` gives a comparison vector: one agreement *level* per field (or
   ``None`` when a side lacks the field).
4. :class:`FellegiSunter` holds m and u probabilities per field and level. :func:`train`
   estimates u from random pairs and m (and the share of matches) by expectation
   maximisation over the blocked pairs, counting distinct vectors so it is cheap.
5. :func:`cluster` joins pairs at or above the match threshold into persons (union-find).

:func:`match_records` runs all of it. The result keeps every scored pair so a reviewer sees
the weight each field contributed.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from itertools import combinations

from rapidfuzz.distance import OSA, JaroWinkler

from .dates import BirthRange
from .hanzi import ranked_product
from .latin import khmer_latin_key
from .names import parse_name
from .people import PersonRecord
from .text import dedupe

__all__ = [
    "ComparisonLevel",
    "EngineConfig",
    "EngineResult",
    "Features",
    "FellegiSunter",
    "ScoredPair",
    "candidate_pairs",
    "cluster",
    "compare_pair",
    "match_records",
    "prepare",
    "train",
]

Progress = Callable[[str, int, int], None]

# --- configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineConfig:
    """Thresholds and limits of a matching run (recorded with each run's results)."""

    #: Match probability at or above which a pair is linked into one person.
    match_probability: float = 0.5
    #: Match probability at or above which a pair is offered for human review.
    review_probability: float = 0.1
    #: Blocks with more records than this are skipped (the key is too common).
    max_block_size: int = 400
    #: Name parts per name used for blocking and comparison.
    max_name_tokens: int = 5
    #: Alternative keys per name part (Chinese and Khmer readings).
    max_keys_per_part: int = 4
    #: Random pairs compared to estimate u probabilities.
    u_sample_pairs: int = 20000
    em_iterations: int = 40
    em_tolerance: float = 1e-6
    #: Seed of the random pair sample (runs are reproducible).
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("match_probability", "review_probability"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be strictly between 0 and 1, got {value!r}")
        if self.review_probability > self.match_probability:
            raise ValueError("review_probability must not exceed match_probability")
        for name in ("max_block_size", "max_name_tokens", "max_keys_per_part", "em_iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if isinstance(self.u_sample_pairs, bool) or not isinstance(self.u_sample_pairs, int):
            raise ValueError("u_sample_pairs must be an int")
        if self.u_sample_pairs < 100:
            raise ValueError("u_sample_pairs must be >= 100")

    def as_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# --- features -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Features:
    """What the engine compares of one record."""

    id: str
    #: Key sets of each name part (best key first), across all names of the record.
    parts: tuple[frozenset[str], ...]
    #: Every key of every part and of adjacent parts joined (both orders).
    atoms: frozenset[str]
    #: Adjacent parts joined: (index, index + 1, keys of the joined spelling).
    joined: tuple[tuple[int, int, frozenset[str]], ...]
    #: Blocking keys made of two name parts (or a joined part and another part).
    name_pairs: frozenset[str]
    #: Sorted best keys, joined: a string for fuzzy comparison of the whole name.
    sorted_key: str
    birth: BirthRange | None
    #: YYYYMMDD when the birth date is exact.
    birth_day: str
    sex: str | None
    nationality: str | None
    extra: tuple[tuple[str, str], ...] = ()


_NAME_CACHE: dict[tuple[str, int, int], tuple] = {}


def _name_features(text: str, max_tokens: int, max_keys: int) -> tuple:
    """(parts, atoms, pair keys) of one written name; cached per distinct text."""
    cache_key = (text, max_tokens, max_keys)
    hit = _NAME_CACHE.get(cache_key)
    if hit is not None:
        return hit
    tokens = [t for t in parse_name(text).tokens if t.keys][:max_tokens]
    parts = tuple(frozenset(t.keys[:max_keys]) for t in tokens)
    units: list[frozenset[str]] = list(parts)
    joined: list[tuple[int, int, frozenset[str]]] = []
    for i in range(len(tokens) - 1):
        for a, b in ((i, i + 1), (i + 1, i)):
            combos = ranked_product([tokens[a].spellings, tokens[b].spellings], max_keys)
            keys = frozenset(dedupe(khmer_latin_key("".join(c)) for c in combos))
            joined.append((i, i + 1, keys))
    atoms = frozenset().union(*units, *(k for _, _, k in joined)) if units else frozenset()
    pairs: set[str] = set()
    for x, y in combinations(range(len(parts)), 2):
        for kx in parts[x]:
            for ky in parts[y]:
                pairs.add("|".join(sorted((kx, ky))))
    for i, j, keys in joined:
        for other in range(len(parts)):
            if other in (i, j):
                continue
            for kj in keys:
                for ko in parts[other]:
                    pairs.add("|".join(sorted((kj, ko))))
    if len(parts) == 1 and not joined:
        # A one-part name still blocks with itself (records that hold only a given name).
        pairs.update(f"{k}|" for k in parts[0])
    result = (parts, atoms, frozenset(pairs), tuple(joined))
    if len(_NAME_CACHE) > 500_000:
        _NAME_CACHE.clear()
    _NAME_CACHE[cache_key] = result
    return result


def prepare(
    records: Iterable[PersonRecord],
    config: EngineConfig | None = None,
    extras: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Features]:
    """Features of each record; ``extras`` maps a record id to extra identifying fields."""
    config = config or EngineConfig()
    extras = extras or {}
    out: list[Features] = []
    for rec in records:
        parts: list[frozenset[str]] = []
        atoms: set[str] = set()
        pairs: set[str] = set()
        joined: list[tuple[int, int, frozenset[str]]] = []
        for text in rec.names:
            p, a, q, j = _name_features(text, config.max_name_tokens, config.max_keys_per_part)
            if any(x in parts for x in p):
                # A second name spelling the same parts (Khmer script and its Latin form).
                atoms |= a
                pairs |= q
                continue
            offset = len(parts)
            parts.extend(p)
            joined.extend((i + offset, k + offset, keys) for i, k, keys in j)
            atoms |= a
            pairs |= q
        best = sorted(min(p, key=len) if len(p) > 1 else next(iter(p)) for p in parts)
        birth = rec.birth
        day = birth.earliest.strftime("%Y%m%d") if birth and birth.earliest == birth.latest else ""
        extra = tuple(
            sorted(
                (k, _norm_extra(v)) for k, v in (extras.get(rec.id) or {}).items() if _norm_extra(v)
            )
        )
        out.append(
            Features(
                id=rec.id,
                parts=tuple(parts),
                atoms=frozenset(atoms),
                joined=tuple(joined),
                name_pairs=frozenset(pairs),
                sorted_key=" ".join(best),
                birth=birth,
                birth_day=day,
                sex=rec.sex,
                nationality=rec.nationality,
                extra=extra,
            )
        )
    return out


def _norm_extra(value: str | None) -> str:
    if value is None:
        return ""
    text = " ".join(str(value).split()).lower()
    if text in ("nan", "none", "null", "-"):
        return ""
    return "".join(ch for ch in text if ch.isalnum() or ch == " ").strip()


# --- blocking -----------------------------------------------------------------------------


@dataclass
class BlockingReport:
    rules: dict[str, int] = field(default_factory=dict)
    skipped_blocks: int = 0
    skipped_records: int = 0
    pairs: int = 0


def _block_keys(f: Features, id_fields: frozenset[str]) -> Iterator[str]:
    for key in f.name_pairs:
        yield "n:" + key
    if f.birth_day:
        for atom in f.atoms:
            yield f"d:{f.birth_day}:{atom}"
        yield f"ds:{f.birth_day}"
    for name, value in f.extra:
        if name in id_fields:
            yield f"x:{name}:{value}"


def identifier_fields(feats: Sequence[Features]) -> frozenset[str]:
    """Extra fields whose values are nearly unique (a document number, not a province):
    only those are blocking keys; the others are compared but would make huge blocks."""
    values: dict[str, set[str]] = defaultdict(set)
    counts: Counter = Counter()
    for f in feats:
        for name, value in f.extra:
            values[name].add(value)
            counts[name] += 1
    return frozenset(n for n in values if len(values[n]) >= 0.5 * counts[n])


def candidate_pairs(
    feats: Sequence[Features],
    config: EngineConfig | None = None,
    report: BlockingReport | None = None,
) -> list[tuple[int, int]]:
    """Index pairs (i < j) of records sharing at least one blocking key."""
    config = config or EngineConfig()
    report = report if report is not None else BlockingReport()
    blocks: dict[str, list[int]] = defaultdict(list)
    id_fields = identifier_fields(feats)
    for i, f in enumerate(feats):
        for key in _block_keys(f, id_fields):
            blocks[key].append(i)
    seen: set[int] = set()
    n = len(feats)
    pairs: list[tuple[int, int]] = []
    for key, members in blocks.items():
        size = len(members)
        if size < 2:
            continue
        if size > config.max_block_size:
            report.skipped_blocks += 1
            report.skipped_records += size
            continue
        rule = key.split(":", 1)[0]
        added = 0
        for a, b in combinations(members, 2):
            code = a * n + b
            if code not in seen:
                seen.add(code)
                pairs.append((a, b))
                added += 1
        report.rules[rule] = report.rules.get(rule, 0) + added
    report.pairs = len(pairs)
    return pairs


# --- comparison ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonLevel:
    """One agreement level of one field, with a label for people."""

    field: str
    level: int
    label: str


NAME_LEVELS = (
    "no name part in common",
    "one name part in common",
    "all but one part agree, the other is a close spelling",
    "the parts of the shorter name all agree",
    "every name part agrees",
)
BIRTH_LEVELS = (
    "births more than two years apart",
    "births within two years",
    "birth dates one typing slip apart",
    "birth ranges overlap",
    "same birth date",
)
EXACT_LEVELS = ("differs", "same")
EXTRA_LEVELS = ("differs", "similar", "very similar", "same")
FIELD_LEVELS: dict[str, tuple[str, ...]] = {
    "name": NAME_LEVELS,
    "birth": BIRTH_LEVELS,
    "sex": EXACT_LEVELS,
    "nationality": EXACT_LEVELS,
}


def _covered(f: Features, atoms: frozenset[str]) -> list[bool]:
    """Which parts of ``f`` agree with some part (or joined parts) of the other name."""
    out = [not p.isdisjoint(atoms) for p in f.parts]
    for i, j, keys in f.joined:
        if not (out[i] and out[j]) and not keys.isdisjoint(atoms):
            out[i] = out[j] = True
    return out


def name_level(a: Features, b: Features) -> int | None:
    if not a.parts or not b.parts:
        return None
    ca = _covered(a, b.atoms)
    cb = _covered(b, a.atoms)
    hits_a, hits_b = sum(ca), sum(cb)
    if hits_a == len(ca) and hits_b == len(cb):
        return 4
    short = min(len(ca), len(cb))
    if (hits_a == len(ca) or hits_b == len(cb)) and min(hits_a, hits_b) >= min(2, short):
        return 3
    miss_a = [p for p, c in zip(a.parts, ca, strict=True) if not c]
    miss_b = [p for p, c in zip(b.parts, cb, strict=True) if not c]
    if len(miss_a) <= 1 and len(miss_b) <= 1 and (hits_a or hits_b):
        if miss_a and miss_b and _close(miss_a[0], miss_b[0]):
            return 2
        if not miss_a or not miss_b:
            return 2 if max(hits_a, hits_b) >= 1 and (len(ca) > 1 and len(cb) > 1) else 1
    if hits_a or hits_b:
        return 1
    if JaroWinkler.normalized_similarity(a.sorted_key, b.sorted_key) >= 0.94:
        return 2
    return 0


def _close(x: frozenset[str], y: frozenset[str]) -> bool:
    for kx in x:
        for ky in y:
            if OSA.distance(kx, ky) <= 1 and min(len(kx), len(ky)) >= 3:
                return True
            if JaroWinkler.normalized_similarity(kx, ky) >= 0.9:
                return True
    return False


def birth_level(a: Features, b: Features) -> int | None:
    if a.birth is None or b.birth is None:
        return None
    if a.birth_day and a.birth_day == b.birth_day:
        return 4
    if a.birth_day and b.birth_day:
        if _date_slip(a.birth_day, b.birth_day):
            return 2
    elif a.birth.overlaps(b.birth):
        return 3
    return 1 if a.birth.distance_years(b.birth) <= 2.0 else 0


def _date_slip(x: str, y: str) -> bool:
    """One mistyped digit, two swapped digits, or day and month swapped."""
    if OSA.distance(x, y) <= 1:
        return True
    return x[:4] == y[:4] and x[4:6] == y[6:8] and x[6:8] == y[4:6]


def _exact_level(x: str | None, y: str | None) -> int | None:
    if not x or not y:
        return None
    return 1 if x == y else 0


def _extra_level(x: str, y: str) -> int:
    if x == y:
        return 3
    sim = JaroWinkler.normalized_similarity(x, y)
    if sim >= 0.92:
        return 2
    if sim >= 0.8:
        return 1
    return 0


def field_names(feats: Sequence[Features]) -> tuple[str, ...]:
    extra = sorted({name for f in feats for name, _ in f.extra})
    return ("name", "birth", "sex", "nationality", *(f"x:{name}" for name in extra))


def level_count(field_name: str) -> int:
    if field_name.startswith("x:"):
        return len(EXTRA_LEVELS)
    return len(FIELD_LEVELS[field_name])


def level_label(field_name: str, level: int) -> str:
    if field_name.startswith("x:"):
        return EXTRA_LEVELS[level]
    return FIELD_LEVELS[field_name][level]


def compare_pair(a: Features, b: Features, names: Sequence[str]) -> tuple[int | None, ...]:
    """The comparison vector of two records over ``names`` (see :func:`field_names`)."""
    out: list[int | None] = [
        name_level(a, b),
        birth_level(a, b),
        _exact_level(a.sex, b.sex),
        _exact_level(a.nationality, b.nationality),
    ]
    if len(names) > 4:
        ea, eb = dict(a.extra), dict(b.extra)
        for name in names[4:]:
            key = name[2:]
            x, y = ea.get(key), eb.get(key)
            out.append(None if not x or not y else _extra_level(x, y))
    return tuple(out)


# --- the Fellegi–Sunter model ---------------------------------------------------------------


@dataclass
class FellegiSunter:
    """m and u probabilities per field and level, and the prior share of matches."""

    fields: tuple[str, ...]
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    prior: float

    def bayes_factors(self, vector: Sequence[int | None]) -> list[tuple[str, int, float]]:
        """(field, level, log2 Bayes factor) for each field both records have."""
        out = []
        for name, level in zip(self.fields, vector, strict=True):
            if level is None:
                continue
            out.append((name, level, math.log2(self.m[name][level] / self.u[name][level])))
        return out

    def weight(self, vector: Sequence[int | None]) -> float:
        prior = math.log2(self.prior / (1.0 - self.prior))
        return prior + sum(w for _, _, w in self.bayes_factors(vector))

    def probability(self, vector: Sequence[int | None]) -> float:
        w = self.weight(vector)
        if w > 60:
            return 1.0
        if w < -60:
            return 0.0
        odds = 2.0**w
        return odds / (1.0 + odds)

    def as_dict(self) -> dict:
        return {"fields": list(self.fields), "m": self.m, "u": self.u, "prior": self.prior}

    @classmethod
    def from_dict(cls, data: Mapping) -> FellegiSunter:
        names = tuple(data["fields"])
        m = {k: [float(x) for x in data["m"][k]] for k in names}
        u = {k: [float(x) for x in data["u"][k]] for k in names}
        for k in names:
            if len(m[k]) != level_count(k) or len(u[k]) != level_count(k):
                raise ValueError(f"model field {k!r} has the wrong number of levels")
            if not all(0 < x <= 1 for x in m[k] + u[k]):
                raise ValueError(f"model field {k!r} has probabilities outside (0, 1]")
        prior = float(data["prior"])
        if not 0 < prior < 1:
            raise ValueError("model prior must be in (0, 1)")
        return cls(names, m, u, prior)


_FLOOR = 1e-6


def _normalise(counts: list[float]) -> list[float]:
    total = sum(counts)
    if total <= 0:
        return [1.0 / len(counts)] * len(counts)
    probs = [max(c / total, _FLOOR) for c in counts]
    s = sum(probs)
    return [p / s for p in probs]


#: Starting m probabilities (and the node's weights before any training), per level of
#: each field in FIELD_LEVELS: matches mostly agree, one typing slip is common.
DEFAULT_M = {
    "name": [0.01, 0.04, 0.1, 0.15, 0.7],
    "birth": [0.03, 0.1, 0.07, 0.4, 0.4],
    "sex": [0.05, 0.95],
    "nationality": [0.1, 0.9],
}
DEFAULT_U = {
    "name": [0.6, 0.3, 0.05, 0.03, 0.02],
    "birth": [0.7, 0.15, 0.01, 0.13, 0.01],
    "sex": [0.5, 0.5],
    "nationality": [0.4, 0.6],
}


def default_model() -> FellegiSunter:
    names = tuple(DEFAULT_M)
    return FellegiSunter(names, dict(DEFAULT_M), dict(DEFAULT_U), 0.1)


def _initial_m(n_levels: int) -> list[float]:
    # Matches mostly agree: the top level gets most of the mass.
    raw = [0.5 ** (n_levels - 1 - i) for i in range(n_levels)]
    raw[-1] *= 4
    return _normalise(raw)


def estimate_u(
    feats: Sequence[Features], names: Sequence[str], config: EngineConfig
) -> dict[str, list[float]]:
    """u probabilities from random pairs (almost all of which are different people)."""
    rng = random.Random(config.seed)  # noqa: S311 - a reproducible sample, not a secret
    n = len(feats)
    counts = {k: [1.0] * level_count(k) for k in names}  # add-one smoothing
    if n < 2:
        return {k: _normalise(v) for k, v in counts.items()}
    total_pairs = n * (n - 1) // 2
    if total_pairs <= config.u_sample_pairs:
        sample: Iterable[tuple[int, int]] = combinations(range(n), 2)
    else:
        sample = (tuple(rng.sample(range(n), 2)) for _ in range(config.u_sample_pairs))
    for i, j in sample:
        for name, level in zip(names, compare_pair(feats[i], feats[j], names), strict=True):
            if level is not None:
                counts[name][level] += 1
    return {k: _normalise(v) for k, v in counts.items()}


def _em(
    items: list[tuple[tuple[int | None, ...], int]],
    model: FellegiSunter,
    *,
    update: frozenset[str],
    ignore: frozenset[str] = frozenset(),
    iterations: int,
    tolerance: float,
) -> FellegiSunter:
    """EM over (vector, count) items: m of the ``update`` fields and a working prior are
    fitted, u stays fixed; ``ignore`` fields (the one the items were selected on) do not
    enter the likelihood."""
    names = model.fields
    keep = [i for i, n in enumerate(names) if n not in ignore]
    sub = FellegiSunter(
        tuple(names[i] for i in keep),
        {names[i]: model.m[names[i]] for i in keep},
        {names[i]: model.u[names[i]] for i in keep},
        model.prior,
    )
    sub_items = [(tuple(v[i] for i in keep), c) for v, c in items]
    total = sum(c for _, c in sub_items)
    if not total:
        return model
    for _ in range(iterations):
        m_counts = {k: [0.0] * level_count(k) for k in sub.fields}
        expected = 0.0
        for vector, count in sub_items:
            p = sub.probability(vector) * count
            expected += p
            for name, level in zip(sub.fields, vector, strict=True):
                if level is not None:
                    m_counts[name][level] += p
        new_m = {k: (_normalise(m_counts[k]) if k in update else sub.m[k]) for k in sub.fields}
        new_prior = min(max(expected / total, 1e-6), 1 - 1e-6)
        delta = abs(new_prior - sub.prior) + max(
            abs(x - y) for k in sub.fields for x, y in zip(new_m[k], sub.m[k], strict=True)
        )
        sub = FellegiSunter(sub.fields, new_m, sub.u, new_prior)
        if delta < tolerance:
            break
    m = dict(model.m)
    m.update({k: sub.m[k] for k in update if k in sub.m})
    return FellegiSunter(model.fields, m, model.u, sub.prior)


#: Fewest pairs a subset needs before its EM is trusted (else the defaults stay).
MIN_TRAINING_PAIRS = 30


def train(
    vectors: Counter,
    names: Sequence[str],
    u: Mapping[str, list[float]],
    config: EngineConfig | None = None,
    *,
    all_pairs: int | None = None,
) -> FellegiSunter:
    """Fit m probabilities and the share of matches, as Splink does it.

    u comes from random pairs (``u``, fixed). The name's m is fitted on the pairs whose
    birth dates are equal, ignoring birth; the birth's m on the pairs whose names agree in
    every part, ignoring the name (a field's m must not be learned from the pairs selected
    *because* it agrees); the other fields' m on all pairs; the prior last, on all pairs
    with every m and u fixed: the share of matches among *all* ``all_pairs`` pairs of
    records (pairs not blocked count as non-matches), because u describes random pairs.
    Each EM counts distinct vectors, so it costs their number, not the number of pairs.
    """
    config = config or EngineConfig()
    names = tuple(names)
    model = FellegiSunter(
        names,
        {k: list(DEFAULT_M.get(k) or _initial_m(level_count(k))) for k in names},
        {k: list(u[k]) for k in names},
        0.1,
    )
    if not vectors:
        return model
    items = list(vectors.items())
    run = {"iterations": config.em_iterations, "tolerance": config.em_tolerance}
    i_name, i_birth = names.index("name"), names.index("birth")
    same_birth = [(v, c) for v, c in items if v[i_birth] == len(BIRTH_LEVELS) - 1]
    same_name = [(v, c) for v, c in items if v[i_name] == len(NAME_LEVELS) - 1]
    if sum(c for _, c in same_birth) >= MIN_TRAINING_PAIRS:
        model = _em(
            same_birth, model, update=frozenset({"name"}), ignore=frozenset({"birth"}), **run
        )
    if sum(c for _, c in same_name) >= MIN_TRAINING_PAIRS:
        model = _em(
            same_name, model, update=frozenset({"birth"}), ignore=frozenset({"name"}), **run
        )
    others = frozenset(names) - {"name", "birth"}
    model = _em(items, model, update=others, **run)
    blocked = sum(vectors.values())
    total = max(all_pairs or blocked, blocked)
    prior = min(0.1, blocked / total)
    for _ in range(config.em_iterations):
        fitted = FellegiSunter(names, model.m, model.u, prior)
        expected = sum(fitted.probability(v) * c for v, c in items)
        new_prior = min(max(expected / total, 1e-9), 1 - 1e-6)
        if abs(new_prior - prior) < prior * 1e-4:
            prior = new_prior
            break
        prior = new_prior
    return FellegiSunter(names, model.m, model.u, prior)


# --- clustering ---------------------------------------------------------------------------


def cluster(ids: Sequence[str], links: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Connected components: each id -> cluster id (the smallest member id, deterministic)."""
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra
    return {i: find(i) for i in ids}


# --- the whole run ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoredPair:
    left_id: str
    right_id: str
    probability: float
    vector: tuple[int | None, ...]


@dataclass
class EngineResult:
    model: FellegiSunter
    clusters: dict[str, str]
    pairs: list[ScoredPair]
    blocking: BlockingReport
    config: EngineConfig

    def explain(self, pair: ScoredPair) -> list[tuple[str, str, float]]:
        """(field, level label, log2 Bayes factor) per field: the evidence of one pair."""
        return [
            (name, level_label(name, level), round(w, 2))
            for name, level, w in self.model.bayes_factors(pair.vector)
        ]

    @property
    def links(self) -> list[ScoredPair]:
        return [p for p in self.pairs if p.probability >= self.config.match_probability]

    @property
    def review(self) -> list[ScoredPair]:
        lo, hi = self.config.review_probability, self.config.match_probability
        return [p for p in self.pairs if lo <= p.probability < hi]


def _noop(stage: str, done: int, total: int) -> None:
    return None


def match_records(
    records: Sequence[PersonRecord],
    config: EngineConfig | None = None,
    *,
    extras: Mapping[str, Mapping[str, str]] | None = None,
    model: FellegiSunter | None = None,
    progress: Progress | None = None,
) -> EngineResult:
    """Deduplicate ``records``: blocking, comparison, a trained (or given) model, clusters."""
    config = config or EngineConfig()
    progress = progress or _noop
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        raise ValueError("record ids must be unique")
    feats: list[Features] = []
    step = max(len(records) // 100, 1000)
    for start in range(0, len(records), step):
        feats.extend(prepare(records[start : start + step], config, extras))
        progress("normalise", len(feats), len(records))
    report = BlockingReport()
    pairs = candidate_pairs(feats, config, report)
    names = model.fields if model is not None else field_names(feats)
    vectors: list[tuple[int | None, ...]] = []
    step = max(len(pairs) // 100, 5000)
    for start in range(0, len(pairs), step):
        vectors.extend(
            compare_pair(feats[i], feats[j], names) for i, j in pairs[start : start + step]
        )
        progress("compare", len(vectors), len(pairs))
    if model is None:
        u = estimate_u(feats, names, config)
        n = len(feats)
        model = train(Counter(vectors), names, u, config, all_pairs=n * (n - 1) // 2)
    progress("train", 1, 1)
    prob_cache: dict[tuple[int | None, ...], float] = {}
    scored: list[ScoredPair] = []
    for (i, j), vector in zip(pairs, vectors, strict=True):
        p = prob_cache.get(vector)
        if p is None:
            p = prob_cache[vector] = model.probability(vector)
        if p >= config.review_probability:
            scored.append(ScoredPair(feats[i].id, feats[j].id, p, vector))
    links = [(p.left_id, p.right_id) for p in scored if p.probability >= config.match_probability]
    clusters = cluster(ids, links)
    progress("cluster", 1, 1)
    return EngineResult(model, clusters, scored, report, config)


def birth_from_fields(
    birth_date: str, age: str, record_date: date | None, *, today: date
) -> tuple[BirthRange | None, bool]:
    """(range, unparseable): the birth date as written, else the age on the record date.

    Text that is neither is *unknown* (None) and flagged, never an error: case files hold
    "unknown", "?", "១៩៩៨?" and worse.
    """
    text = (birth_date or "").strip()
    if text:
        try:
            return BirthRange.parse(text), False
        except ValueError:
            return None, True
    age_text = (age or "").strip()
    if age_text:
        try:
            return BirthRange.parse(age_text, reference=record_date or today), False
        except ValueError:
            return None, True
    return None, False
