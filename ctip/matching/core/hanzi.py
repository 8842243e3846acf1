"""Chinese characters: pinyin readings, Chinese surnames, and Chinese transcriptions of Khmer names.

Two different things arrive in Chinese script:

* Chinese names (王芳): read with pypinyin; the first character is read as a *surname*,
  which matters because many surname characters are read differently as surnames
  (单 Shan not Dan, 曾 Zeng not Ceng, 仇 Qiu not Chou).
* Khmer (or other foreign) names transcribed syllable by syllable (索卡·占 for Sokha Chan,
  洪森 for Hun Sen). Chinese police records use these. Their pinyin is mapped back into the
  Khmer-Latin phonetic key space with :data:`PINYIN_INITIALS` / :data:`PINYIN_FINALS`, so
  "索卡" can be compared with "Sokha" directly.

pypinyin's dictionary covers both Simplified and Traditional characters.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Sequence
from functools import cache, lru_cache

from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.contrib.tone_convert import to_normal
from pypinyin.pinyin_dict import pinyin_dict

from .latin import khmer_latin_key
from .text import INTERPUNCTS, char_script, clean_text, dedupe

# --- Surnames --------------------------------------------------------------------------

#: Surnames whose reading as a surname is not pypinyin's everyday first reading, best first.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "单": ("shan", "dan", "chan"),
    "單": ("shan", "dan", "chan"),
    "曾": ("zeng", "ceng"),
    "仇": ("qiu", "chou"),
    "区": ("ou", "qu"),
    "區": ("ou", "qu"),
    "解": ("xie", "jie"),
    "查": ("zha", "cha"),
    "朴": ("piao", "pu"),
    "盖": ("ge", "gai"),
    "蓋": ("ge", "gai"),
    "乐": ("yue", "le"),
    "樂": ("yue", "le"),
    "员": ("yun", "yuan"),
    "員": ("yun", "yuan"),
    "种": ("chong", "zhong"),
    "種": ("chong", "zhong"),
    "秘": ("bi", "mi"),
    "缪": ("miao", "mou"),
    "繆": ("miao", "mou"),
    "翟": ("zhai", "di"),
    "谌": ("shen", "chen"),
    "諶": ("shen", "chen"),
    "覃": ("qin", "tan"),
    "折": ("she", "zhe"),
    "句": ("gou", "ju"),
    "蔚": ("yu", "wei"),
    "尉": ("wei", "yu"),
    "重": ("chong", "zhong"),
    "柏": ("bai", "bo"),
    "召": ("shao", "zhao"),
    "祭": ("zhai", "ji"),
    "繁": ("po", "fan"),
    "便": ("pian", "bian"),
    "隗": ("wei", "kui"),
    "万": ("wan", "mo"),
    "贾": ("jia", "gu"),
    "賈": ("jia", "gu"),
    "沈": ("shen",),
    "薄": ("bo",),
    "石": ("shi",),
    "都": ("du",),
    "相": ("xiang",),
    "华": ("hua",),
    "華": ("hua",),
    "任": ("ren",),
    "宁": ("ning",),
    "寧": ("ning",),
    "燕": ("yan",),
    "纪": ("ji",),
    "紀": ("ji",),
    "冼": ("xian",),
}

#: How Sino-Khmer families write common Chinese surnames in Latin letters (Teochew and
#: Hokkien readings, as on Cambodian documents: 陈 Tan, 林 Lim, 谢 Chea, 金 Kim...). Tried
#: after the pinyin readings when a name part is one character, so a Chinese record of a
#: Cambodian family name meets its Cambodian spelling.
SINO_KHMER_SURNAMES: dict[str, tuple[str, ...]] = {
    "陈": ("tan", "chan"),
    "陳": ("tan", "chan"),
    "林": ("lim",),
    "李": ("ly", "lee"),
    "黄": ("ung", "heng"),
    "黃": ("ung", "heng"),
    "郑": ("tea", "teng"),
    "鄭": ("tea", "teng"),
    "谢": ("chea", "sia"),
    "謝": ("chea", "sia"),
    "金": ("kim",),
    "洪": ("hong", "hun"),
    "刘": ("lao",),
    "劉": ("lao",),
    "杨": ("yeang", "yong"),
    "楊": ("yeang", "yong"),
    "吴": ("ngo", "ou"),
    "吳": ("ngo", "ou"),
    "蔡": ("chhay",),
    "张": ("teo", "cheung"),
    "張": ("teo", "cheung"),
    "许": ("khou",),
    "許": ("khou",),
    "王": ("heng", "ong"),
    "何": ("ho",),
    "罗": ("lo",),
    "羅": ("lo",),
    "曾": ("chan", "tang"),
}

#: Two-character surnames and their readings.
COMPOUND_SURNAMES: dict[str, str] = {
    "欧阳": "ou yang",
    "歐陽": "ou yang",
    "司马": "si ma",
    "司馬": "si ma",
    "诸葛": "zhu ge",
    "諸葛": "zhu ge",
    "上官": "shang guan",
    "东方": "dong fang",
    "東方": "dong fang",
    "皇甫": "huang fu",
    "尉迟": "yu chi",
    "尉遲": "yu chi",
    "长孙": "zhang sun",
    "長孫": "zhang sun",
    "令狐": "ling hu",
    "万俟": "mo qi",
    "萬俟": "mo qi",
    "澹台": "tan tai",
    "公孙": "gong sun",
    "公孫": "gong sun",
    "夏侯": "xia hou",
    "慕容": "mu rong",
    "宇文": "yu wen",
    "司徒": "si tu",
    "西门": "xi men",
    "西門": "xi men",
    "轩辕": "xuan yuan",
    "軒轅": "xuan yuan",
    "单于": "chan yu",
    "單于": "chan yu",
}

# Common single-character surnames (Simplified and Traditional). Used only to decide that a
# run of 2-4 characters without an interpunct is a Chinese-style "surname + given" name.
_COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿"
    "关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华"
    "喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗"
    "瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝洪"
    "張劉陳楊黃趙吳孫馬鄭羅謝許韓馮鄧蕭葉蘇呂盧鍾譚陸賈韋鄒閆龍陶賀顧龔萬錢嚴莊聶魯嶽歐關"
    "蘭紀單畢裴塗駱藍鮑饒車項連蘆麥婁竇費臧閔鄔師欒鞏鄺"
)


def chinese_style_split(run: str) -> tuple[str, str] | None:
    """Split a 2-4 character Chinese name into (surname, given name), if it looks like one.

    Transcribed foreign names are usually written with an interpunct (索卡·占) and never reach
    this function; a run that does not start with a known surname is left whole.
    """
    if not 2 <= len(run) <= 4:
        return None
    if run[:2] in COMPOUND_SURNAMES and len(run) >= 3:
        return run[:2], run[2:]
    if run[0] in _COMMON_SURNAMES or run[0] in SURNAME_READINGS:
        return run[0], run[1:]
    return None


# --- Pinyin ---------------------------------------------------------------------------


def _han_only(text: str) -> list[str]:
    """Runs of Han characters; interpuncts, spaces and anything else separate the runs."""
    runs: list[str] = []
    current: list[str] = []
    for ch in clean_text(text):
        if char_script(ch) == "han":
            current.append(ch)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def _char_readings(ch: str) -> list[str]:
    readings = pinyin(ch, style=Style.NORMAL, heteronym=True, v_to_u=True, errors="ignore")
    return [r for r in readings[0] if r.isalpha()] if readings else []


def _primary_readings(run: str) -> list[list[str]]:
    """Per character, pypinyin's phrase-aware reading only.

    Rare readings of given-name characters (占 "tie") add false matches, not recall.
    """
    phrase = lazy_pinyin(run, style=Style.NORMAL, v_to_u=True, errors="ignore")
    if len(phrase) != len(run):
        phrase = [(_char_readings(ch) or [""])[0] for ch in run]
    return [[reading] if reading.isalpha() else [] for reading in phrase]


def _surname_readings(unit: str) -> list[str]:
    """Surname readings, best first: the surname table, then pypinyin's heteronyms (max 3)."""
    if unit in COMPOUND_SURNAMES:
        return [COMPOUND_SURNAMES[unit]]
    return list(dedupe([*SURNAME_READINGS.get(unit, ()), *_char_readings(unit)]))[:3]


