"""Compare names and people, and say why: every decision carries evidence for and against.

Caseworkers and police officers act on these results (reuniting a family, or not), so a bare
score is not enough. Each comparison lists in plain words which name parts agreed and how
they were read (romanised Khmer, pinyin of Chinese), which differed, and what birth, sex and
nationality added.

Names are compared part by part in the shared Khmer-Latin phonetic key space:

1. Both names are parsed (:func:`parse_name`). Adjacent parts may also be joined, in
   written and in reversed order, so "Sok Kha" meets "Sokha" and an unspaced "សុខាចាន់"
   meets "Chan Sokha".
2. Every pair of parts (or joined parts) is classified by :mod:`.parts` as equal, close,
   vowel variant, weak, or unrelated, taking the best of their alternative keys.
3. Pairs are chosen greedily, strongest first, never reusing a part; order is ignored.
   Two tie-breaks are tried (separate parts first / joined parts first) and the better
   alignment kept.
4. Matched parts earn credit in proportion to their key length. Parts left over on *both*
   sides contradict each other and cost ``conflict_part_weight``; parts left over on one side
   only (a record holding just the given name) cost ``missing_part_weight``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from .config import DEFAULT_CONFIG, MatchConfig
from .dates import BirthRange
from .hanzi import ranked_product
from .latin import khmer_latin_key
from .names import NameToken, ParsedName, parse_name
from .parts import PartMatch, best_part_match
from .people import PersonRecord
from .text import dedupe

Direction = Literal["for", "against", "note"]
Decision = Literal["match", "possible", "non_match"]


@dataclass(frozen=True)
class Evidence:
    """One human-readable reason, for or against a match, or a neutral note."""

    direction: Direction
    text: str


def _texts(items: tuple[Evidence, ...], direction: Direction) -> tuple[str, ...]:
    return tuple(e.text for e in items if e.direction == direction)


@dataclass(frozen=True)
class NameEvidence:
    """Result of comparing two names: a score in [0, 1] and the reasons behind it."""

    score: float
    items: tuple[Evidence, ...]
    #: Parts with equal phonetic keys.
    agreeing_parts: int
    #: Parts that are close spellings or vowel variants (enough for review, not for 'match').
    similar_parts: int
    #: Parts that differ, or are left over on both sides.
    conflicting_parts: int
    #: Parts present in only one of the names.
    missing_parts: int
    left: ParsedName
    right: ParsedName

    @property
    def evidence_for(self) -> tuple[str, ...]:
        return _texts(self.items, "for")

    @property
    def evidence_against(self) -> tuple[str, ...]:
        return _texts(self.items, "against")

    @property
    def notes(self) -> tuple[str, ...]:
        return _texts(self.items, "note")


@dataclass(frozen=True)
class MatchResult:
    """Result of comparing two person records."""

    left_id: str
    right_id: str
    score: float
    decision: Decision
    items: tuple[Evidence, ...]
    name: NameEvidence | None
    #: (component, score) for name, birth, sex and nationality, where both records had it.
    components: tuple[tuple[str, float], ...]

    @property
    def evidence_for(self) -> tuple[str, ...]:
        return _texts(self.items, "for")

    @property
    def evidence_against(self) -> tuple[str, ...]:
        return _texts(self.items, "against")

    @property
    def notes(self) -> tuple[str, ...]:
        return _texts(self.items, "note")


# --- Spans: one name part, or adjacent parts joined ---------------------------------------


@dataclass(frozen=True)
class _Span:
    ids: frozenset[int]
    tokens: tuple[NameToken, ...]
    keys: tuple[str, ...]

    @property
    def mass(self) -> int:
        return sum(max(len(t.key), 1) for t in self.tokens)

    @property
    def describe(self) -> str:
        text = " ".join(t.text for t in self.tokens)
        reading = " ".join(t.reading for t in self.tokens)
        joined = " (joined)" if len(self.tokens) > 1 else ""
        script = self.tokens[0].script
        if script == "khmer":
            return f"'{text}' (romanised '{reading}'){joined}"
        if script == "han":
            return f"'{text}' (pinyin '{reading}'){joined}"
        return f"'{text}'{joined}"

    @property
    def role_label(self) -> str:
        roles = {t.role for t in self.tokens}
        role = roles.pop() if len(roles) == 1 else None
        return {"family": "family name", "given": "given name"}.get(role or "", "name part")


@dataclass(frozen=True)
class _Pair:
    left: _Span
    right: _Span
    match: PartMatch

    @property
    def size(self) -> int:
        return len(self.left.ids) + len(self.right.ids)

    @property
    def role_label(self) -> str:
        left, right = self.left.role_label, self.right.role_label
        return left if left != "name part" else right


def _spans(name: ParsedName, config: MatchConfig) -> list[_Span]:
    tokens = name.tokens[: config.max_name_tokens]
    n = len(tokens)
    orders = [tuple(range(n))]
    if n > 1:
        orders.append(tuple(reversed(range(n))))
    spans: list[_Span] = []
    for order_no, order in enumerate(orders):
        for start in range(n):
            for length in range(1, min(config.max_merge_tokens, n - start) + 1):
                if length == 1 and order_no == 1:
                    continue  # a single part is the same in both orders
                ids = order[start : start + length]
                toks = tuple(tokens[i] for i in ids)
                spans.append(_Span(frozenset(ids), toks, _span_keys(toks, config)))
    return spans


def _span_keys(tokens: tuple[NameToken, ...], config: MatchConfig) -> tuple[str, ...]:
    if len(tokens) == 1:
        return tokens[0].keys[: config.max_spellings]
    combos = ranked_product([t.spellings for t in tokens], config.max_spellings)
    return dedupe(khmer_latin_key("".join(combo)) for combo in combos)


# --- Alignment ---------------------------------------------------------------------------


def _candidates(a: ParsedName, b: ParsedName, config: MatchConfig) -> list[_Pair]:
    candidates: list[_Pair] = []
    for left in _spans(a, config):
        for right in _spans(b, config):
            match = best_part_match(left.keys, right.keys, config)
            if match is not None:
                candidates.append(_Pair(left, right, match))
    return candidates


def _greedy(candidates: list[_Pair]) -> list[_Pair]:
    used_a: set[int] = set()
    used_b: set[int] = set()
    chosen: list[_Pair] = []
    for pair in candidates:
        if pair.left.ids & used_a or pair.right.ids & used_b:
            continue
        chosen.append(pair)
        used_a |= pair.left.ids
        used_b |= pair.right.ids
    return chosen


def _alignments(a: ParsedName, b: ParsedName, config: MatchConfig) -> list[list[_Pair]]:
    """Greedy alignments, strongest pair first, with both tie-breaks.

    Separate parts first finds "Chan"="Chan" and "Sok Kha"="Sokha" (two agreeing parts);
    joined parts first finds "Suo Ka"="Sok Kha", where "Ka"="Kha" alone would mislead.
    """
    candidates = _candidates(a, b, config)

    def strength(p: _Pair) -> tuple[float, float]:
        return (-p.match.credit, -p.match.similarity)

    separate_first = sorted(candidates, key=lambda p: (*strength(p), p.size))
    joined_first = sorted(candidates, key=lambda p: (*strength(p), -p.size))
    return [_greedy(separate_first), _greedy(joined_first)]


@dataclass(frozen=True)
class _Scored:
    pairs: list[_Pair]
    rest_a: list[_Span]
    rest_b: list[_Span]
    score: float
    agreeing: int
    similar: int
    conflicting: int
    missing: int


def _leftovers(name: ParsedName, pairs: list[_Pair], side: str, config: MatchConfig) -> list[_Span]:
    used: set[int] = set()
    for pair in pairs:
        used |= getattr(pair, side).ids
    tokens = name.tokens[: config.max_name_tokens]
    return [_Span(frozenset({i}), (t,), t.keys) for i, t in enumerate(tokens) if i not in used]


def _score_alignment(
    left: ParsedName, right: ParsedName, pairs: list[_Pair], config: MatchConfig
) -> _Scored:
    rest_a = _leftovers(left, pairs, "left", config)
    rest_b = _leftovers(right, pairs, "right", config)
    earned = sum(p.match.credit * (p.left.mass + p.right.mass) for p in pairs)
    total = sum(p.left.mass + p.right.mass for p in pairs)
    rest_mass = sum(s.mass for s in rest_a) + sum(s.mass for s in rest_b)
    both_sides = bool(rest_a) and bool(rest_b)
    weight = config.conflict_part_weight if both_sides else config.missing_part_weight
    denominator = total + weight * rest_mass
    kinds = [p.match.kind for p in pairs]
    leftover_conflicts = max(len(rest_a), len(rest_b)) if both_sides else 0
    return _Scored(
        pairs=pairs,
        rest_a=rest_a,
        rest_b=rest_b,
        score=earned / denominator if denominator else 0.0,
        agreeing=kinds.count("equal"),
        similar=kinds.count("close") + kinds.count("vowel"),
        conflicting=kinds.count("weak") + leftover_conflicts,
        missing=0 if both_sides else len(rest_a) + len(rest_b),
    )


# --- Evidence for names --------------------------------------------------------------------


def _reading_notes(name: ParsedName) -> list[Evidence]:
    notes: list[Evidence] = []
    if name.script == "khmer":
        notes.append(Evidence("note", f"Khmer script '{name.text}' romanised as '{name.reading}'"))
    elif name.script == "han":
        notes.append(Evidence("note", f"Chinese '{name.text}' read as pinyin '{name.reading}'"))
    notes.extend(
        Evidence("note", f"honorific '{h}' in '{name.text}' ignored") for h in name.removed
    )
    return notes


def _name_label(name: ParsedName) -> str:
    if name.script == "khmer":
        return f"Khmer script name '{name.text}' (romanised '{name.reading}')"
    if name.script == "han":
        return f"Chinese name '{name.text}' (pinyin '{name.reading}')"
    return f"name '{name.text}'"


def _pair_evidence(pair: _Pair) -> Evidence:
    left, right, m = pair.left.describe, pair.right.describe, pair.match
    keys = f"'{m.left_key}' ~ '{m.right_key}'"
    if m.kind == "equal":
        return Evidence("for", f"{left} equals {right} (phonetic key '{m.left_key}')")
    if m.kind == "close":
        return Evidence(
            "for",
            f"{left} and {right} are close spellings ({keys}, similarity {m.similarity:.2f}): "
            "a typo or variant, to be confirmed by a person",
        )
    if m.kind == "vowel":
        return Evidence(
            "for",
            f"{left} and {right} differ only in a commonly confused vowel ({keys}): "
            "a spelling variant, to be confirmed by a person",
        )
    why = "different ending" if m.different_ending else f"similarity {m.similarity:.2f}"
    return Evidence(
        "against",
        f"{pair.role_label} differs: {left} vs {right} ('{m.left_key}' vs '{m.right_key}', {why})",
    )


def _leftover_evidence(rest_a: list[_Span], rest_b: list[_Span]) -> list[Evidence]:
    if rest_a and rest_b:
        return [
            Evidence("against", f"{s.role_label} {s.describe} has no counterpart in the other name")
            for s in [*rest_a, *rest_b]
        ]
    return [
        Evidence(
            "against",
            f"{s.role_label} {s.describe} appears in only one of the names "
            "(a record may hold only part of a name)",
        )
        for s in [*rest_a, *rest_b]
    ]


def _order_note(pairs: list[_Pair]) -> Evidence | None:
    ordered = sorted(pairs, key=lambda p: min(p.left.ids))
    rights = [min(p.right.ids) for p in ordered]
    if rights == sorted(rights):
        return None
    return Evidence("note", "name parts are in a different order (ignored: documents use either)")


def compare_names(
    a: str | ParsedName, b: str | ParsedName, config: MatchConfig = DEFAULT_CONFIG
) -> NameEvidence:
    """Score how likely two written names (any script) are the same person's name.

    >>> ev = compare_names("សុខា ចាន់", "CHAN SOKHA")
    >>> ev.score, ev.agreeing_parts
    (1.0, 2)
    """
    left = a if isinstance(a, ParsedName) else parse_name(a)
    right = b if isinstance(b, ParsedName) else parse_name(b)
    items = [*_reading_notes(left), *_reading_notes(right)]
    if not left.tokens or not right.tokens:
        items.append(Evidence("against", "no usable name to compare"))
        return NameEvidence(0.0, tuple(items), 0, 0, 0, 0, left, right)

    scored = [_score_alignment(left, right, p, config) for p in _alignments(left, right, config)]
    best = max(scored, key=lambda s: (s.score, s.agreeing, -s.conflicting))

    items.extend(_pair_evidence(p) for p in best.pairs)
    items.extend(_leftover_evidence(best.rest_a, best.rest_b))
    if order := _order_note(best.pairs):
        items.append(order)
    all_equal = best.pairs and best.agreeing == len(best.pairs)
    if all_equal and not best.rest_a and not best.rest_b:
        keys = ", ".join(sorted(p.match.left_key for p in best.pairs))
        items.append(
            Evidence(
                "for",
                f"{_name_label(left)} and {_name_label(right)} have the same set of name "
                f"parts after phonetic keying: {{{keys}}}",
            )
        )
    ratio = fuzz.token_set_ratio(" ".join(left.keys), " ".join(right.keys))
    items.append(Evidence("note", f"token-set ratio of phonetic keys: {ratio:.0f}/100"))
    return NameEvidence(
        score=round(best.score, 4),
        items=tuple(items),
        agreeing_parts=best.agreeing,
        similar_parts=best.similar,
        conflicting_parts=best.conflicting,
        missing_parts=best.missing,
        left=left,
        right=right,
    )


# --- compare_people ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Component:
    """What one attribute (birth, sex, nationality) adds; score None when a side lacks it."""

    label: str
    score: float | None
    weight: float
    evidence: Evidence | None = None
    veto: bool = False


def _best_name_evidence(
    a: PersonRecord, b: PersonRecord, config: MatchConfig
) -> tuple[NameEvidence | None, int]:
    names_a = [n for n in (parse_name(x) for x in a.names) if n.tokens]
    names_b = [n for n in (parse_name(x) for x in b.names) if n.tokens]
    best: NameEvidence | None = None
    for na in names_a:
        for nb in names_b:
            ev = compare_names(na, nb, config)
            if best is None or (ev.score, ev.agreeing_parts) > (best.score, best.agreeing_parts):
                best = ev
    return best, len(names_a) * len(names_b)


def _birth(a: BirthRange | None, b: BirthRange | None, config: MatchConfig) -> _Component:
    weight = config.weight_birth
    if a is None or b is None:
        return _Component("birth", None, weight, Evidence("note", "birth unknown on one side"))
    if a.overlaps(b):
        return _Component(
            "birth", 1.0, weight, Evidence("for", f"birth ranges overlap: {a} and {b}")
        )
    gap = a.distance_years(b)
    if gap > config.birth_max_gap_years:
        text = f"births too far apart: {a} and {b} ({gap:.1f} years)"
        return _Component("birth", 0.0, weight, Evidence("against", text), veto=True)
    text = f"birth ranges close but not overlapping: {a} and {b} ({gap:.1f} years)"
    score = 0.5 * (1.0 - gap / config.birth_max_gap_years)
    return _Component("birth", score, weight, Evidence("against", text))


def _sex(a: str | None, b: str | None, config: MatchConfig) -> _Component:
    weight = config.weight_sex
    if a is None or b is None:
        return _Component("sex", None, weight)
    if a == b:
        return _Component("sex", 1.0, weight, Evidence("for", f"same recorded sex ({a})"))
    evidence = Evidence("against", f"recorded sex differs ({a} vs {b})")
    return _Component("sex", 0.0, weight, evidence, veto=config.sex_mismatch_is_veto)


def _nationality(a: str | None, b: str | None, config: MatchConfig) -> _Component:
    weight = config.weight_nationality
    if a is None or b is None:
        return _Component("nationality", None, weight)
    if a == b:
        return _Component("nationality", 1.0, weight, Evidence("for", f"same nationality ({a})"))
    # Never a veto: victims are often moved on false or borrowed documents.
    evidence = Evidence("against", f"nationality differs ({a} vs {b})")
    return _Component("nationality", 0.0, weight, evidence)


def compare_people(
    a: PersonRecord, b: PersonRecord, config: MatchConfig = DEFAULT_CONFIG
) -> MatchResult:
    """Combine names, birth range, sex and nationality into a score, a decision and evidence.

    The score is the weighted mean of the components both records have. A *veto* (recorded
    sex differs, births more than ``birth_max_gap_years`` apart) gives ``'non_match'``.
    ``'possible'`` (for human review) needs a name score >= ``name_possible_min``, more name
    parts agreeing (or similar) than conflicting, and a score >= ``possible_threshold``.
    ``'match'`` also needs a score >= ``match_threshold``, a name score >= ``name_match_min``,
    two name parts with equal keys, no part that is only similar or conflicts, no
    contradiction (sex or birth, even when not configured as a veto) and, by default,
    overlapping birth ranges.
    """
    name_ev, pair_count = _best_name_evidence(a, b, config)
    items: list[Evidence] = []
    components = [
        _birth(a.birth, b.birth, config),
        _sex(a.sex, b.sex, config),
        _nationality(a.nationality, b.nationality, config),
    ]
    if name_ev is None:
        items.append(Evidence("against", "no comparable names"))
    else:
        items.extend(name_ev.items)
        if pair_count > 1:
            pair = f"'{name_ev.left.text}' vs '{name_ev.right.text}'"
            items.append(Evidence("note", f"best of {pair_count} name pairs: {pair}"))
        components.insert(0, _Component("name", name_ev.score, config.weight_name))
    items.extend(c.evidence for c in components if c.evidence is not None)

    scored = [(c.label, c.score, c.weight) for c in components if c.score is not None]
    total_weight = sum(w for _, _, w in scored)
    combined = sum(s * w for _, s, w in scored) / total_weight if total_weight else 0.0
    decision, reason = _decide(
        combined, name_ev, a, b, [c.label for c in components if c.veto], config
    )
    items.append(Evidence("note", reason))
    return MatchResult(
        left_id=a.id,
        right_id=b.id,
        score=round(combined, 4),
        decision=decision,
        items=tuple(items),
        name=name_ev,
        components=tuple((label, round(s, 4)) for label, s, _ in scored),
    )


def _decide(
    combined: float,
    name_ev: NameEvidence | None,
    a: PersonRecord,
    b: PersonRecord,
    vetoes: list[str],
    config: MatchConfig,
) -> tuple[Decision, str]:
    if name_ev is None:
        return "non_match", "non_match: no names to compare"
    if vetoes:
        return "non_match", f"non_match: vetoed by {' and '.join(vetoes)}"
    if name_ev.score < config.name_possible_min:
        return "non_match", f"non_match: name score {name_ev.score:.3f} too low"
    supporting = name_ev.agreeing_parts + name_ev.similar_parts
    if name_ev.conflicting_parts and name_ev.conflicting_parts >= supporting:
        return "non_match", "non_match: as many name parts conflict as agree"
    if combined < config.possible_threshold:
        return "non_match", f"non_match: combined score {combined:.3f} too low"
    blockers = _match_blockers(combined, name_ev, a, b, config)
    if blockers:
        return "possible", "possible (needs review): " + "; ".join(blockers)
    return "match", f"match: combined score {combined:.3f}, name score {name_ev.score:.3f}"


def _match_blockers(
    combined: float, name_ev: NameEvidence, a: PersonRecord, b: PersonRecord, config: MatchConfig
) -> list[str]:
    """Why a pair that is at least 'possible' is not a 'match' (empty when it is)."""
    blockers = []
    if combined < config.match_threshold:
        blockers.append(f"combined score {combined:.3f} below {config.match_threshold}")
    if name_ev.score < config.name_match_min:
        blockers.append(f"name score {name_ev.score:.3f} below {config.name_match_min}")
    if name_ev.agreeing_parts < 2:
        blockers.append("fewer than two name parts are equal")
    if name_ev.similar_parts:
        blockers.append("a name part is only similar")
    if name_ev.conflicting_parts:
        blockers.append("a name part conflicts")
    if a.sex and b.sex and a.sex != b.sex:
        blockers.append("recorded sex differs")
    if a.birth and b.birth and not a.birth.overlaps(b.birth):
        blockers.append("birth ranges do not overlap")
    elif config.match_requires_birth and not (a.birth and b.birth):
        blockers.append("birth unknown on one side")
    return blockers


# --- Blocking ----------------------------------------------------------------------------


def _initial(key: str) -> str:
    """First sound class of a key: vowels pooled ("Oudom"/"Udom"); "ch" is "c"."""
    return "V" if key[0] in "aeiou" else key[0]


#: Decades assumed for a record without birth information (it may meet anyone born 1920-2039).
UNKNOWN_BIRTH_DECADES = tuple(range(1920, 2040, 10))


def blocking_keys(
    person: PersonRecord, config: MatchConfig = DEFAULT_CONFIG, *, use_birth: bool = True
) -> set[str]:
    """Keys such that records worth comparing share at least one; compare only those pairs.

    A key is the first sound of any phonetic key of any name part (every alternative reading
    counts) plus a birth decade touched by the birth range widened by
    ``birth_max_gap_years``. A record without birth information gets every decade in
    :data:`UNKNOWN_BIRTH_DECADES`, so it still meets everyone with the same initial.
    ``use_birth=False`` gives name-only keys ("s:*").
    """
    initials = {
        _initial(key)
        for text in person.names
        for token in parse_name(text).tokens[: config.max_name_tokens]
        for key in token.keys
        if key
    }
    if not use_birth:
        decades: set[str] = {"*"}
    elif person.birth is None:
        decades = {str(d) for d in UNKNOWN_BIRTH_DECADES}
    else:
        decades = {str(d) for d in person.birth.decades(config.birth_max_gap_years)}
    return {f"{initial}:{decade}" for initial in initials for decade in decades}
