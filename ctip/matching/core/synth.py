"""Labelled synthetic person records for tests and benchmarks (deterministic by seed).

Two generators:

* :func:`cross_script` — the hard case of the matching issue: each person has two to four
  records from different sources (a family report in Khmer script with an estimated age,
  a passport in upper-case Latin with the exact date, a shelter intake with informal
  spellings, a Chinese police record in characters), and distractors share common names.
  The Latin spellings come from the golden list of spellings people use, the Chinese
  transcriptions from a syllable table of how Chinese records transcribe Khmer names
  (independent of the pinyin and romanisation code under test).
* :func:`perturbed` — a large set of Latin-script people with typing slips, for scale.

Each returns rows in the CSV format of ``ctip match file`` plus ``person`` (the truth).
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from functools import lru_cache

from .places import KH_PROVINCES_ZH, PLACES_FILE
from .tests.golden import NameEntry, khmer_names

REFERENCE = date(2025, 6, 1)

# How Chinese records write syllables of Khmer names (press and police usage: finals are
# often dropped, aspirates ignored). Longest match first.
SYLLABLE_HANZI = {
    "chan": "占",
    "sok": "索",
    "so": "索",
    "kha": "卡",
    "ka": "卡",
    "heng": "恒",
    "ly": "利",
    "kim": "金",
    "chhim": "钦",
    "suon": "宋",
    "mao": "毛",
    "chea": "谢",
    "hun": "洪",
    "tep": "德",
    "pich": "比",
    "yim": "英",
    "prum": "普伦",
    "nuon": "农",
    "seng": "森",
    "touch": "都",
    "nguon": "温",
    "keo": "乔",
    "khieu": "乔",
    "long": "隆",
    "um": "温",
    "chum": "春",
    "lim": "林",
    "mam": "玛",
    "sreng": "斯伦",
    "chhun": "春",
    "bun": "文",
    "kheng": "肯",
    "huot": "胡",
    "san": "桑",
    "ouk": "乌",
    "ek": "埃",
    "meng": "孟",
    "kong": "贡",
    "meas": "梅",
    "vong": "翁",
    "svay": "斯韦",
    "dy": "迪",
    "sar": "萨",
    "tan": "丹",
    "leang": "良",
    "sun": "孙",
    "srey": "斯雷",
    "thi": "蒂",
    "da": "达",
    "thy": "蒂",
    "phea": "皮",
    "van": "万",
    "na": "娜",
    "ra": "拉",
    "pi": "比",
    "sey": "赛",
    "ry": "丽",
    "tha": "塔",
    "bo": "波",
    "pha": "帕",
    "sam": "桑",
    "nang": "南",
    "veas": "维",
    "pov": "宝",
    "phal": "帕",
    "ko": "科",
    "sal": "萨",
    "vi": "维",
    "chet": "切",
    "vu": "武",
    "ri": "里",
    "cheat": "切",
    "trea": "特雅",
    "the": "特",
    "thea": "提亚",
    "nea": "妮",
    "ma": "玛",
    "seth": "塞",
    "khom": "孔",
    "rey": "雷",
    "bol": "波",
    "chen": "辰",
    "ro": "罗",
    "cha": "查",
    "ya": "雅",
    "lea": "丽",
    "khe": "凯",
    "si": "西",
    "ha": "哈",
    "mo": "莫",
    "ny": "妮",
    "kun": "昆",
    "leak": "丽",
    "nak": "纳",
    "mom": "蒙",
    "mea": "美",
    "pon": "本",
    "leu": "勒",
    "reak": "烈",
    "smey": "斯美",
    "thou": "涛",
    "lin": "林",
    "dav": "达",
    "bor": "波",
    "ta": "达",
    "ly_": "莉",
    # Whole syllables a transcriber writes with one character (never letter by letter).
    "thoeun": "吞",
    "phoeun": "彭",
    "roeun": "伦",
    "la": "拉",
    "li": "丽",
    "vy": "维",
    "ea": "雅",
    "o": "奥",
    "a": "阿",
    "e": "埃",
    "i": "伊",
    "u": "乌",
    "y": "伊",
    "k": "克",
    "s": "斯",
    "t": "特",
    "n": "恩",
    "m": "姆",
    "l": "尔",
    "p": "普",
    "r": "尔",
    "h": "赫",
    "v": "夫",
    "c": "克",
    "d": "德",
    "b": "布",
    "g": "格",
}
_MAX_SYLLABLE = max(len(k) for k in SYLLABLE_HANZI)


def to_hanzi(latin: str) -> str:
    """Chinese-character transcription of one Latin name part: the split into table
    syllables with the fewest pieces, single letters costing extra (as a transcriber would)."""
    word = latin.lower()
    best: list[tuple[float, list[str]] | None] = [None] * (len(word) + 1)
    best[0] = (0.0, [])
    for i in range(len(word)):
        if best[i] is None:
            continue
        cost, pieces = best[i]
        for size in range(1, min(_MAX_SYLLABLE, len(word) - i) + 1):
            piece = word[i : i + size]
            if piece in SYLLABLE_HANZI:
                step = 1.0 if size > 1 else 2.5
                cand = (cost + step, [*pieces, SYLLABLE_HANZI[piece]])
                if best[i + size] is None or cand[0] < best[i + size][0]:
                    best[i + size] = cand
    end = best[len(word)]
    return "".join(end[1]) if end else ""


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _row(rid: str, person: str, source: str, **kw: str) -> dict[str, str]:
    row = {
        "record_id": rid,
        "source": source,
        "name_original": "",
        "name_latin": "",
        "sex": "",
        "birth_date": "",
        "age_at_record": "",
        "nationality": "",
        "origin_place": "",
        "record_date": "",
        "person": person,
    }
    row.update(kw)
    return row


def _variant(word: str, rng: random.Random) -> str:
    """Informal spellings seen on intake forms: final h/r, split syllable, a slip."""
    roll = rng.random()
    if roll < 0.2 and word[-1] in "aeo":
        return word + rng.choice("hr")
    if roll < 0.3 and len(word) > 4:
        cut = next((i for i in range(2, len(word) - 1) if word[i - 1] in "aeiouy"), 0)
        if cut:
            return f"{word[:cut]} {word[cut:].capitalize()}"
    if roll < 0.36 and len(word) > 5:
        i = rng.randrange(1, len(word) - 2)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word


#: People per province (thousands, 2019 census, rounded): where the synthetic people are from.
PROVINCE_PEOPLE = {
    "KH-01": 861, "KH-02": 997, "KH-03": 899, "KH-04": 527, "KH-05": 877, "KH-06": 677,
    "KH-07": 593, "KH-08": 1195, "KH-09": 123, "KH-10": 372, "KH-11": 88, "KH-12": 2129,
    "KH-13": 251, "KH-14": 1057, "KH-15": 411, "KH-16": 204, "KH-17": 1014, "KH-18": 302,
    "KH-19": 160, "KH-20": 525, "KH-21": 900, "KH-22": 262, "KH-23": 42, "KH-24": 72,
    "KH-25": 776,
}  # fmt: skip

#: How shelter intake forms spell some provinces (written for these data, independently of
#: the spellings the place reader knows).
INFORMAL_PROVINCES = {
    "KH-02": ("Batdambang", "Battambang", "Battambong"),
    "KH-03": ("Kompong Cham", "Kg. Cham", "Kampong Cham"),
    "KH-04": ("Kompong Chhnang", "Kg Chhnang"),
    "KH-05": ("Kompong Speu", "Kampong Spue"),
    "KH-06": ("Kompong Thom", "Kg. Thom"),
    "KH-11": ("Mondulkiri", "Mondol Kiri"),
    "KH-12": ("Phnom Penh", "Phnompenh", "PP"),
    "KH-14": ("Prey Veng", "Prey Veaeng"),
    "KH-16": ("Ratanakiri", "Rattanakiri"),
    "KH-17": ("Siem Reap", "Siem Riep", "Siemreap"),
    "KH-18": ("Sihanoukville", "Kampong Som", "Preah Sihanouk"),
    "KH-20": ("Svay Rieng", "Svayrieng"),
    "KH-21": ("Takeo", "Takev"),
    "KH-22": ("Oddar Meanchey", "Otdar Mean Chey"),
}


@lru_cache(maxsize=1)
def _places() -> tuple[dict[str, tuple[str, str]], dict[str, list[tuple[str, str, str]]]]:
    """Cambodian provinces {code: (Khmer, Latin)} and their districts [(code, Khmer, Latin)]."""
    rows = json.loads(PLACES_FILE.read_text(encoding="utf-8"))["KH"]
    provinces = {code: (km, la) for code, _, level, km, la in rows if level == 1}
    districts: dict[str, list[tuple[str, str, str]]] = {}
    for code, parent, level, km, la in rows:
        if level == 2:
            districts.setdefault(parent, []).append((code, km, la))
    return provinces, districts


def _origin(rng: random.Random) -> tuple[str, str]:
    """(province, district) codes of a person's place of origin."""
    codes = list(PROVINCE_PEOPLE)
    province = rng.choices(codes, [PROVINCE_PEOPLE[c] for c in codes])[0]
    district = rng.choice(_places()[1][province])[0]
    return province, district