def ranked_product(options: Sequence[Sequence[str]], limit: int) -> list[tuple[str, ...]]:
    """Combinations of per-position options, best first (rank = sum of option indices).

    Bounded by ``limit`` so a long name with many polyphonic characters cannot explode.
    """
    if not options or any(not opts for opts in options) or limit < 1:
        return []
    start = (0,) * len(options)
    heap: list[tuple[int, tuple[int, ...]]] = [(0, start)]
    seen = {start}
    out: list[tuple[str, ...]] = []
    while heap and len(out) < limit:
        rank, idx = heapq.heappop(heap)
        out.append(tuple(opts[i] for opts, i in zip(options, idx, strict=True)))
        for pos in range(len(idx)):
            if idx[pos] + 1 < len(options[pos]):
                nxt = idx[:pos] + (idx[pos] + 1,) + idx[pos + 1 :]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (rank + 1, nxt))
    return out


def _run_units(run: str, surname: bool) -> list[list[str]]:
    """Reading options per unit; in surname mode the first unit is the (compound) surname."""
    if not surname:
        return _primary_readings(run)
    split = 2 if run[:2] in COMPOUND_SURNAMES and len(run) >= 3 else 1
    head, rest = run[:split], run[split:]
    return [_surname_readings(head), *(_primary_readings(rest) if rest else [])]


