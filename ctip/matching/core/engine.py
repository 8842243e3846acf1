"""The matching engine: blocking, comparison vectors, a Fellegi–Sunter model, clustering.

Pipeline (every step a pure function, no Django):

1. :func:`prepare` turns each :class:`PersonRecord` (plus optional extra identifying fields
   such as a document number or an address) into :class:`Features`: the name parts in the
   shared Khmer-Latin key space (every alternative reading of Khmer script and Chinese
   characters, and adjacent parts joined so "Sok Kha" meets "Sokha"), the birth range, sex,
   nationality.
2. :func:`candidate_arrays` (blocking) puts records into blocks by several keys and
   compares only records sharing a block: an identifier-like extra field; two name parts;
   one name part and the exact birth date or the year; weak rules (sound skeletons, two
   further fields, the birth date alone) with smaller blocks. Blocks larger than their cap
   are skipped (and counted): such a key is too common to say anything, and another rule
   still catches true pairs. Cost grows with the number of records times the block sizes,
   not with its square.
3. :func:`compare_pair` gives a comparison vector: one agreement *level* per field (or
   ``None`` when a side lacks the field).
4. :class:`FellegiSunter` holds m and u probabilities per field and level. :func:`train`
   estimates u from random pairs and m (and the share of matches) by expectation
   maximisation over the blocked pairs, counting distinct vectors so it is cheap.
5. :func:`cluster_without_conflicts` joins pairs at or above the match threshold into
   persons, strongest first, never joining records whose births or sex conflict.

:func:`match_records` runs all of it. The result keeps every scored pair so a reviewer sees
the weight each field contributed.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
import random
import zlib
from array import array
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache, partial
from itertools import combinations, islice
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz.distance import OSA, JaroWinkler

from .dates import BirthRange
from .hanzi import _segment, ranked_product
from .latin import khmer_latin_key, sound_skeleton
from .names import _parse_cached, parse_name
from .people import PersonRecord
from .text import dedupe

if TYPE_CHECKING:
    from .columns import Columns

__all__ = [
    "ComparisonLevel",
    "EngineConfig",
    "EngineResult",
    "Features",
    "FellegiSunter",
    "ScoredPair",
    "candidate_pairs",
    "cluster_without_conflicts",
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
    u_sample_pairs: int = 50000
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

_NO_KEYS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Features:
    """What the engine compares of one record (slotted and sharing its sets between records
    with the same name parts: a million of these must fit in memory)."""

    id: str
    #: Key sets of each name part (best key first), across all names of the record.
    parts: tuple[frozenset[str], ...]
    #: Sound skeletons of each part's keys (see :func:`~.latin.sound_skeleton`).
    skeletons: tuple[frozenset[str], ...]
    #: Adjacent parts joined: (index, index + 1, keys of the joined spelling).
    joined: tuple[tuple[int, int, frozenset[str]], ...]
    #: Sorted best keys, joined: a string for fuzzy comparison of the whole name.
    sorted_key: str
    birth: BirthRange | None
    #: YYYYMMDD when the birth date is exact.
    birth_day: str
    sex: str | None
    nationality: str | None
    extra: tuple[tuple[str, str], ...] = ()
    #: Keys of further names of the record that spell the same parts (Khmer script and its
    #: Latin form) and are not among ``parts``.
    more_keys: frozenset[str] = _NO_KEYS
    #: Every name of the record is written in Chinese characters (a transcription, when the
    #: person is Khmer): compared with a name in another script, its parts only *sound*
    #: alike at best, and the evidence of each level differs (field ``name_zh``).
    han: bool = False
    #: Every key of every part, of adjacent parts joined, and of further spellings.
    atoms: tuple[str, ...] = ()
    #: What any two name parts that are alike have in common (see :func:`_alike_marks`):
    #: two records whose marks are disjoint have no alike parts, which spares comparing
    #: every part with every part (most pairs, and nearly all random ones). Kept as the
    #: CRC-32 of each mark, packed in bytes: a set of a few dozen strings takes kilobytes,
    #: there is one per distinct written name, and worker processes send them back (two
    #: marks with the same CRC only make a pair look possibly alike: it is then compared).
    #: The marks of likenesses above *faintly alike* come first (see :func:`_packed`).
    marks: bytes = b""
    #: Keys of two letters (a prefix of the other name's key makes the parts faintly alike).
    short_keys: tuple[str, ...] = ()
    #: The first two letters of every key.
    starts: tuple[str, ...] = ()
    #: The place of origin as reference codes, province first (see :mod:`.places`).
    place: tuple[str, ...] = ()


#: One instance of each distinct key set, shared by every record that has it.
_SETS: dict[frozenset[str], frozenset[str]] = {}
_NAME_CACHE: dict[tuple[str, int, int], tuple] = {}
#: Distinct written names kept (a bounded cache: names repeat a lot in small sets, hardly
#: at all in a million perturbed records).
NAME_CACHE_SIZE = 100_000


#: Adjacent parts are also joined ("Sok Kha" = "Sokha") when one of them is a syllable of at
#: most this many letters.
MAX_JOINED_PART = 5


def _shared(keys: Iterable[str]) -> frozenset[str]:
    fs = frozenset(keys)
    hit = _SETS.get(fs)
    if hit is None:
        if len(_SETS) > 4 * NAME_CACHE_SIZE:
            _SETS.clear()
        _SETS[fs] = hit = fs
    return hit


def _name_features(text: str, max_tokens: int, max_keys: int) -> tuple:
    """(parts, skeletons, joined, han, marks, short keys, starts, atoms, best keys) of one
    written name (see :class:`Features` and :func:`_alike_marks`); cached per distinct text.
    The best key of a part is its shortest (the alphabetically first of equals: runs must
    not depend on the order of a set)."""
    cache_key = (text, max_tokens, max_keys)
    hit = _NAME_CACHE.get(cache_key)
    if hit is not None:
        return hit
    tokens = [t for t in parse_name(text).tokens if t.keys][:max_tokens]
    # A Latin part also keeps its spelling as written (folded): the phonetic key is made for
    # Khmer names and may merge or split other names' letters, so typing slips are also
    # looked for in the spelling itself (Lauern/Lauren).
    parts = tuple(
        _shared((*t.keys[:max_keys], *((t.spellings[0],) if t.script == "latin" else ())))
        for t in tokens
    )
    joined: list[tuple[int, int, frozenset[str]]] = []
    for i in range(len(tokens) - 1):
        if min(len(tokens[i].key), len(tokens[i + 1].key)) > MAX_JOINED_PART:
            continue  # two long parts are two names, not one name split in syllables
        for a, b in ((i, i + 1), (i + 1, i)):
            combos = ranked_product([tokens[a].spellings, tokens[b].spellings], max_keys)
            keys = _shared(dedupe(khmer_latin_key("".join(c)) for c in combos))
            joined.append((i, i + 1, keys))
    skeletons = tuple(_shared(sound_skeleton(k) for k in p if sound_skeleton(k)) for p in parts)
    han = bool(tokens) and all(t.script == "han" for t in tokens)
    units = (*parts, *(k for _, _, k in joined))
    atoms = tuple(sorted(frozenset().union(*units)))
    best = tuple(min(p, key=_shortest_first) for p in parts)
    result = (parts, skeletons, tuple(joined), han, *_unit_marks(units), atoms, best)
    if len(_NAME_CACHE) >= NAME_CACHE_SIZE:
        _NAME_CACHE.clear()
    _NAME_CACHE[cache_key] = result
    return result


def _shortest_first(key: str) -> tuple[int, str]:
    return len(key), key


def prepare(
    records: Iterable[PersonRecord],
    config: EngineConfig | None = None,
    extras: Mapping[str, Mapping[str, str]] | None = None,
    *,
    named: Mapping[str, tuple] | None = None,
) -> list[Features]:
    """Features of each record; ``extras`` maps a record id to extra identifying fields;
    ``named`` holds written names already worked out (by :func:`features_in_blocks`)."""
    config = config or EngineConfig()
    extras = extras or {}
    named = named or {}
    out: list[Features] = []
    for rec in records:
        parts: tuple[frozenset[str], ...] = ()
        skeletons: tuple[frozenset[str], ...] = ()
        joined: tuple[tuple[int, int, frozenset[str]], ...] = ()
        more: set[str] = set()
        han = bool(rec.names)
        name_marks: list[tuple] = []
        best: list[str] = []
        for text in rec.names:
            hit = named.get(text) or _name_features(
                text, config.max_name_tokens, config.max_keys_per_part
            )
            p, sk, j, h = hit[:4]
            han = han and h
            if any(x in parts for x in p):
                # A second name spelling the same parts (Khmer script and its Latin form).
                more.update(*p, *(k for _, _, k in j))
                continue
            offset = len(parts)
            parts += p
            skeletons += sk
            joined += tuple((i + offset, k + offset, keys) for i, k, keys in j)
            name_marks.append(hit[4:7])
            atoms = hit[7]
            best.extend(hit[8])
        best.sort()
        birth = rec.birth
        day = _day(birth.earliest) if birth and birth.earliest == birth.latest else ""
        extra = tuple(
            sorted(
                (k, _norm_extra(v)) for k, v in (extras.get(rec.id) or {}).items() if _norm_extra(v)
            )
        )
        if more:
            more.difference_update(*parts, *(k for _, _, k in joined))
        units = (*parts, *(k for _, _, k in joined))
        if len(name_marks) == 1:
            marks, short_keys, starts = name_marks[0]
            if more:
                atoms = tuple(sorted(frozenset().union(*units, more)))
        else:
            atoms = tuple(sorted(frozenset().union(*units, more)))
            strong = set().union(*(_unpacked(m[0], strong=True) for m in name_marks))
            marks = _packed(strong, set().union(*(_unpacked(m[0]) for m in name_marks)))
            short_keys, starts = (
                tuple(sorted(set().union(*(m[i] for m in name_marks)))) for i in (1, 2)
            )
        out.append(
            Features(
                id=rec.id,
                parts=parts,
                skeletons=skeletons,
                joined=joined,
                sorted_key=" ".join(best),
                birth=birth,
                birth_day=day,
                sex=rec.sex,
                nationality=rec.nationality,
                extra=extra,
                more_keys=_shared(more) if more else _NO_KEYS,
                han=han and bool(parts),
                atoms=atoms,
                marks=marks,
                short_keys=short_keys,
                starts=starts,
                place=rec.place,
            )
        )
    return out


def _day(d: date) -> str:
    """YYYYMMDD (strftime is slow, and pads years before 1000 differently per platform)."""
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


_MARKS: dict[frozenset[str], tuple[frozenset[int], tuple[str, ...], tuple[str, ...]]] = {}

#: Fewest distinct written names worth sending to worker processes (starting them costs
#: about as much as working out this many names).
PARALLEL_MIN_NAMES = 20_000


def clear_caches() -> None:
    """Forget every name, key set and comparison worked out so far (for measurements that
    must start cold; the caches are bounded and need no clearing otherwise)."""
    for cache in (_NAME_CACHE, _SETS, _MARKS, _LIKENESS, _SKELETON_SETS):
        cache.clear()
    for cached in (_parse_cached, khmer_latin_key, sound_skeleton, _segment):
        cached.cache_clear()


def default_workers() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _names_of(texts: list[str], max_tokens: int, max_keys: int) -> list[tuple]:
    """A worker's job: the names of one block. The worker keeps its caches of names, key
    sets and marks for the block only (all of them kept, they grew to 0.4 GB per worker at a
    million records); the bounded caches of single name parts (the phonetic key, the
    skeleton, a parsed name) stay, since common parts recur in every block."""
    out = [_name_features(t, max_tokens, max_keys) for t in texts]
    for cache in (_NAME_CACHE, _SETS, _MARKS, _LIKENESS, _SKELETON_SETS):
        cache.clear()
    return out


def _share_name(result: tuple) -> tuple:
    """One result from a worker, its sets replaced by this process's shared instances."""
    parts, skeletons, joined, han, marks, short_keys, starts, atoms, best = result
    return (
        tuple(_shared(p) for p in parts),
        tuple(_shared(p) for p in skeletons),
        tuple((i, k, _shared(keys)) for i, k, keys in joined),
        han,
        marks,
        short_keys,
        starts,
        atoms,
        best,
    )