def _written_place(origin: tuple[str, str], source: str, rng: random.Random) -> str:
    """The place of origin as a source writes it, or "" (many records have none). One in ten
    records gives another province (where the person lived, or a mistake)."""
    province, district = origin
    if rng.random() < 0.1:
        province, district = _origin(rng)
    provinces, districts = _places()
    km, latin = provinces[province]
    d_km, d_latin = next((k, la) for c, k, la in districts[province] if c == district)
    roll = rng.random()
    if source == "family":  # Khmer script, often the district too
        khet = "" if km.startswith("រាជធានី") else "ខេត្ត"  # the capital is no province
        if roll < 0.45:
            return f"ស្រុក{d_km} {khet}{km}"
        return f"{khet}{km}" if roll < 0.85 else ""
    if source == "passport":  # place of birth: the province
        return latin.upper() if roll < 0.9 else ""
    if source == "intake":  # informal Latin spellings
        spelt = rng.choice(INFORMAL_PROVINCES.get(province, (latin,)))
        if roll < 0.35:
            return f"{d_latin}, {spelt}"
        return spelt if roll < 0.75 else ""
    # A Chinese police record: the province in characters, or only the country, or nothing.
    if roll < 0.35:
        zh = KH_PROVINCES_ZH[province][0]
        return f"柬埔寨{zh}{'市' if province == 'KH-12' else '省'}"
    return "柬埔寨" if roll < 0.65 else ""