def hanzi_to_pinyin(
    text: str, *, surname: bool | None = None, max_candidates: int = 8
) -> list[str]:
    """Candidate toneless pinyin readings of ``text``, best first, syllables space-separated.

    ``surname=None`` detects a Chinese-style name (2-4 characters, no interpunct, starting with
    a known surname) and reads its first character as a surname; ``True``/``False`` force it.
    Interpuncts (·, ・, •) and other non-Han characters only separate parts.

    >>> hanzi_to_pinyin("单田芳")[0]
    'shan tian fang'
    >>> hanzi_to_pinyin("索卡·占")[0]
    'suo ka zhan'
    """
    runs = _han_only(text)
    if not runs:
        return []
    if surname is None:
        surname = len(runs) == 1 and not any(ch in INTERPUNCTS for ch in text)
        surname = surname and chinese_style_split(runs[0]) is not None
    units: list[list[str]] = []
    for i, run in enumerate(runs):
        units.extend(_run_units(run, surname and i == 0))
    units = [u for u in units if u]
    return [" ".join(combo) for combo in ranked_product(units, max_candidates)]


# --- Pinyin -> Khmer-Latin -----------------------------------------------------------------

#: Pinyin initial -> Khmer-Latin spellings, best first. Why each mapping:
#: Mandarin b/d/g/j/zh are unaspirated and render Khmer b/p, d/t, k, ch; p/t/k/q/ch are
#: aspirated and render Khmer ph, th, kh, chh (the phonetic key then folds aspiration).
#: Mandarin has no trilled r, so transcribers write Khmer r with l (兰西 "Rainsy").
#: x and sh render Khmer s (西 Si, 索 So); z/c render ch or s; w renders v.
PINYIN_INITIALS: dict[str, tuple[str, ...]] = {
    "b": ("b", "p"),
    "p": ("ph",),
    "m": ("m",),
    "f": ("ph",),
    "d": ("d", "t"),
    "t": ("th",),
    "n": ("n",),
    "l": ("l", "r"),
    "g": ("k",),
    "k": ("kh",),
    "h": ("h",),
    "j": ("ch",),
    "q": ("chh",),
    "x": ("s",),
    "zh": ("ch",),
    "ch": ("chh",),
    "sh": ("s",),
    "r": ("r",),
    "z": ("ch", "s"),
    "c": ("chh", "s"),
    "s": ("s",),
    "": ("",),
}

