"""Rule-based romanisation of Khmer script, aimed at the spellings Cambodians use in passports.

Khmer is an abugida. A written syllable is a consonant (optionally with subscript consonants
joined by COENG U+17D2), an optional register shifter, a dependent vowel sign or an implied
("inherent") vowel, optional signs, and an optional final consonant. Every consonant belongs
to one of two *series* (a-series / o-series) and the same vowel sign is read differently
after each: ា is "a" after ស (សា sa) but "ea" after ភ (ភា phea). That is why the tables
below carry two readings per vowel.

The output follows UNGEGN where passports do, and the popular passport habit where they
differ: ី is "ei"/"i" (Srei, Ly), ឹ is "i" (Kim, Chhim), ៅ is "au"/"ov" (Mao, Pov).
The phonetic key (:func:`khmer_latin_key`) then folds the remaining spelling freedom
(srei/srey, thida/thita...), so exact agreement with one passport spelling is not the goal;
landing in the same key as the spellings people actually use is.

Known hard cases (honest limits, not special-cased):

* An unwritten (inherent) vowel in a closed o-series syllable is "o" in UNGEGN (មង្គល
  Mongkol) but "a" in many Pali-derived given names (វណ្ណា Vanna, សុវណ្ណ Sovann). The
  "Pali-popular" reading is produced as an *alternative* by :func:`khmer_spellings`.
* A bare consonant between two syllables may close the first (វាសនា Veas-na) or open a
  syllable of its own (រតនា Ra-ta-na); the primary reading closes, the alternative opens.
* Popular spellings of some vowels are not predictable from the script (កែវ Keo, ខៀវ Khieu).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from .text import dedupe

Series = Literal["a", "o"]

COENG = "\u17d2"
_RO = "\u179a"

# consonant -> (reading as initial, reading as final, series)
_CONSONANTS: dict[str, tuple[str, str, Series]] = {
    "\u1780": ("k", "k", "a"),  # ក
    "\u1781": ("kh", "k", "a"),  # ខ
    "\u1782": ("k", "k", "o"),  # គ
    "\u1783": ("kh", "k", "o"),  # ឃ
    "\u1784": ("ng", "ng", "o"),  # ង
    "\u1785": ("ch", "ch", "a"),  # ច
    "\u1786": ("chh", "ch", "a"),  # ឆ
    "\u1787": ("ch", "ch", "o"),  # ជ
    "\u1788": ("chh", "ch", "o"),  # ឈ
    "\u1789": ("nh", "nh", "o"),  # ញ
    "\u178a": ("d", "t", "a"),  # ដ
    "\u178b": ("th", "t", "a"),  # ឋ
    "\u178c": ("d", "t", "o"),  # ឌ
    "\u178d": ("th", "t", "o"),  # ឍ
    "\u178e": ("n", "n", "a"),  # ណ
    "\u178f": ("t", "t", "a"),  # ត
    "\u1790": ("th", "t", "a"),  # ថ
    "\u1791": ("t", "t", "o"),  # ទ
    "\u1792": ("th", "t", "o"),  # ធ
    "\u1793": ("n", "n", "o"),  # ន
    "\u1794": ("b", "p", "a"),  # ប
    "\u1795": ("ph", "p", "a"),  # ផ
    "\u1796": ("p", "p", "o"),  # ព
    "\u1797": ("ph", "p", "o"),  # ភ
    "\u1798": ("m", "m", "o"),  # ម
    "\u1799": ("y", "y", "o"),  # យ
    "\u179a": ("r", "r", "o"),  # រ
    "\u179b": ("l", "l", "o"),  # ល
    "\u179c": ("v", "v", "o"),  # វ
    "\u179d": ("s", "s", "a"),  # ឝ (obsolete, Sanskrit)
    "\u179e": ("s", "s", "a"),  # ឞ (obsolete, Sanskrit)
    "\u179f": ("s", "s", "a"),  # ស
    "\u17a0": ("h", "h", "a"),  # ហ
    "\u17a1": ("l", "l", "a"),  # ឡ
    "\u17a2": ("", "", "a"),  # អ  (glottal stop: silent in Latin spellings)
}

# Independent vowels are whole syllables (onset and vowel in one letter).
_INDEPENDENT: dict[str, str] = {
    "\u17a3": "a",  # ឣ (deprecated)
    "\u17a4": "aa",  # ឤ (deprecated)
    "\u17a5": "e",  # ឥ
    "\u17a6": "ei",  # ឦ
    "\u17a7": "ou",  # ឧ  (Oudom)
    "\u17a8": "ouk",  # ឨ (deprecated)
    "\u17a9": "ou",  # ឩ
    "\u17aa": "au",  # ឪ
    "\u17ab": "ri",  # ឫ  (ឫទ្ធី Rithy)
    "\u17ac": "reu",  # ឬ
    "\u17ad": "li",  # ឭ
    "\u17ae": "leu",  # ឮ
    "\u17af": "ae",  # ឯ
    "\u17b0": "ai",  # ឰ
    "\u17b1": "ao",  # ឱ
    "\u17b2": "ao",  # ឲ
    "\u17b3": "au",  # ឳ
}

# dependent vowel -> (after a-series, after o-series)
_VOWELS: dict[str, tuple[str, str]] = {
    "\u17b6": ("a", "ea"),  # ា   សា sa / ភា phea
    "\u17b7": ("e", "i"),  # ិ   សិរី Serei / ពិសី Pisei
    "\u17b8": ("ei", "i"),  # ី   ស្រី Srei / លី Ly
    "\u17b9": ("i", "i"),  # ឹ   UNGEGN oe/ue; passports write Kim, Chhim, Yim
    "\u17ba": ("eu", "eu"),  # ឺ
    "\u17bb": ("o", "u"),  # ុ   សុខា Sokha / ហ៊ុន Hun
    "\u17bc": ("o", "u"),  # ូ   បូរ៉ា Bora / ទូច Touch
    "\u17bd": ("uo", "uo"),  # ួ   សួន Suon
    "\u17be": ("aeu", "eu"),  # ើ
    "\u17bf": ("oeu", "oeu"),  # ឿ   ធឿន Thoeun
    "\u17c0": ("ie", "ie"),  # ៀ   លៀង Lieng/Leang (the key folds ie/ea)
    "\u17c1": ("e", "e"),  # េ   ហេង Heng
    "\u17c2": ("ae", "ae"),  # ែ
    "\u17c3": ("ai", "ei"),  # ៃ   ឆៃ Chhai
    "\u17c4": ("ao", "o"),  # ោ   សោម Saom
    "\u17c5": ("au", "ov"),  # ៅ   ម៉ៅ Mau/Mao, ពៅ Pov
}

# NIKAHIT (ំ) turns the vowel into a nasal: vowel sign (None = inherent) -> readings.
_NASAL: dict[str | None, tuple[str, str]] = {
    None: ("am", "um"),  # សំណាង Samnang / ជំ Chum
    "\u17b6": ("am", "eam"),  # ាំ
    "\u17bb": ("om", "um"),  # ុំ
    "\u17b7": ("em", "im"),  # ិំ
}

NIKAHIT = "\u17c6"  # ំ  final nasal m
REAHMUK = "\u17c7"  # ះ  final aspiration h
YUUKALEAPINTU = "\u17c8"  # ៈ  short vowel + glottal stop ("ak" in Vannak)
MUUSIKATOAN = "\u17c9"  # ៉  o-series consonant read as a-series (ម៉ៅ Mao)
TRIISAP = "\u17ca"  # ៊  a-series consonant read as o-series (ហ៊ុន Hun)
BANTOC = "\u17cb"  # ់  marks a final consonant and shortens the vowel
ROBAT = "\u17cc"  # ៌  Sanskrit repha, silent in modern names: dropped
TOANDAKHIAT = "\u17cd"  # ៍  "do not pronounce this letter": the letter is dropped
SAMYOK_SANNYA = "\u17d0"  # ័  short "a" (ច័ន្ទ Chan, ល័ក្ខ Leak)
VIRIAM = "\u17d1"  # ៑  virama (no vowel): treated like bantoc

_NUCLEUS_SIGNS = frozenset({NIKAHIT, REAHMUK, YUUKALEAPINTU, SAMYOK_SANNYA})
# KAKABAT, AHSDA, BATHAMASAT, ATTHACAN and the invisible inherent vowels U+17B4/5:
# pronunciation hints with no place in a Latin spelling.
_IGNORED = frozenset("\u17ce\u17cf\u17d3\u17dd\u17b4\u17b5" + ROBAT)
# Khmer punctuation (khan, bariyoosan, camnuc pii kuuh, lek too, ...) separates words.
_PUNCTUATION = frozenset("\u17d4\u17d5\u17d6\u17d7\u17d8\u17d9\u17da\u17db\u17dc")
_DIGITS = {chr(0x17E0 + i): str(i) for i in range(10)} | {
    chr(0x17F0 + i): str(i)
    for i in range(10)  # lunar-date numerals
}

# o-series consonants that are not sonorants: as a subscript they move the cluster to the
# o-series (ស្ព spea), while sonorant subscripts keep the base's series (ស្រី srei).
_O_OBSTRUENTS = frozenset("\u1782\u1783\u1787\u1788\u178c\u178d\u1791\u1792\u1796\u1797")

# Consonant rows (vargas). A cluster whose base and subscript share a row (geminates
# ណ្ណ, aspirate pairs ទ្ធ, nasal + homorganic stop ន្ធ) is, in the middle of a word, split
# across two syllables: ចន្ធី = chan-thy, វណ្ណា = van-na, បុប្ផា = bop-pha.
_ROWS = ("\u1780\u1781\u1782\u1783\u1784", "\u1785\u1786\u1787\u1788\u1789")
_ROWS += ("\u178a\u178b\u178c\u178d\u178e", "\u178f\u1790\u1791\u1792\u1793")
_ROWS += ("\u1794\u1795\u1796\u1797\u1798",)
_ROW_OF = {ch: i for i, row in enumerate(_ROWS) for ch in row}

# Short vowels that are silent at the end of Pali loanwords: សុជាតិ Socheat, ឫទ្ធិ Rith.
_SILENT_FINAL_VOWELS = frozenset("\u17b7\u17bb")


@dataclass
class _Cluster:
    """One orthographic unit: base letter, subscripts, vowel signs and other signs."""

    base: str
    subs: list[str] = field(default_factory=list)
    vowels: list[str] = field(default_factory=list)
    signs: set[str] = field(default_factory=set)
    shift: Series | None = None

    @property
    def independent(self) -> bool:
        return self.base in _INDEPENDENT

    @property
    def has_nucleus(self) -> bool:
        """Written vowel (or a sign implying one): this cluster starts a syllable."""
        return bool(self.vowels) or self.independent or bool(self.signs & _NUCLEUS_SIGNS)

    @property
    def final_marked(self) -> bool:
        return bool(self.signs & {BANTOC, VIRIAM})


@dataclass
class _Syllable:
    onset: str
    onset_letter: str  # the consonant whose final reading is used if the vowel is silent
    series: Series
    independent: str | None = None
    vowels: list[str] = field(default_factory=list)
    signs: set[str] = field(default_factory=set)
    coda: str | None = None

    @property
    def is_open(self) -> bool:
        return self.coda is None and not self.signs & {NIKAHIT, REAHMUK, YUUKALEAPINTU}


def _series_of(base: str, subs: list[str], shift: Series | None) -> Series:
    if shift:
        return shift
    series = _CONSONANTS[base][2] if base in _CONSONANTS else "a"
    if series == "a" and subs and subs[0] in _O_OBSTRUENTS:
        return "o"
    return series


def _is_split_cluster(cluster: _Cluster) -> bool:
    if not cluster.subs or cluster.base not in _CONSONANTS:
        return False
    first = cluster.subs[0]
    same_row = cluster.base in _ROW_OF and _ROW_OF[cluster.base] == _ROW_OF.get(first)
    return same_row or cluster.base == first


def _clusters(word: str) -> list[_Cluster]:
    """Group the code points of one Khmer word into clusters (malformed input tolerated)."""
    clusters: list[_Cluster] = []
    i = 0
    while i < len(word):
        ch = word[i]
        if ch == COENG:
            nxt = word[i + 1] if i + 1 < len(word) else ""
            if clusters and nxt in _CONSONANTS:
                clusters[-1].subs.append(nxt)
                i += 2
                continue
        elif ch in _CONSONANTS or ch in _INDEPENDENT:
            clusters.append(_Cluster(ch))
        elif clusters and ch in _VOWELS:
            clusters[-1].vowels.append(ch)
        elif clusters and ch == MUUSIKATOAN:
            clusters[-1].shift = "a"
        elif clusters and ch == TRIISAP:
            clusters[-1].shift = "o"
        elif clusters and ch not in _IGNORED:
            clusters[-1].signs.add(ch)
        i += 1
    for cluster in clusters:
        # Subscript RO is pronounced last whatever the typing order (ស្រ្តី = ស្ត្រី "strei").
        cluster.subs.sort(key=lambda sub: sub == _RO)
    return [c for c in clusters if TOANDAKHIAT not in c.signs]


def _onset_syllable(cluster: _Cluster) -> _Syllable:
    if cluster.independent:
        return _Syllable("", cluster.base, "a", _INDEPENDENT[cluster.base], [], cluster.signs)
    onset = "".join(_CONSONANTS[c][0] for c in [cluster.base, *cluster.subs])
    series = _series_of(cluster.base, cluster.subs, cluster.shift)
    return _Syllable(onset, cluster.base, series, None, cluster.vowels, cluster.signs)


def _split_syllable(cluster: _Cluster) -> _Syllable:
    """The subscripts of a split cluster start the next syllable (ចន្ធី: ធី)."""
    head, *rest = cluster.subs
    onset = "".join(_CONSONANTS[c][0] for c in cluster.subs)
    series = _series_of(head, rest, cluster.shift)
    return _Syllable(onset, head, series, None, cluster.vowels, cluster.signs)


def _opens_syllable_before(nxt: _Cluster | None, is_last: bool) -> bool:
    """Must the bare cluster before ``nxt`` carry its own (inherent) vowel?"""
    if nxt is None:
        return False
    if nxt.has_nucleus:
        return _is_split_cluster(nxt)
    return is_last or nxt.final_marked


def _syllables(clusters: list[_Cluster], medial_opens: bool) -> list[_Syllable]:
    """Assign each cluster to a syllable as onset, final consonant, or both (split)."""
    out: list[_Syllable] = []
    for i, cluster in enumerate(clusters):
        cur = out[-1] if out else None
        nxt = clusters[i + 1] if i + 1 < len(clusters) else None
        if cur is None:
            out.append(_onset_syllable(cluster))
        elif cluster.has_nucleus:
            if cur.is_open and _is_split_cluster(cluster):
                cur.coda = _CONSONANTS[cluster.base][1]
                out.append(_split_syllable(cluster))
            else:
                out.append(_onset_syllable(cluster))
        elif cluster.final_marked or nxt is None:
            if cur.is_open:
                cur.coda = _CONSONANTS[cluster.base][1]
            else:
                out.append(_onset_syllable(cluster))
        elif _opens_syllable_before(nxt, i + 1 == len(clusters) - 1):
            out.append(_onset_syllable(cluster))
        elif cur.is_open and not medial_opens:
            cur.coda = _CONSONANTS[cluster.base][1]
        else:
            out.append(_onset_syllable(cluster))
    return _drop_silent_final_vowel(out)


def _drop_silent_final_vowel(sylls: list[_Syllable]) -> list[_Syllable]:
    """Pali loans end in an unpronounced short vowel: ជាតិ is "cheat", ហេតុ is "haet"."""
    if len(sylls) < 2:
        return sylls
    last, prev = sylls[-1], sylls[-2]
    silent = (
        last.independent is None
        and len(last.vowels) == 1
        and last.vowels[0] in _SILENT_FINAL_VOWELS
        and not last.signs
        and last.coda is None
    )
    if not silent:
        return sylls
    if prev.is_open and last.onset_letter in _CONSONANTS:
        prev.coda = _CONSONANTS[last.onset_letter][1]
    return sylls[:-1]


def _nucleus(syl: _Syllable, o_inherent: str) -> str:
    idx = 0 if syl.series == "a" else 1
    vowel = syl.vowels[0] if syl.vowels else None
    if NIKAHIT in syl.signs:
        if vowel in _NASAL:
            return _NASAL[vowel][idx]
        return _VOWELS[vowel][idx] + "m" if vowel else _NASAL[None][idx]
    if syl.vowels:
        return "".join(_VOWELS[v][idx] for v in syl.vowels)
    if SAMYOK_SANNYA in syl.signs:
        return ("a", "ea")[idx]
    if YUUKALEAPINTU in syl.signs:
        return ("ak", "eak")[idx]
    if REAHMUK in syl.signs:
        return ("a", "ea")[idx]
    return "a" if idx == 0 else o_inherent


def _render(syl: _Syllable, o_inherent: str) -> str:
    if syl.independent is not None:
        body = syl.independent + ("m" if NIKAHIT in syl.signs else "")
    else:
        body = syl.onset + _nucleus(syl, o_inherent)
    if REAHMUK in syl.signs:
        body += "h"
    return body + (syl.coda or "")


def _romanize_word(word: str, *, popular: bool) -> str:
    sylls = _syllables(_clusters(word), medial_opens=popular)
    o_inherent = "a" if popular else "o"
    return "".join(_render(s, o_inherent) for s in sylls)


def _is_khmer_letter(ch: str) -> bool:
    return "\u1780" <= ch <= "\u17d3" and ch not in _PUNCTUATION


def _romanize(text: str, *, popular: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    word: list[str] = []

    def flush() -> None:
        if word:
            out.append(_romanize_word("".join(word), popular=popular))
            word.clear()

    for ch in text:
        if _is_khmer_letter(ch):
            word.append(ch)
            continue
        flush()
        if ch in _DIGITS:
            out.append(_DIGITS[ch])
        elif ch in _PUNCTUATION or ch == "\u200b" or ch.isspace():
            out.append(" ")
        elif "\u17d4" <= ch <= "\u17ff" or "\u19e0" <= ch <= "\u19ff":
            continue  # other signs and lunar-date symbols
        else:
            out.append(ch)
    flush()
    return " ".join("".join(out).split())


def romanize_khmer(text: str) -> str:
    """Romanise Khmer script to a lower-case, passport-style Latin spelling.

    Words (separated by spaces, zero-width spaces or Khmer punctuation) are romanised one by
    one; Khmer digits become ASCII digits; non-Khmer characters pass through unchanged.

    >>> romanize_khmer("សុខា ចាន់")
    'sokha chan'
    """
    return _romanize(text, popular=False)


def khmer_spellings(word: str) -> tuple[str, ...]:
    """The UNGEGN-like reading first, then the "Pali-popular" reading if it differs.

    The popular reading gives the unwritten o-series vowel as "a" and opens a syllable on a
    bare medial consonant (រតនា ratanea, វណ្ណា vanna): both habits are common in given names.
    """
    return dedupe([_romanize(word, popular=False), _romanize(word, popular=True)])
