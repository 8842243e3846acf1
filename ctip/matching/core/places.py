"""Places of origin as written (in Khmer script, Chinese characters or Latin letters) to
reference places: the chain of codes from the province down to the most specific place the
text names, e.g. ``("KH-14", "KH-1403")`` for "Peam Ro, Prey Veng".

The reference table is the node's own (``ctip/cases/data/places.json``: Cambodian
provinces, districts and communes; Chinese provinces and prefecture-level cities). Added
here: the Chinese names Chinese records use for the Cambodian provinces, and the Latin
spellings of provinces seen on forms besides the official ones (Kompong, Kg., Siem Reap,
Mondulkiri...). Both lists are drafts for official review.

How a text is read: administrative words ("province", ខេត្ត, 省...) and the country are
dropped, then the longest names of the table are found in it, left to right (whole words
for Latin, any run of characters for Khmer and Chinese, which are written without spaces).
Each place found is supported by the names found of it and of its provinces and districts;
the best supported, most specific place wins. A text whose names point to different
provinces equally, or that names nothing in the table, gives ``()``: an unknown place is
never guessed.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from .latin import khmer_latin_key
from .text import char_script, fold_latin

#: The node's table of reference places (rows: code, parent, level, local name, Latin name).
PLACES_FILE = Path(__file__).resolve().parents[2] / "cases" / "data" / "places.json"

#: How Chinese records name the Cambodian provinces (draft for official review).
KH_PROVINCES_ZH = {
    "KH-01": ("班迭棉吉",),
    "KH-02": ("马德望",),
    "KH-03": ("磅湛",),
    "KH-04": ("磅清扬",),
    "KH-05": ("磅士卑",),
    "KH-06": ("磅同",),
    "KH-07": ("贡布",),
    "KH-08": ("干丹", "甘丹"),
    "KH-09": ("戈公",),
    "KH-10": ("桔井",),
    "KH-11": ("蒙多基里",),
    "KH-12": ("金边",),
    "KH-13": ("柏威夏",),
    "KH-14": ("波萝勉", "波罗勉"),
    "KH-15": ("菩萨",),
    "KH-16": ("腊塔纳基里", "拉达那基里"),
    "KH-17": ("暹粒",),
    "KH-18": ("西哈努克", "西港"),
    "KH-19": ("上丁",),
    "KH-20": ("柴桢",),
    "KH-21": ("茶胶",),
    "KH-22": ("奥多棉吉",),
    "KH-23": ("白马", "凯普"),
    "KH-24": ("拜林",),
    "KH-25": ("特本克蒙",),
}

#: Latin spellings of provinces seen on forms besides the table's (draft for review).
KH_PROVINCES_LATIN = {
    "KH-01": ("Banteay Mean Chey", "Banteay Meanchey"),
    "KH-02": ("Batdambang", "Battambang"),
    "KH-05": ("Kampong Spoe",),
    "KH-09": ("Kaoh Kong",),
    "KH-10": ("Kracheh",),
    "KH-11": ("Mondulkiri", "Mondolkiri", "Mondol Kiri"),
    "KH-15": ("Pouthisat",),
    "KH-16": ("Ratanakiri", "Rattanakiri", "Rotanak Kiri", "Ratana Kiri"),
    "KH-17": ("Siem Reap", "Siem Riep"),
    "KH-18": ("Preah Sihanouk", "Sihanouk", "Kampong Som"),
    "KH-19": ("Stueng Traeng", "Steung Treng"),
    "KH-21": ("Takev",),
    "KH-22": ("Oddar Meanchey", "Otdar Mean Chey", "Oddar Mean Chey"),
    "KH-23": ("Kaeb",),
    "KH-25": ("Tbong Khmum", "Tboung Khmom"),
}
KH_PROVINCES_KHMER = {"KH-12": ("ភ្នំពេញ",), "KH-18": ("កំពង់សោម",)}

#: Words that say what kind of place follows, or the country: not names of places.
_LATIN_NOISE = frozenset(
    {
        *("province", "provinces", "khet", "krong", "city", "capital", "municipality"),
        *("district", "dist", "srok", "khan", "commune", "khum", "sangkat", "village", "phum"),
        *("of", "the", "kingdom", "cambodia", "cambodian", "kampuchea", "prov", "com", "vil"),
    }
)
#: Latin words written for another: Kompong and its abbreviations are Kampong.
_LATIN_WORDS = {"kompong": "kampong", "kg": "kampong", "kpg": "kampong", "kpong": "kampong"}
_KHMER_NOISE = (
    "ព្រះរាជាណាចក្រកម្ពុជា",
    "ប្រទេសកម្ពុជា",
    "កម្ពុជា",
    "រាជធានី",
    "ខេត្ត",
    "ក្រុង",
    "ស្រុក",
    "ខណ្ឌ",
    "ឃុំ",
    "សង្កាត់",
    "ភូមិ",
)
_HAN_NOISE = ("柬埔寨王国", "柬埔寨", "中华人民共和国", "中国", "中國")
#: Suffixes of Chinese place names, dropped to index the short form too (云南省 = 云南).
_HAN_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "自治州",
    "地区",
    "省",
    "市",
    "盟",
    "县",
    "区",
)
#: Khmer subscript letters written either way (ណ្ដ / ណ្ត).
_KHMER_SAME = str.maketrans({"\u178a": "\u178f"})
_SPLIT = re.compile(r"[,;/|()\[\]{}\-–—:，、；。·•\n]+")
#: The shortest Khmer or Chinese name looked for (a single character names nothing).
_MIN_RUN = 2
#: A province's Latin key may differ by this many edits per ten letters (Batambang).
_FUZZY_PER_TEN = 1


def _khmer_form(text: str) -> str:
    return text.translate(_KHMER_SAME).replace("\u200b", "").replace(" ", "")


def _latin_words(text: str) -> list[str]:
    words = []
    for word in re.split(r"[\s.]+", text):
        w = re.sub(r"[^a-z]", "", fold_latin(word).lower())
        if w and w not in _LATIN_NOISE:
            words.append(_LATIN_WORDS.get(w, w))
    return words


def _latin_key(words: list[str]) -> str:
    return khmer_latin_key("".join(words))


class _Index:
    """The reference table as lookup tables: Latin keys of one to four words, and Khmer and
    Chinese names (with their short forms) for runs of characters."""

    def __init__(self, rows: list[list]) -> None:
        self.parent: dict[str, str] = {}
        self.level: dict[str, int] = {}
        self.latin: dict[str, set[str]] = {}
        self.runs: dict[str, set[str]] = {}
        self.province_keys: dict[str, set[str]] = {}
        for code, parent, level, local, latin in rows:
            self.parent[code] = parent
            self.level[code] = level
            self._add_latin(latin, code, province=level == 1)
            self._add_run(local, code)
        for code, names in KH_PROVINCES_ZH.items():
            for name in names:
                self._add_run(name, code)
        for code, names in KH_PROVINCES_KHMER.items():
            for name in names:
                self._add_run(name, code)
        for code, names in KH_PROVINCES_LATIN.items():
            for name in names:
                self._add_latin(name, code, province=True)
        self.max_run = max(len(k) for k in self.runs)

    def _add_latin(self, name: str, code: str, *, province: bool) -> None:
        words = _latin_words(name.split("(")[0])
        if not words:
            return
        key = _latin_key(words)
        self.latin.setdefault(key, set()).add(code)
        if province and len(key) >= 5:
            self.province_keys.setdefault(key, set()).add(code)

    def _add_run(self, name: str, code: str) -> None:
        forms = {_khmer_form(name)}
        if any(char_script(c) == "han" for c in name):
            for suffix in _HAN_SUFFIXES:
                if name.endswith(suffix) and len(name) - len(suffix) >= _MIN_RUN:
                    forms.add(name[: -len(suffix)])
                    break
        for noise in _KHMER_NOISE:
            if name.startswith(noise) and len(name) - len(noise) >= _MIN_RUN:
                forms.add(_khmer_form(name[len(noise) :]))
        for form in forms:
            if len(form) >= _MIN_RUN:
                self.runs.setdefault(form, set()).add(code)

    def chain(self, code: str) -> tuple[str, ...]:
        out = []
        while code:
            out.append(code)
            code = self.parent.get(code, "")
        return tuple(reversed(out))

    def latin_hits(self, words: list[str]) -> list[set[str]]:
        """Places named by the longest runs of one to four words, left to right."""
        hits, i = [], 0
        while i < len(words):
            for size in range(min(4, len(words) - i), 0, -1):
                found = self.latin.get(_latin_key(words[i : i + size]))
                if found:
                    hits.append(found)
                    i += size
                    break
            else:
                fuzzy = self._fuzzy_province(words[i : i + 3])
                if fuzzy:
                    hits.append(fuzzy[1])
                    i += fuzzy[0]
                else:
                    i += 1
        return hits

    def _fuzzy_province(self, words: list[str]) -> tuple[int, set[str]] | None:
        """A province spelt a little differently (Batambang, Kampong Chaam)."""
        for size in range(len(words), 0, -1):
            key = _latin_key(words[:size])
            if len(key) < 6:
                continue
            limit = max(1, len(key) * _FUZZY_PER_TEN // 10)
            close = {
                code
                for known, codes in self.province_keys.items()
                if abs(len(known) - len(key)) <= limit
                and Levenshtein.distance(known, key, score_cutoff=limit) <= limit
                for code in codes
            }
            if len(close) == 1:
                return size, close
        return None

    def run_hits(self, text: str) -> list[set[str]]:
        """Places named by the longest runs of characters, left to right."""
        hits, i = [], 0
        while i < len(text):
            for size in range(min(self.max_run, len(text) - i), _MIN_RUN - 1, -1):
                found = self.runs.get(text[i : i + size])
                if found:
                    hits.append(found)
                    i += size
                    break
            else:
                i += 1
        return hits


@lru_cache(maxsize=1)
def _index() -> _Index:
    raw = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    return _Index([row for country in ("KH", "CN") for row in raw[country]])


def place_chain(code: str) -> tuple[str, ...]:
    """The chain of a reference code from its province down (``()`` for an unknown code)."""
    index = _index()
    return index.chain(code) if code in index.level else ()


@lru_cache(maxsize=50_000)
def resolve_place(text: str) -> tuple[str, ...]:
    """The chain of reference codes a written place names, province first (see the module's
    description); ``()`` when it names none, or names places in different provinces."""
    if not text or not text.strip():
        return ()
    index = _index()
    hits: list[set[str]] = []
    for piece in _SPLIT.split(text.strip()):
        latin = "".join(c if char_script(c) not in ("khmer", "han") else " " for c in piece)
        hits.extend(index.latin_hits(_latin_words(latin)))
        if latin != piece:
            form = _khmer_form(piece)
            for noise in (*_KHMER_NOISE, *_HAN_NOISE):
                form = form.replace(noise, "|")
            for run in form.split("|"):
                hits.extend(index.run_hits(run))
    if not hits:
        return ()
    return _best(index, hits)


def _best(index: _Index, hits: list[set[str]]) -> tuple[str, ...]:
    """The place with the most support among the names found (a name found supports a place
    when it names the place or one of its larger places); of equals, the larger place (a
    name that is a province's and a commune's elsewhere is the province's), then what
    the equals have in common (the province of two districts of that name), or nothing."""
    chains: dict[str, tuple[str, ...]] = {}
    for hit in hits:
        for code in hit:
            chains[code] = index.chain(code)
    # A name that names a place and one inside it (the province and its town of that name)
    # names the larger place.
    hits = [{c for c in hit if hit.isdisjoint(chains[c][:-1])} for hit in hits]
    support = {code: sum(not h.isdisjoint(chain) for h in hits) for code, chain in chains.items()}
    top = max((s, -len(chains[code])) for code, s in support.items())
    best = [code for code, s in support.items() if (s, -len(chains[code])) == top]
    common = chains[best[0]]
    for code in best[1:]:
        other = chains[code]
        n = 0
        while n < min(len(common), len(other)) and common[n] == other[n]:
            n += 1
        common = common[:n]
    return common