#: Pinyin final -> Khmer-Latin vowel (+ final consonant) spellings, best first.
#: Mandarin finals lack -m, -k, -t, -p, so -n/-ng also stand for Khmer -m (桑 Sam, 辛 Sim,
#: 林 rin); a neutral "e" (克 ke, 德 de) often only renders a final consonant; "uo" (索 suo)
#: renders Khmer "o".
PINYIN_FINALS: dict[str, tuple[str, ...]] = {
    "a": ("a",),
    "o": ("o",),
    "e": ("e",),  # at the end of a longer part also "" (see pinyin_syllable_spellings)
    "ai": ("ai",),
    "ei": ("ei", "e"),
    "ao": ("ao",),
    "ou": ("ou", "o"),
    "an": ("an", "am"),
    "en": ("en", "em"),
    "ang": ("ang", "am"),
    "eng": ("eng",),
    "ong": ("ong", "um"),
    "er": ("r", "e"),
    "i": ("i",),
    "ia": ("ea", "a"),
    "ie": ("ie", "e"),
    "iao": ("iao",),
    "iu": ("iu",),
    "ian": ("ian", "en"),
    "in": ("in", "im"),
    "iang": ("iang",),
    "ing": ("ing", "eng"),
    "iong": ("iong",),
    "u": ("u", "o"),
    "ua": ("ua",),
    "uo": ("o", "uo"),
    "uai": ("uai",),
    "ui": ("ui",),
    "uan": ("uan", "on"),
    "un": ("un", "on"),
    "uang": ("uang",),
    "ü": ("u", "i"),
    "üe": ("ue", "ie"),
    "üan": ("uan", "ien"),
    "ün": ("un", "in"),
}

#: Whole syllables spelled with y/w (pinyin's zero-initial spellings).
PINYIN_YW: dict[str, tuple[str, ...]] = {
    "yi": ("i", "yi"),
    "ya": ("ya", "ea", "a"),
    "ye": ("ye", "e"),
    "yao": ("yao",),
    "you": ("you", "yu"),
    "yan": ("yan", "ean"),
    "yin": ("yin", "in", "im"),
    "yang": ("yang", "eang"),
    "ying": ("ying", "ing"),
    "yong": ("yong",),
    "yo": ("yo",),
    "yu": ("yu", "u"),
    "yue": ("yue",),
    "yuan": ("yuan",),
    "yun": ("yun", "un"),
    "wu": ("u", "vu"),
    "wa": ("va",),
    "wo": ("vo", "o"),
    "wai": ("vai",),
    "wei": ("vei", "vi"),
    "wan": ("van", "vam"),
    "wen": ("ven", "vun"),
    "wang": ("vang",),
    "weng": ("veng", "vong"),
}

_INITIAL_ORDER = ("zh", "ch", "sh", *"bpmfdtnlgkhjqxrzcs")
_APICAL = {"z": ("", "i"), "c": ("", "i"), "s": ("", "i")}
_RETROFLEX_APICAL = ("i", "")  # zhi, chi, shi, ri
_MAX_SYLLABLE_OPTIONS = 4


def pinyin_syllable_spellings(syllable: str, *, last: bool = False) -> tuple[str, ...]:
    """Khmer-Latin spellings for one toneless pinyin syllable, best first.

    "si"/"zi"/"ci" may render a bare consonant (斯雷 si lei = "Srey"); when ``last`` is true a
    neutral-vowel syllable (克 ke) prefers the bare-consonant reading (西哈努克 = Sihanouk).
    """
    syl = syllable.lower().replace("v", "ü").replace("u:", "ü")
    if syl in PINYIN_YW:
        return PINYIN_YW[syl]
    initial = next((i for i in _INITIAL_ORDER if syl.startswith(i) and len(syl) > len(i)), "")
    final = syl[len(initial) :]
    if initial in ("j", "q", "x") and final.startswith("u"):
        final = "ü" + final[1:]
    if final == "i" and initial in _APICAL:
        finals: tuple[str, ...] = _APICAL[initial]
    elif final == "i" and initial in ("zh", "ch", "sh", "r"):
        finals = _RETROFLEX_APICAL
    elif final in PINYIN_FINALS:
        finals = PINYIN_FINALS[final]
    else:
        return (syl,)
    if last and final == "e":
        finals = ("", "e")
    combos = ranked_product([PINYIN_INITIALS[initial], finals], _MAX_SYLLABLE_OPTIONS)
    return dedupe("".join(c) for c in combos) or (syl,)


