"""Chinese names: pinyin readings, surname readings, and Chinese transcriptions of Khmer names."""

from __future__ import annotations

import pytest

from ctip.matching.core import (
    chinese_transcription_key,
    compare_names,
    hanzi_to_pinyin,
    khmer_latin_key,
)
from ctip.matching.core.hanzi import (
    chinese_style_split,
    looks_like_pinyin,
    pinyin_syllable_spellings,
    ranked_product,
    segment_pinyin,
)

from .golden import chinese_transcriptions


@pytest.mark.parametrize(
    ("name", "reading"),
    [
        ("单田芳", "shan tian fang"),  # 单 is Dan in ordinary words, Shan as a surname
        ("曾国藩", "zeng guo fan"),
        ("仇英", "qiu ying"),
        ("單田芳", "shan tian fang"),  # Traditional
        ("區家麟", "ou jia lin"),
        ("欧阳娜娜", "ou yang na na"),  # compound surname
        ("王芳", "wang fang"),
        ("張偉", "zhang wei"),  # Traditional, ordinary surname
    ],
)
def test_surname_reading_comes_first(name, reading):
    assert hanzi_to_pinyin(name)[0] == reading


def test_polyphonic_surnames_keep_their_other_readings():
    assert hanzi_to_pinyin("单田芳")[:3] == ["shan tian fang", "dan tian fang", "chan tian fang"]
    assert "ceng guo fan" in hanzi_to_pinyin("曾国藩")


def test_surname_mode_can_be_forced_or_disabled():
    assert hanzi_to_pinyin("单", surname=True)[0] == "shan"
    assert hanzi_to_pinyin("单田芳", surname=False)[0] == "dan tian fang"


@pytest.mark.parametrize("dot", ["·", "・", "•", "‧", "･"])
def test_interpuncts_only_separate_parts(dot):
    assert hanzi_to_pinyin(f"索卡{dot}占") == ["suo ka zhan"]
    assert chinese_transcription_key(f"索卡{dot}占") == "soka chan"


def test_transliterated_names_are_not_read_as_surnames():
    # No interpunct, but 索 is not a common surname: the run stays whole.
    assert chinese_style_split("索卡") is None
    assert chinese_style_split("王芳") == ("王", "芳")
    assert chinese_style_split("欧阳娜娜") == ("欧阳", "娜娜")


def test_non_han_text_gives_no_reading():
    assert hanzi_to_pinyin("Sokha") == []
    assert hanzi_to_pinyin("") == []
    assert chinese_transcription_key("Sokha") == ""


def test_motivating_transcription_lands_on_the_passport_keys():
    assert chinese_transcription_key("索卡·占") == "soka chan"
    assert chinese_transcription_key("索卡") == khmer_latin_key("Sokha")
    assert chinese_transcription_key("占") == khmer_latin_key("Chan")


@pytest.mark.parametrize(
    ("hanzi", "khmer_latin"),
    [
        ("西", "Sey"),  # xi ~ si/sei
        ("娜", "Na"),
        ("丽", "Ly"),  # li ~ ly
        ("达", "Da"),
        ("拉", "La"),
        ("宋", "Song"),
        ("斯雷", "Srey"),  # si renders a bare s; lei renders rey
        ("西哈努克", "Sihanouk"),  # final ke renders a bare final consonant
        ("索菲亚", "Sophea"),
    ],
)
def test_syllable_table_reaches_khmer_spellings(hanzi, khmer_latin):
    # Any of the table's alternatives may match; the matcher tries them all.
    ev = compare_names(hanzi, khmer_latin)
    assert ev.agreeing_parts + ev.similar_parts >= 1, ev.items


def test_syllable_table_alternatives():
    assert pinyin_syllable_spellings("zhan") == ("chan", "cham")
    assert pinyin_syllable_spellings("si")[0] == "s"
    assert pinyin_syllable_spellings("ke", last=True)[0] == "kh"
    assert pinyin_syllable_spellings("xu") == ("su", "si")  # xu is xü
    assert pinyin_syllable_spellings("lü") == pinyin_syllable_spellings("lv")


def test_ranked_product_is_best_first_and_bounded():
    combos = ranked_product([["a", "b"], ["x", "y", "z"]], 4)
    assert combos[0] == ("a", "x")
    assert len(combos) == 4
    assert ranked_product([["a"], []], 4) == []


def test_latin_pinyin_detection():
    assert segment_pinyin("suo") == ["suo"]
    assert segment_pinyin("wangfang") == ["wang", "fang"]
    assert segment_pinyin("sokha") is None
    assert looks_like_pinyin(["suo", "ka"])  # "uo" is a pinyin-only group
    assert not looks_like_pinyin(["chan", "sokha"])
    assert not looks_like_pinyin(["wang", "fang"])  # valid pinyin, but nothing pinyin-only


# Real Chinese transcriptions follow dialect readings and drop final consonants, so only a
# part of them can be recovered from Mandarin pinyin. Measured: 8 of 13 share at least one
# equal or similar name part with the Latin name. The floor below leaves room, not tuning.
MIN_PART_RATE = 0.5


def test_golden_chinese_transcriptions_share_name_parts():
    rows = chinese_transcriptions()
    hits, misses = 0, []
    for chinese, latin in rows:
        ev = compare_names(chinese, latin)
        if ev.agreeing_parts + ev.similar_parts:
            hits += 1
        else:
            misses.append(f"{chinese} ({ev.left.reading}) vs {latin}")
    print(f"\nChinese transcriptions sharing a name part: {hits}/{len(rows)}")  # noqa: T201
    for miss in misses:
        print("  miss:", miss)  # noqa: T201
    assert hits / len(rows) >= MIN_PART_RATE