def _compound(first: NameEntry, second: NameEntry) -> NameEntry:
    """A given name of two parts, as many Khmer given names are (ស្រី + ពៅ = ស្រីពៅ,
    Sreypov or Srey Pov)."""
    joined = [a + b.lower() for a in first.latin[:2] for b in second.latin[:2]]
    spaced = f"{first.latin[0]} {second.latin[0]}"
    latin = tuple(dict.fromkeys([*joined, spaced]))
    return NameEntry(first.khmer + second.khmer, "given", latin)


def cross_script(
    n_people: int = 400,
    seed: int = 9,
    *,
    distractor_share: float = 0.3,
    compound_share: float = 0.4,
    places: bool = True,
) -> list[dict[str, str]]:
    """Records of ``n_people`` people in Khmer script, Latin and Chinese characters.

    ``distractor_share`` of the people take the name of someone already in the set (a
    different person: another birth date, maybe another sex); ``compound_share`` of the
    others have a two-part given name. Family names are skewed: six carry most people.
    With ``places``, each person comes from a province (drawn by population) and a district
    of it, and records write it as their source would (see :func:`_written_place`); the
    places are drawn from a second generator, so the names and births are the same with or
    without them.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    place_rng = random.Random(seed * 7919 + 1)  # noqa: S311
    names = khmer_names()
    families = [e for e in names if e.kind == "family"]
    givens = [e for e in names if e.kind == "given"]
    # Common names are common: a few family names carry most people (distractors).
    fam_weights = [8 if i < 6 else 1 for i in range(len(families))]
    rows: list[dict[str, str]] = []
    n = 0
    people: list[tuple[NameEntry, NameEntry, str, date]] = []
    for p in range(n_people):
        if people and rng.random() < distractor_share:
            # Same name as someone else, a different person (different birth, maybe sex).
            fam, giv, _, _ = rng.choice(people)
        else:
            fam = rng.choices(families, fam_weights)[0]
            giv = rng.choice(givens)
            if rng.random() < compound_share:
                giv = _compound(giv, rng.choice(givens))
        sex = rng.choice("FM")
        birth = date(1975, 1, 1) + timedelta(days=rng.randrange(35 * 365))
        people.append((fam, giv, sex, birth))
        origin = _origin(place_rng) if places else None
        sources = rng.sample(
            ["family", "passport", "intake", "police_cn"], rng.choice([2, 2, 3, 4])
        )
        for source in sources:
            n += 1
            rid = f"r{n:06d}"
            pid = f"p{p:05d}"
            seen = REFERENCE - timedelta(days=rng.randrange(4 * 365))
            age = str(max(_age_on(birth, seen) + rng.choice([-1, 0, 0, 1]), 0))
            if source == "family":
                title = rng.choice(["", "", "កញ្ញា " if sex == "F" else "លោក "])
                rows.append(
                    _row(
                        rid,
                        pid,
                        source,
                        name_original=f"{title}{fam.khmer} {giv.khmer}",
                        sex=rng.choice(["ស្រី" if sex == "F" else "ប្រុស", sex]),
                        age_at_record=age,
                        record_date=seen.isoformat(),
                        nationality="កម្ពុជា",
                    )
                )
            elif source == "passport":
                rows.append(
                    _row(
                        rid,
                        pid,
                        source,
                        name_latin=f"{rng.choice(fam.latin)} {rng.choice(giv.latin)}".upper(),
                        sex=sex,
                        birth_date=birth.isoformat(),
                        nationality="KHM",
                        record_date=seen.isoformat(),
                    )
                )
            elif source == "intake":
                given = _variant(rng.choice(giv.latin), rng)
                family = rng.choice(fam.latin)
                name = f"{given} {family}" if rng.random() < 0.6 else f"{family.upper()} {given}"
                birth_text = rng.choice(
                    [str(birth.year), birth.strftime("%d/%m/%Y"), birth.strftime("%m/%Y"), ""]
                )
                rows.append(
                    _row(
                        rid,
                        pid,
                        source,
                        name_latin=name,
                        sex=sex if rng.random() < 0.9 else "",
                        birth_date=birth_text,
                        age_at_record="" if birth_text else age,
                        record_date=seen.isoformat(),
                        nationality="Cambodian",
                    )
                )
            else:
                zh = f"{to_hanzi(giv.latin[0])}·{to_hanzi(fam.latin[0])}"
                rows.append(
                    _row(
                        rid,
                        pid,
                        source,
                        name_original=zh,
                        sex="女" if sex == "F" else "男",
                        age_at_record=age,
                        record_date=seen.isoformat(),
                        nationality="柬埔寨",
                    )
                )
            if origin:
                rows[-1]["origin_place"] = _written_place(origin, source, place_rng)
    return rows


_ONSETS = [
    "b",
    "c",
    "d",
    "f",
    "g",
    "h",
    "j",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "w",
    "br",
    "ch",
    "cl",
    "dr",
    "gr",
    "kr",
    "pr",
    "sh",
    "st",
    "th",
    "tr",
]
_NUCLEI = ["a", "e", "i", "o", "u", "ai", "ea", "ie", "ou", "y"]
_CODAS = ["", "", "", "n", "r", "s", "l", "m", "t", "k", "nd", "ng"]


def _made_up_name(rng: random.Random) -> str:
    return "".join(
        rng.choice(_ONSETS) + rng.choice(_NUCLEI) + rng.choice(_CODAS)
        for _ in range(rng.choice([2, 2, 3]))
    ).capitalize()


def perturbed(n_records: int, seed: int = 5, *, dup_share: float = 0.5) -> list[dict[str, str]]:
    """``n_records`` Latin-script records; about ``dup_share`` of them are perturbed copies."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    given_pool = [_made_up_name(rng) for _ in range(max(n_records // 20, 200))]
    family_pool = [_made_up_name(rng) for _ in range(max(n_records // 10, 400))]
    rows: list[dict[str, str]] = []
    p = 0
    while len(rows) < n_records:
        p += 1
        pid = f"p{p:07d}"
        given, family = rng.choice(given_pool), rng.choice(family_pool)
        sex = rng.choice("FM")
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(60 * 365))
        copies = 1 + (rng.random() < dup_share) + (rng.random() < dup_share / 3)
        for _ in range(copies):
            if len(rows) >= n_records:
                break
            g, f, b = given, family, birth.isoformat()
            if len(rows) and rng.random() < 0.5:
                roll = rng.random()
                if roll < 0.3 and len(g) > 3:
                    i = rng.randrange(1, len(g) - 1)
                    g = g[:i] + g[i + 1 :]
                elif roll < 0.5 and len(f) > 3:
                    i = rng.randrange(1, len(f) - 1)
                    f = f[:i] + rng.choice("aeioulnrst") + f[i + 1 :]
                elif roll < 0.65:
                    b = b[:-1] + str(rng.randrange(10)) if b[-1] != "0" else b
                elif roll < 0.8:
                    g, f = f, g
                elif roll < 0.9:
                    b = str(birth.year)
            rows.append(
                _row(
                    f"r{len(rows) + 1:07d}",
                    pid,
                    "synthetic",
                    name_latin=f"{g} {f}",
                    sex=sex,
                    birth_date=b,
                )
            )
    return rows