def pinyin_spellings(syllables: Sequence[str], limit: int) -> tuple[str, ...]:
    """Khmer-Latin spellings of a syllable sequence (one name part), best first.

    Only the last syllable of a multi-syllable part may be a bare final consonant (克 in
    西哈努克); a one-syllable part (贺 He) always keeps its vowel.
    """
    last = len(syllables) - 1
    options = [pinyin_syllable_spellings(s, last=0 < i == last) for i, s in enumerate(syllables)]
    return dedupe("".join(combo) for combo in ranked_product(options, limit))


def han_part_spellings(part: str, *, surname: bool, limit: int) -> tuple[tuple[str, ...], str]:
    """(Khmer-Latin spellings, best pinyin reading) of one Han name part."""
    readings = hanzi_to_pinyin(part, surname=surname, max_candidates=max(1, limit // 2))
    spellings: list[str] = []
    for reading in readings:
        spellings.extend(pinyin_spellings(reading.split(), limit))
    if len(part) == 1 and part in SINO_KHMER_SURNAMES:
        spellings = [*spellings[: max(limit - 2, 1)], *SINO_KHMER_SURNAMES[part]]
    return dedupe(spellings)[:limit], (readings[0] if readings else "")


def chinese_transcription_key(text: str) -> str:
    """Phonetic key of a Chinese-script name in the Khmer-Latin key space, parts space-separated.

    Each part (parts are separated by interpuncts or spaces) is read with pypinyin, every
    syllable is mapped through :data:`PINYIN_INITIALS`/:data:`PINYIN_FINALS`, and the result is
    keyed with :func:`khmer_latin_key`. Only the best reading is used here; the matcher also
    tries the alternatives.

    >>> chinese_transcription_key("索卡·占")
    'soka chan'
    """
    keys = []
    for run in _han_only(text):
        spellings, _ = han_part_spellings(run, surname=False, limit=1)
        if spellings:
            keys.append(khmer_latin_key(spellings[0]))
    return " ".join(k for k in keys if k)


# --- Pinyin written in Latin letters (Suo Ka, Zhang Wei) ---------------------------------

# Letter groups that occur in pinyin but hardly ever in Latin spellings of Khmer names.
_PINYIN_MARKERS = re.compile(r"q|x|zh|z|c(?!h)|uo|ui|iu|ian|iao|iang")


@cache
def _pinyin_syllables() -> frozenset[str]:
    # Some 1,500 distinct tone-marked readings among the dictionary's 40,000 characters:
    # each is converted once.
    readings = {reading for value in pinyin_dict.values() for reading in value.split(",")}
    syllables = {to_normal(reading).replace("v", "ü") for reading in readings}
    return frozenset(s for s in syllables if s.isalpha())


@lru_cache(maxsize=262144)
def _segment(word: str) -> tuple[str, ...] | None:
    found = _segment_uncached(word)
    return None if found is None else tuple(found)


def segment_pinyin(word: str) -> list[str] | None:
    """Split a lower-case Latin word into the fewest pinyin syllables, or None if impossible."""
    found = _segment(word)
    return None if found is None else list(found)


def _segment_uncached(word: str) -> list[str] | None:
    """Split a lower-case Latin word into the fewest pinyin syllables, or None if impossible."""
    valid = _pinyin_syllables()
    best: list[list[str] | None] = [None] * (len(word) + 1)
    best[0] = []
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            prefix = best[start]
            if prefix is not None and word[start:end] in valid:
                candidate = [*prefix, word[start:end]]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(word)]


def looks_like_pinyin(words: Sequence[str]) -> bool:
    """All words segment into pinyin syllables and at least one has a pinyin-only letter group."""
    if not words or not any(_PINYIN_MARKERS.search(w) for w in words):
        return False  # the cheap test first: segmenting costs far more
    return all(w and segment_pinyin(w) is not None for w in words)