def _distinct_names(block: Sequence[PersonRecord]) -> list[str]:
    return list(dict.fromkeys(t for r in block for t in r.names))


def features_in_blocks(
    records: Sequence[PersonRecord],
    config: EngineConfig,
    extras: Mapping[str, Mapping[str, str]] | None,
    workers: int,
    progress: Progress,
) -> list[Features]:
    """Features of every record, block by block. With ``workers`` > 1 and enough distinct
    names, the written names of each block are worked out in that many worker processes
    (normalising names is most of a large run's cost, and each name is independent of the
    others) while this process builds the features of the blocks already done. Workers are
    *spawned*: fresh processes that share none of this one's memory and hold only their
    caches of name parts; a block's names are kept only until its features are built."""
    step = max(len(records) // 100, 1000)
    blocks = [records[i : i + step] for i in range(0, len(records), step)]
    feats: list[Features] = []
    parallel = workers > 1 and len({t for r in records for t in r.names}) >= PARALLEL_MIN_NAMES
    if not parallel:
        for block in blocks:
            feats.extend(prepare(block, config, extras))
            progress("normalise", len(feats), len(records))
        return feats
    job = partial(_names_of, max_tokens=config.max_name_tokens, max_keys=config.max_keys_per_part)
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        # At most two blocks per worker in flight: results that this process has not yet
        # taken must not pile up in memory when it is the slower side.
        waiting: deque = deque()
        todo = iter(blocks)

        def send(block: Sequence[PersonRecord]) -> None:
            texts = _distinct_names(block)
            waiting.append((block, texts, pool.apply_async(job, (texts,))))

        for block in islice(todo, 2 * workers):
            send(block)
        while waiting:
            block, texts, pending = waiting.popleft()
            results = pending.get()
            for more in islice(todo, 1):
                send(more)
            named = {text: _share_name(result) for text, result in zip(texts, results, strict=True)}
            feats.extend(prepare(block, config, extras, named=named))
            progress("normalise", len(feats), len(records))
    return feats


def _alike_marks(
    keys: frozenset[str],
) -> tuple[frozenset[int], frozenset[int], tuple[str, ...], tuple[str, ...]]:
    """(strong marks, faint marks, keys of two letters, first two letters of each key) of
    one part's key set.

    Two parts are alike (:func:`_likeness`) only if their marks meet, or a key of two
    letters of one is the start of a key of the other: a prefix shares the first three
    letters (or is a key of two); a typing slip by Jaro-Winkler shares the first three; keys
    of four letters or more one edit apart share two letters at one end, or the first and
    last (:func:`_edit_marks`); skeletons one edit apart are equal once a letter is dropped
    from one or each; equal skeletons are equal. Cached per distinct key set. (Marks only
    rule pairs out: sharing one proves nothing, and the parts are then compared in full.)

    The *strong* marks are those of likenesses above faintly alike (a typing slip, a prefix
    of three letters or more, skeletons of three letters or more that are equal, skeletons
    of four or more one edit apart); the faint ones, and the keys of two letters, serve only
    the faint likenesses, which matter only beside a part that agrees (see
    :func:`name_level`).
    """
    hit = _MARKS.get(keys)
    if hit is not None:
        return hit
    strong: set[str] = set()
    faint: set[str] = set()
    short = {k for k in keys if len(k) == 2}
    starts = {k[:2] for k in keys if len(k) >= 2}
    for k in keys:
        if len(k) >= 3:
            strong.add("p" + k[:3])
        if len(k) >= 4:
            strong.update(_edit_marks("k", k))
    for sk in _skeleton_set(keys):
        if len(sk) >= 2:
            (strong if len(sk) >= 3 else faint).add("s" + sk)
        if len(sk) >= 3:
            # One edit apart: equal once a letter is dropped from one or each. (Skeletons
            # are short, of few letters: these repeat a lot, unlike the keys'.) Sounding
            # alike needs the shorter skeleton of four letters or more.
            marks = strong if len(sk) >= 4 else faint
            marks.update("e" + sk[:i] + sk[i + 1 :] for i in range(len(sk)))
            marks.add("e" + sk)
    if len(_MARKS) > NAME_CACHE_SIZE:
        _MARKS.clear()
    strong_crcs = frozenset(zlib.crc32(m.encode()) for m in strong)
    faint_crcs = frozenset(zlib.crc32(m.encode()) for m in faint) - strong_crcs
    hit = _MARKS[keys] = (strong_crcs, faint_crcs, tuple(sorted(short)), tuple(sorted(starts)))
    return hit


def _edit_marks(kind: str, word: str) -> tuple[str, ...]:
    """Two words of four letters or more that are one edit apart (a letter changed, added,
    dropped, or two swapped) share their first two letters, their last two, or their first
    and last (an edit touches at most two adjacent letters), and their lengths differ by
    one at most: each mark is made for the word's length and the next."""
    ends = (word[:2] + "<", word[-2:] + ">", word[0] + word[-1] + "=")
    n = len(word)
    return tuple(f"{kind}{length}{end}" for end in ends for length in (n, n + 1))


def _unit_marks(units: Sequence[frozenset[str]]) -> tuple[bytes, tuple[str, ...], tuple[str, ...]]:
    if not units:
        return _packed((), ()), (), ()
    each = [_alike_marks(u) for u in units]
    short, starts = (tuple(sorted(set().union(*(e[i] for e in each)))) for i in (2, 3))
    strong = frozenset().union(*(e[0] for e in each))
    return _packed(strong, frozenset().union(*(e[1] for e in each))), short, starts


def _packed(strong: Iterable[int], faint: Iterable[int]) -> bytes:
    """The CRCs as 32-bit numbers: how many strong ones, the strong ones, then the faint
    ones that are not also strong."""
    strong = sorted(set(strong))
    rest = sorted(set(faint).difference(strong))
    return array("I", [len(strong), *strong, *rest]).tobytes()


def _unpacked(marks: bytes, *, strong: bool = False) -> memoryview:
    """Every mark (or the strong ones only) of :func:`_packed` bytes."""
    view = memoryview(marks).cast("I")
    if not view:
        return view
    return view[1 : 1 + view[0]] if strong else view[1:]


def _may_be_alike(a: Features, b: Features) -> bool:
    """False when no part (or joined parts) of ``a`` can be alike any of ``b``."""
    return (
        not set(_unpacked(a.marks)).isdisjoint(_unpacked(b.marks))
        or bool(a.short_keys and not set(a.short_keys).isdisjoint(b.starts))
        or bool(b.short_keys and not set(b.short_keys).isdisjoint(a.starts))
    )


def _may_be_strongly_alike(a: Features, b: Features) -> bool:
    """False when no part of ``a`` can be more than faintly alike any of ``b``."""
    return not set(_unpacked(a.marks, strong=True)).isdisjoint(_unpacked(b.marks, strong=True))


def _norm_extra(value: str | None) -> str:
    if value is None:
        return ""
    text = " ".join(str(value).split()).lower()
    if text in ("nan", "none", "null", "-"):
        return ""
    return "".join(ch for ch in text if ch.isalnum() or ch == " ").strip()


# --- blocking -----------------------------------------------------------------------------

#: Fewest letters in the two skeletons of a skeleton blocking key ("s|n" says nothing).
MIN_SKELETON_PAIR_LETTERS = 3
#: Letters of a part's start that the weak rule pairs with another part's key.
PREFIX_LETTERS = 4
#: Blocking rules, strongest first (a pair is counted for the first rule that finds it).
RULES = ("x", "n", "d", "y", "s", "p", "xx", "ds")
#: Largest blocks of the *weak* rules (sound skeletons, starts of parts, two further
#: fields, the birth day alone): such keys are common in a big file, and stronger rules
#: find most of their pairs.
#: Records sharing only a birth day are compared in small files (a changed name with the
#: same birth day); in a million records every day has dozens of people.
WEAK_BLOCK_SIZES = {"s": 40, "p": 40, "xx": 40, "ds": 12}


@dataclass
class BlockingReport:
    rules: dict[str, int] = field(default_factory=dict)
    skipped_blocks: int = 0
    skipped_records: int = 0
    #: Pairs in skipped blocks, per rule (a pair in several blocks counts each time).
    skipped_pairs: dict[str, int] = field(default_factory=dict)
    pairs: int = 0


def _name_pair_keys(f: Features) -> set[str]:
    """Two name parts (or joined parts and another part, or a further spelling and a part)."""
    parts = f.parts
    out: set[str] = set()
    for x, y in combinations(range(len(parts)), 2):
        for kx in parts[x]:
            for ky in parts[y]:
                out.add(f"{kx}|{ky}" if kx < ky else f"{ky}|{kx}")
    for i, j, keys in f.joined:
        for other in range(len(parts)):
            if other in (i, j):
                continue
            for kj in keys:
                for ko in parts[other]:
                    out.add(f"{kj}|{ko}" if kj < ko else f"{ko}|{kj}")
    for km in f.more_keys:
        for part in parts:
            for kp in part:
                if kp != km:
                    out.add(f"{km}|{kp}" if km < kp else f"{kp}|{km}")
    if len(parts) == 1 and not f.joined:
        # A one-part name still blocks with itself (records that hold only a given name).
        out.update(f"{k}|" for k in parts[0])
    return out


def _skeleton_keys(f: Features) -> set[str]:
    """Two parts that survive a transcription: both skeletons, or one part's key and the
    other's skeleton (索卡·占 and "Chan Sokha" share "chan" and "sk")."""
    parts, skeletons = f.parts, f.skeletons
    out: set[str] = set()
    for x, y in combinations(range(len(parts)), 2):
        for sx in skeletons[x]:
            for sy in skeletons[y]:
                if len(sx) + len(sy) >= MIN_SKELETON_PAIR_LETTERS:
                    out.add(f"{sx}|{sy}" if sx < sy else f"{sy}|{sx}")
        for one, other in ((x, y), (y, x)):
            for key in parts[one]:
                for sk in skeletons[other]:
                    if len(sk) >= 2:
                        out.add(f"{key}/{sk}")
    # A given name written in syllables on one side and as one word in a transcription
    # ("So Phal Chan" and 索帕·占 share "chan" and "sp").
    for i, j, keys in f.joined:
        joined_skeletons = [sk for sk in _skeleton_set(keys) if len(sk) >= 2]
        for other in range(len(parts)):
            if other != i and other != j:
                out.update(f"{key}/{sk}" for key in parts[other] for sk in joined_skeletons)
    return out


def _start_keys(f: Features) -> set[str]:
    """One part and the start of another: a transcription keeps a name's first syllables
    and loses its finals and inner consonants (维波 "vibo" for Vibol, 比塞武蒂 "pisaivuti"
    for Pisethvuthy), which the skeletons do not always survive. A rule of its own, so
    its keys and the skeletons' are never all in memory at once (a million records make
    about ten of each per record)."""
    parts = f.parts
    out: set[str] = set()
    for x, y in combinations(range(len(parts)), 2):
        for one, other in ((x, y), (y, x)):
            starts = {k[:PREFIX_LETTERS] for k in parts[other] if len(k) >= PREFIX_LETTERS}
            out.update(f"{key}>{start}" for key in parts[one] for start in starts)
    return out


def _rule_keys(rule: str, f: Features, id_fields: frozenset[str]) -> Iterable[str]:
    if rule == "n":
        return _name_pair_keys(f)
    if rule == "s":
        return _skeleton_keys(f)
    if rule == "p":
        return _start_keys(f)
    if rule == "d":
        return {f"{f.birth_day}:{a}" for a in f.atoms} if f.birth_day else ()
    if rule == "ds":
        return (f.birth_day,) if f.birth_day else ()
    if rule == "y":
        # The year of birth and one name part: a slip in the name *and* in the day, or a
        # record that holds only the year.
        if f.birth is None or f.birth.earliest.year != f.birth.latest.year:
            return ()
        year = f.birth.earliest.year
        return {f"{year}:{k}" for part in f.parts for k in part}
    if rule == "x":
        return [f"{name}:{value}" for name, value in f.extra if name in id_fields]
    if rule == "xx":
        # Two further identifying fields that agree (street number and postcode, say)
        # catch a pair whose document number has a typing slip.
        return [f"{n1}={v1}|{n2}={v2}" for (n1, v1), (n2, v2) in combinations(f.extra, 2)]
    raise ValueError(f"unknown blocking rule {rule!r}")


def blocking_keys(f: Features) -> dict[str, set[str]]:
    """The blocking keys of one record, per rule (the rules on names and births: a record
    without extra identifying fields makes no others). Two records are candidates when they
    share a key of a rule whose block is not too big (:func:`block_limit`), as in
    :func:`candidate_arrays`: a node stores these (keyed) to find a new person's candidates
    without reading everyone."""
    return {
        rule: set(keys)
        for rule in RULES
        if rule not in ("x", "xx") and (keys := _rule_keys(rule, f, frozenset()))
    }


def block_limit(rule: str, config: EngineConfig | None = None) -> int:
    """The largest block of a rule that is compared (bigger ones are skipped)."""
    return WEAK_BLOCK_SIZES.get(rule, (config or EngineConfig()).max_block_size)


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


def candidate_arrays(
    feats: Sequence[Features],
    config: EngineConfig | None = None,
    report: BlockingReport | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (left < right) of the records sharing at least one blocking key, sorted.

    Each rule's keys are hashed into one array of (key hash, record) rows and sorted, so a
    block is a run of equal hashes: memory is 16 bytes per key, not a dict of lists. (Two
    different keys with one 64-bit hash would only add a pair to compare.)
    """
    config = config or EngineConfig()
    report = report if report is not None else BlockingReport()
    id_fields = identifier_fields(feats)
    n = len(feats)
    found: list[np.ndarray] = []
    origin: list[np.ndarray] = []
    for number, rule in enumerate(RULES):
        hashes = array("q")
        rows = array("q")
        for i, f in enumerate(feats):
            for key in _rule_keys(rule, f, id_fields):
                hashes.append(hash(key))
                rows.append(i)
        if len(hashes) < 2:
            continue
        codes = _block_pairs(
            np.frombuffer(hashes, dtype=np.int64),
            np.frombuffer(rows, dtype=np.int64),
            n,
            block_limit(rule, config),
            rule,
            report,
        )
        del hashes, rows
        found.append(codes)
        origin.append(np.full(len(codes), number, dtype=np.int8))
    if not found:
        report.pairs = 0
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    codes = np.concatenate(found)
    rules = np.concatenate(origin)
    unique, first = np.unique(codes, return_index=True)
    per_rule = np.bincount(rules[first], minlength=len(RULES))
    report.rules = {RULES[k]: int(c) for k, c in enumerate(per_rule) if c}
    report.pairs = len(unique)
    return unique // n, unique % n


def _block_pairs(
    hashes: np.ndarray, rows: np.ndarray, n: int, cap: int, rule: str, report: BlockingReport
) -> np.ndarray:
    """Pair codes (left * n + right) of the blocks of one rule, blocks above ``cap`` skipped."""
    order = np.argsort(hashes, kind="stable")
    hashes, rows = hashes[order], rows[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(hashes)) + 1))
    sizes = np.diff(np.concatenate((starts, [len(hashes)])))
    big = sizes > cap
    if big.any():
        report.skipped_blocks += int(big.sum())
        report.skipped_records += int(sizes[big].sum())
        big_pairs = int((sizes[big] * (sizes[big] - 1) // 2).sum())
        report.skipped_pairs[rule] = report.skipped_pairs.get(rule, 0) + big_pairs
    out: list[np.ndarray] = []
    for size in np.unique(sizes[(sizes >= 2) & ~big]):
        firsts = starts[sizes == size]
        members = rows[firsts[:, None] + np.arange(size)]
        left, right = np.triu_indices(int(size), 1)
        a, b = members[:, left].ravel(), members[:, right].ravel()
        keep = a != b
        lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
        out.append(np.unique(lo * n + hi))
    return np.unique(np.concatenate(out)) if out else np.zeros(0, dtype=np.int64)


def candidate_pairs(
    feats: Sequence[Features],
    config: EngineConfig | None = None,
    report: BlockingReport | None = None,
) -> list[tuple[int, int]]:
    """Index pairs (i < j) of records sharing at least one blocking key."""
    left, right = candidate_arrays(feats, config, report)
    return list(zip(left.tolist(), right.tolist(), strict=True))


# --- comparison ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonLevel:
    """One agreement level of one field, with a label for people."""

    field: str
    level: int
    label: str


NAME_LEVELS = (
    "no name part in common",
    "one name part in common (or one typing slip apart)",
    "the name parts sound alike",
    "one part agrees, the others sound somewhat alike",
    "one part agrees, the others sound alike",
    "the name parts agree, some with a typing slip",
    "the parts of the shorter name all agree",
    "every name part agrees",
)
BIRTH_LEVELS = (
    "births more than two years apart",
    "births within two years",
    "birth ranges overlap",
    "birth dates one typing slip apart",
    "birth ranges centred within a year and a half",
    "same birth date",
)
EXACT_LEVELS = ("differs", "same")
PLACE_LEVELS = ("different provinces", "same province", "same district", "same commune")
EXTRA_LEVELS = ("differs", "similar", "very similar", "same")
FIELD_LEVELS: dict[str, tuple[str, ...]] = {
    "name": NAME_LEVELS,
    "name_zh": NAME_LEVELS,
    "birth": BIRTH_LEVELS,
    "sex": EXACT_LEVELS,
    "nationality": EXACT_LEVELS,
    "place": PLACE_LEVELS,
}

#: How alike two name parts that are not equal are.
_DIFFERENT, _FAINTLY_ALIKE, _SOUNDS_ALIKE, _TYPING_SLIP = 0, 1, 2, 3


def _covered(f: Features, atoms: frozenset[str]) -> list[bool]:
    """Which parts of ``f`` agree with some part (or joined parts) of the other name."""
    out = [not p.isdisjoint(atoms) for p in f.parts]
    for i, j, keys in f.joined:
        if not (out[i] and out[j]) and not keys.isdisjoint(atoms):
            out[i] = out[j] = True
    return out


_LIKENESS: dict[tuple[frozenset[str], frozenset[str], bool], int] = {}
_SKELETON_SETS: dict[frozenset[str], frozenset[str]] = {}

#: Letters a listener may take for one another (a vowel heard as its neighbour, n/m, r/l,
#: voiced/unvoiced). A Chinese transcription is written by ear, never typed from a
#: spelling, so between a reading and a spelling only these substitutions count as a slip:
#: Chan against 钦's "chin" is another name, not a mistyped one.
_HEARD_ALIKE = {
    c: group
    for group in ("iey", "ou", "nm", "rl", "pb", "td", "kg", "cj", "szx", "vwf")
    for c in group
}


def _final_dropped(x: str, y: str) -> bool:
    """The longer of ``x`` and ``y`` (one a prefix of the other) adds at most two letters
    ending in a consonant: a transcription writing the syllable without its final (索 "so"
    for Sok, 梅 "me" for Meas)."""
    rest = x[len(y) :] if len(x) > len(y) else y[len(x) :]
    return len(rest) <= 2 and rest[-1] not in "aeiouy"


def _heard_slip(x: str, y: str) -> bool:
    """``x`` and ``y`` (one edit apart) differ by a sound dropped or added, two sounds
    swapped, or one sound heard as another alike (:data:`_HEARD_ALIKE`)."""
    if len(x) != len(y):
        return True
    diff = [k for k in range(len(x)) if x[k] != y[k]]
    if len(diff) != 1:
        return True  # two adjacent letters swapped
    k = diff[0]
    group = _HEARD_ALIKE.get(x[k])
    return group is not None and y[k] in group


def _skeleton_set(keys: frozenset[str]) -> frozenset[str]:
    hit = _SKELETON_SETS.get(keys)
    if hit is None:
        if len(_SKELETON_SETS) > 4 * NAME_CACHE_SIZE:
            _SKELETON_SETS.clear()
        hit = _SKELETON_SETS[keys] = frozenset(sound_skeleton(k) for k in keys)
    return hit


def _likeness(xs: frozenset[str], ys: frozenset[str], heard: bool = False) -> int:
    """How alike two name parts that share no key are (cached per pair of key sets).

    A *typing slip*: one edit (four letters or longer), or Jaro–Winkler >= 0.92 (five or
    longer, the first three letters equal: Winkler's premise, and what lets
    :func:`_alike_marks` rule pairs out): short Khmer keys one letter apart are often
    different names; between a name in Chinese characters and one in another script
    (``heard``) a slip of one letter is only a sound heard as another alike
    (:func:`_heard_slip`). *Sounds alike*:
    one key a prefix of the other (a transcription dropped a final: "sokha"/"sok"), or
    sound skeletons that are equal, or one edit apart when four letters or longer.
    *Faintly alike*: the same with shorter prefixes or skeletons ("me"/"meas"). Else
    different.
    """
    cache_key = (xs, ys, heard) if hash(xs) <= hash(ys) else (ys, xs, heard)
    hit = _LIKENESS.get(cache_key)
    if hit is None:
        if len(_LIKENESS) > 4 * NAME_CACHE_SIZE:
            _LIKENESS.clear()
        hit = _LIKENESS[cache_key] = _likeness_uncached(xs, ys, heard)
    return hit


def _likeness_uncached(xs: frozenset[str], ys: frozenset[str], heard: bool = False) -> int:
    best = _DIFFERENT
    for kx in xs:
        lx = len(kx)
        for ky in ys:
            ly = len(ky)
            shortest = lx if lx < ly else ly
            if (
                shortest >= 4
                and -1 <= lx - ly <= 1
                and OSA.distance(kx, ky) <= 1
                and (not heard or _heard_slip(kx, ky))
            ):
                return _TYPING_SLIP
            if (
                shortest >= 5
                and kx[:3] == ky[:3]
                and JaroWinkler.normalized_similarity(kx, ky) >= 0.92
            ):
                return _TYPING_SLIP
            if shortest >= 2 and (kx.startswith(ky) if lx > ly else ky.startswith(kx)):
                if shortest >= 3 or (heard and _final_dropped(kx, ky)):
                    best = _SOUNDS_ALIKE
                else:
                    best = max(best, _FAINTLY_ALIKE)
    if best < _SOUNDS_ALIKE:
        sys_ = _skeleton_set(ys)
        for sx in _skeleton_set(xs):
            for sy in sys_:
                shortest = min(len(sx), len(sy))
                if sx == sy and shortest >= 2:
                    best = max(best, _SOUNDS_ALIKE if shortest >= 3 else _FAINTLY_ALIKE)
                elif shortest >= 3 and abs(len(sx) - len(sy)) <= 1 and OSA.distance(sx, sy) <= 1:
                    best = max(best, _SOUNDS_ALIKE if shortest >= 4 else _FAINTLY_ALIKE)
    return best


def _units(f: Features, missing: list[int]) -> list[tuple[frozenset[int], frozenset[str]]]:
    """The parts left over, and adjacent left-over parts joined ("Srey Mom" = "Sreymom")."""
    units = [(frozenset({i}), f.parts[i]) for i in missing]
    left = set(missing)
    units += [(frozenset({i, j}), keys) for i, j, keys in f.joined if i in left and j in left]
    return units


def _likeness_of_rest(a: Features, miss_a: list[int], b: Features, miss_b: list[int]) -> tuple:
    """Pair the parts left over on both sides, most alike first (a part may meet two joined
    parts of the other name): (likenesses, parts of a used, parts of b used)."""
    units_b = _units(b, miss_b)
    heard = a.han != b.han
    alike = [
        (likeness, ux, uy)
        for ux, kx in _units(a, miss_a)
        for uy, ky in units_b
        if (likeness := _likeness(kx, ky, heard)) != _DIFFERENT
    ]
    if len(alike) > 1:
        alike.sort(key=lambda t: (-t[0], -len(t[1]) - len(t[2]), sorted(t[1]), sorted(t[2])))
    used_a: set[int] = set()
    used_b: set[int] = set()
    out: list[int] = []
    for likeness, ux, uy in alike:
        if used_a & ux or used_b & uy:
            continue
        used_a |= ux
        used_b |= uy
        out.append(likeness)
    return out, len(used_a), len(used_b)


def name_level(a: Features, b: Features) -> int | None:
    if not a.parts or not b.parts:
        return None
    ca = _covered(a, b.atoms)
    cb = _covered(b, a.atoms)
    hits_a, hits_b = sum(ca), sum(cb)
    if hits_a == len(ca) and hits_b == len(cb):
        return 7
    short = min(len(ca), len(cb))
    if (hits_a == len(ca) or hits_b == len(cb)) and min(hits_a, hits_b) >= min(2, short):
        return 6
    exact = hits_a > 0 or hits_b > 0
    # Without a part that agrees, a faint likeness changes no level (below), so the parts
    # are compared only if some may be more than faintly alike.
    if _may_be_alike(a, b) if exact else _may_be_strongly_alike(a, b):
        miss_a = [i for i, c in enumerate(ca) if not c]
        miss_b = [j for j, c in enumerate(cb) if not c]
        alike, used_a, used_b = _likeness_of_rest(a, miss_a, b, miss_b)
    else:
        alike, used_a, used_b = [], 0, 0
    # Every part of one of the names is accounted for (equal or alike).
    whole = bool(alike) and (hits_a + used_a == len(ca) or hits_b + used_b == len(cb))
    if whole:
        weakest = min(alike)
        if exact or weakest == _TYPING_SLIP:
            return {_TYPING_SLIP: 5, _SOUNDS_ALIKE: 4, _FAINTLY_ALIKE: 3}[weakest]
        if weakest >= _SOUNDS_ALIKE and (len(alike) >= 2 or short == 1):
            return 2
    if JaroWinkler.normalized_similarity(a.sorted_key, b.sorted_key) >= 0.94:
        return 4
    if exact or _TYPING_SLIP in alike:
        return 1
    return 0


#: Birth ranges whose centres are this close are "centred within a year": an age stated
#: as a whole number of years puts the centre up to half a year off, an estimate one more.
CENTRE_TOLERANCE_DAYS = 548


def _centre(r: BirthRange) -> int:
    return (r.earliest.toordinal() + r.latest.toordinal()) // 2


def birth_level(a: Features, b: Features) -> int | None:
    if a.birth is None or b.birth is None:
        return None
    if a.birth_day and a.birth_day == b.birth_day:
        return 5
    if a.birth_day and b.birth_day:
        if _date_slip(a.birth_day, b.birth_day):
            return 3
    elif a.birth.overlaps(b.birth):
        near = abs(_centre(a.birth) - _centre(b.birth)) <= CENTRE_TOLERANCE_DAYS
        return 4 if near else 2
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
    """The fields compared: the fixed ones, the place when some record has one, extras."""
    extra = sorted({name for f in feats for name, _ in f.extra})
    place = ("place",) if any(f.place for f in feats) else ()
    return (
        "name",
        "name_zh",
        "birth",
        "sex",
        "nationality",
        *place,
        *(f"x:{name}" for name in extra),
    )


#: The two name fields: ``name`` compares names written in the same kind of script (or both
#: with Latin or Khmer), ``name_zh`` a name only in Chinese characters with one that is not.
NAME_FIELDS = ("name", "name_zh")


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
    return comparer(tuple(names))(a, b)


def _sex_level(a: Features, b: Features) -> int | None:
    return _exact_level(a.sex, b.sex)


def _nationality_level(a: Features, b: Features) -> int | None:
    return _exact_level(a.nationality, b.nationality)


def place_level(a: Features, b: Features) -> int | None:
    """How many levels of the two places agree, province first (0: other provinces)."""
    x, y = a.place, b.place
    if not x or not y:
        return None
    n = 0
    for p, q in zip(x, y, strict=False):
        if p != q:
            break
        n += 1
    return min(n, len(PLACE_LEVELS) - 1)


def _extra_field(name: str) -> Callable[[Features, Features], int | None]:
    def level(a: Features, b: Features) -> int | None:
        x = y = None
        for key, value in a.extra:
            if key == name:
                x = value
                break
        if x is None:
            return None
        for key, value in b.extra:
            if key == name:
                y = value
                break
        return None if y is None else _extra_level(x, y)

    return level


@lru_cache(maxsize=64)
def comparer(names: tuple[str, ...]) -> Callable[[Features, Features], tuple[int | None, ...]]:
    """A function giving the comparison vector of two records over ``names``: the fields'
    comparisons are looked up once, not for every pair."""
    others = {
        "birth": birth_level,
        "sex": _sex_level,
        "nationality": _nationality_level,
        "place": place_level,
    }
    plan: list[tuple[int, Callable[[Features, Features], int | None] | None]] = []
    for name in names:
        if name == "name":
            plan.append((0, None))
        elif name == "name_zh":
            plan.append((1, None))
        else:
            plan.append((2, others.get(name) or _extra_field(name[2:])))
    split = "name_zh" in names

    def compare(a: Features, b: Features) -> tuple[int | None, ...]:
        level = name_level(a, b)
        across = split and a.han != b.han
        return tuple(
            (None if across else level)
            if kind == 0
            else ((level if across else None) if kind == 1 else fn(a, b))  # type: ignore[misc]
            for kind, fn in plan
        )

    return compare


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


def _in_order(vectors: Counter) -> list[tuple[tuple[int | None, ...], int]]:
    """(vector, count) items in one order whatever order the pairs were met in: the sums
    of floating-point numbers over them then do not depend on it."""
    return sorted(vectors.items(), key=lambda item: tuple(-1 if v is None else v for v in item[0]))


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
    "name": [0.01, 0.03, 0.04, 0.03, 0.07, 0.1, 0.12, 0.6],
    "name_zh": [0.05, 0.05, 0.05, 0.1, 0.2, 0.2, 0.05, 0.3],
    "birth": [0.03, 0.07, 0.15, 0.05, 0.3, 0.4],
    "sex": [0.05, 0.95],
    "nationality": [0.1, 0.9],
    "place": [0.15, 0.45, 0.25, 0.15],
}
DEFAULT_U = {
    "name": [0.6, 0.3, 0.03, 0.03, 0.01, 0.01, 0.01, 0.01],
    "name_zh": [0.6, 0.3, 0.03, 0.03, 0.01, 0.01, 0.01, 0.01],
    "birth": [0.7, 0.12, 0.1, 0.01, 0.06, 0.01],
    "sex": [0.5, 0.5],
    "nationality": [0.4, 0.6],
    "place": [0.85, 0.1, 0.04, 0.01],
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
    feats: Sequence[Features],
    names: Sequence[str],
    config: EngineConfig,
    *,
    columns: Columns | None = None,
) -> dict[str, list[float]]:
    """u probabilities from random pairs (almost all of which are different people);
    ``columns``: the records' :class:`~.columns.Columns`, when the caller has them."""
    from .columns import Columns, levels

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
    pairs = np.array(list(sample), dtype=np.int64).reshape(-1, 2)
    cols = columns if columns is not None and columns.names == tuple(names) else None
    rows = levels(cols or Columns(feats, names), pairs[:, 0], pairs[:, 1])
    for k, name in enumerate(names):
        found = rows[:, k]
        per_level = np.bincount(found[found >= 0], minlength=level_count(name))
        for level, c in enumerate(per_level.tolist()):
            counts[name][level] += c
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
    # The starting m act as PSEUDO_PAIRS pairs already seen (a Dirichlet prior): a level
    # that no blocked pair happens to show keeps a plausible m instead of a zero.
    start_m = {k: list(sub.m[k]) for k in sub.fields}
    for _ in range(iterations):
        m_counts = {k: [PSEUDO_PAIRS * x for x in start_m[k]] for k in sub.fields}
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


#: Weight of the starting m probabilities in EM, in pairs.
PSEUDO_PAIRS = 10.0

#: Fewest pairs a subset needs before its EM is trusted (else the defaults stay).
MIN_TRAINING_PAIRS = 30


#: Levels that blocking finds every pair of (two or more equal name parts; the same birth
#: day): their u is *counted* over all pairs rather than sampled. A random sample of a few
#: thousand pairs sees the rare "every name part agrees" a handful of times at most, so its
#: u would rest on noise (and on smoothing), while blocking has compared every such pair.
COUNTED_LEVELS: dict[str, tuple[int, ...]] = {
    "name": (len(NAME_LEVELS) - 2, len(NAME_LEVELS) - 1),
    "name_zh": (len(NAME_LEVELS) - 2, len(NAME_LEVELS) - 1),
    "birth": (len(BIRTH_LEVELS) - 1,),
}
#: Rounds of (fit m and prior; count u of COUNTED_LEVELS).
U_ROUNDS = 3


def train(
    vectors: Counter,
    names: Sequence[str],
    u: Mapping[str, list[float]],
    config: EngineConfig | None = None,
    *,
    all_pairs: int | None = None,
    unblocked: Mapping[str, int] | None = None,
) -> FellegiSunter:
    """Fit the model (:func:`fit`), then count the u of :data:`COUNTED_LEVELS` on all
    blocked pairs, each weighted by its probability of being a non-match, and refit.

    ``unblocked`` holds, per field, pairs at its top counted level that blocking skipped
    (blocks too big to compare): they count as non-matches at that level.
    """
    config = config or EngineConfig()
    names = tuple(names)
    model = fit(vectors, names, u, config, all_pairs=all_pairs)
    if not vectors or not all_pairs:
        return model
    items = _in_order(vectors)
    for _ in range(U_ROUNDS - 1):
        counted = {k: list(model.u[k]) for k in names}
        for name, levels in COUNTED_LEVELS.items():
            if name in names:
                counted[name] = _counted_u(
                    model,
                    items,
                    names.index(name),
                    levels,
                    all_pairs,
                    (unblocked or {}).get(name, 0),
                )
        model = fit(vectors, names, counted, config, all_pairs=all_pairs)
    return model


def _counted_u(
    model: FellegiSunter,
    items: list[tuple[tuple[int | None, ...], int]],
    index: int,
    levels: tuple[int, ...],
    all_pairs: int,
    unblocked: int,
) -> list[float]:
    name = model.fields[index]
    sampled = model.u[name]
    non_matches = max(all_pairs * (1.0 - model.prior), 1.0)
    out = list(sampled)
    for level in levels:
        count = sum(c * (1.0 - model.probability(v)) for v, c in items if v[index] == level)
        if level == levels[-1]:
            count += unblocked
        out[level] = max(count / non_matches, _FLOOR)
    rest = max(1.0 - sum(out[lv] for lv in levels), _FLOOR)
    others = [lv for lv in range(len(out)) if lv not in levels]
    share = sum(sampled[lv] for lv in others) or 1.0
    for lv in others:
        out[lv] = max(sampled[lv] / share * rest, _FLOOR)
    return out


def fit(
    vectors: Counter,
    names: Sequence[str],
    u: Mapping[str, list[float]],
    config: EngineConfig | None = None,
    *,
    all_pairs: int | None = None,
) -> FellegiSunter:
    """Fit m probabilities and the share of matches, as Splink does it.

    u comes from random pairs (``u``, fixed). The name's m is fitted on the pairs whose
    births agree (same day, or ranges centred within a year), ignoring birth; the birth's m
    on the pairs whose names agree in every part, ignoring the name (a field's m must not be
    learned from the pairs selected *because* it agrees); the other fields' m on the pairs
    whose names and births both agree well; the prior last, on all pairs
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
    items = _in_order(vectors)
    run = {"iterations": config.em_iterations, "tolerance": config.em_tolerance}
    i_birth = names.index("birth")
    name_idx = [names.index(n) for n in NAME_FIELDS if n in names]
    name_set = frozenset(n for n in NAME_FIELDS if n in names)

    def name_of(v: tuple[int | None, ...]) -> int | None:
        return next((v[i] for i in name_idx if v[i] is not None), None)

    # Births centred within a year (ages given on two records) or the same day.
    same_birth = [(v, c) for v, c in items if (v[i_birth] or 0) >= len(BIRTH_LEVELS) - 2]
    same_name = [(v, c) for v, c in items if name_of(v) == len(NAME_LEVELS) - 1]
    if sum(c for _, c in same_birth) >= MIN_TRAINING_PAIRS:
        model = _em(same_birth, model, update=name_set, ignore=frozenset({"birth"}), **run)
    if sum(c for _, c in same_name) >= MIN_TRAINING_PAIRS:
        model = _em(same_name, model, update=frozenset({"birth"}), ignore=name_set, **run)
    # The other fields on the pairs whose names and births both agree well (few of them are
    # different people), else on all pairs.
    others = frozenset(names) - name_set - {"birth"}
    strong = [
        (v, c)
        for v, c in items
        if (name_of(v) or 0) >= len(NAME_LEVELS) - 2 and (v[i_birth] or 0) >= len(BIRTH_LEVELS) - 2
    ]
    if sum(c for _, c in strong) < MIN_TRAINING_PAIRS:
        strong = items
    model = _em(strong, model, update=others, **run)
    blocked = sum(vectors.values())
    total = max(all_pairs or blocked, blocked)
    # Matches that blocking missed are matches too: the share of matches is counted where
    # blocking misses none (two or more name parts equal), then divided by the share of
    # matches whose names agree that well (its m). Without enough of those pairs, the
    # matches among the blocked pairs are all that is counted.
    # Per name field (same script, Chinese against another), as their m differ.
    parts: list[tuple[list, float]] = []
    for i in name_idx:
        top = frozenset(COUNTED_LEVELS[names[i]])
        covered = sum(model.m[names[i]][level] for level in top)
        in_top = [(v, c) for v, c in items if v[i] in top]
        if covered >= 0.2 and sum(c for _, c in in_top) >= MIN_TRAINING_PAIRS:
            parts.append((in_top, covered))
        else:
            parts.append(([(v, c) for v, c in items if v[i] is not None], 1.0))
    prior = min(0.1, blocked / total)
    for _ in range(config.em_iterations):
        fitted = FellegiSunter(names, model.m, model.u, prior)
        expected = sum(
            sum(fitted.probability(v) * c for v, c in subset) / covered for subset, covered in parts
        )
        new_prior = min(max(expected / total, 1e-9), 1 - 1e-6)
        if abs(new_prior - prior) < prior * 1e-4:
            prior = new_prior
            break
        prior = new_prior
    return FellegiSunter(names, model.m, model.u, prior)


# --- clustering ---------------------------------------------------------------------------


def cluster_without_conflicts(
    feats: Sequence[Features],
    links: Sequence[tuple[int, int, float]],
    conflict: Callable[[Features, Features], bool],
    *,
    max_checks: int = 2500,
) -> dict[str, str]:
    """Clusters from links taken strongest first, never joining two clusters that hold a
    pair of records in ``conflict`` (born years apart, or of different sex): a chain of
    likely links (the passport, the family report, a namesake's passport) must not make a
    woman and her namesake one person. Each join checks at most ``max_checks`` pairs;
    bigger joins are made unchecked. Cluster ids are the smallest member id.
    """
    parent = list(range(len(feats)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(feats))}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for i, j, _ in sorted(links, key=lambda link: -link[2]):
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        left, right = members[ri], members[rj]
        if len(left) * len(right) <= max_checks and any(
            conflict(feats[x], feats[y]) for x in left for y in right
        ):
            continue
        if len(left) < len(right):
            ri, rj, left, right = rj, ri, right, left
        parent[rj] = ri
        left.extend(right)
        del members[rj]
    out: dict[str, str] = {}
    for group in members.values():
        label = min(feats[x].id for x in group)
        for x in group:
            out[feats[x].id] = label
    return out


#: log2 Bayes factor of the fields other than the name below which two records cannot be one
#: person (about 1 : 60 against: births years apart, or a different sex).
CONFLICT_BITS = -1.5


def conflict_test(model: FellegiSunter, names: Sequence[str]) -> Callable:
    """``conflict(a, b)``: do the fields other than the name say these are two people?"""
    name_idx = [i for i, n in enumerate(names) if n in NAME_FIELDS]

    def conflict(a: Features, b: Features) -> bool:
        vector = list(compare_pair(a, b, names))
        for i in name_idx:
            vector[i] = None
        weight = sum(w for _, _, w in model.bayes_factors(vector))
        return weight < CONFLICT_BITS

    return conflict


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
    workers: int = 1,
) -> EngineResult:
    """Deduplicate ``records``: blocking, comparison, a trained (or given) model, clusters.

    ``workers`` > 1 works out the written names in that many processes (see
    :func:`features_in_blocks`); the result does not depend on it."""
    with _collector_paused():
        return _match_records(
            records, config, extras=extras, model=model, progress=progress, workers=workers
        )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector walks every live object each time enough new ones were made:
    with millions of key sets and records alive that is a fifth of a run's time, and the
    engine makes no reference cycles (its garbage goes by reference counting)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _match_records(
    records: Sequence[PersonRecord],
    config: EngineConfig | None,
    *,
    extras: Mapping[str, Mapping[str, str]] | None,
    model: FellegiSunter | None,
    progress: Progress | None,
    workers: int,
) -> EngineResult:
    config = config or EngineConfig()
    progress = progress or _noop
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        raise ValueError("record ids must be unique")
    feats = features_in_blocks(records, config, extras, workers, progress)
    report = BlockingReport()
    left, right = candidate_arrays(feats, config, report)
    progress("block", len(left), len(left))
    names = model.fields if model is not None else field_names(feats)
    # Each pair's comparison vector, as the number of a distinct vector (a few hundred kinds
    # among millions of pairs), worked out a field at a time for chunks of pairs.
    from .columns import Columns, VectorCodes, compare_pairs

    cols = Columns(feats, names)
    kinds = VectorCodes(names)
    parts: list[np.ndarray] = []
    total = len(left)
    done = 0
    for chunk in compare_pairs(cols, left, right, kinds):
        parts.append(chunk)
        done += len(chunk)
        progress("compare", done, total)
    codes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)
    del parts
    vectors = kinds.vectors
    if model is None:
        u = estimate_u(feats, names, config, columns=cols)
        n = len(feats)
        counts = np.bincount(codes, minlength=len(vectors))
        skipped = report.skipped_pairs
        model = train(
            Counter({v: int(c) for v, c in zip(vectors, counts.tolist(), strict=True) if c}),
            names,
            u,
            config,
            all_pairs=n * (n - 1) // 2,
            unblocked={"name": skipped.get("n", 0), "birth": skipped.get("ds", 0)},
        )
    progress("train", 1, 1)
    probability = np.array([model.probability(v) for v in vectors] or [0.0])
    pair_p = probability[codes] if total else np.zeros(0)
    code_array = codes
    review = np.flatnonzero(pair_p >= config.review_probability)
    scored = [
        ScoredPair(feats[i].id, feats[j].id, p, vectors[c])
        for i, j, p, c in zip(
            left[review].tolist(),
            right[review].tolist(),
            pair_p[review].tolist(),
            code_array[review].tolist(),
            strict=True,
        )
    ]
    linked = np.flatnonzero(pair_p >= config.match_probability)
    links = list(
        zip(left[linked].tolist(), right[linked].tolist(), pair_p[linked].tolist(), strict=True)
    )
    clusters = cluster_without_conflicts(feats, links, conflict_test(model, names))
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
