"""Parsing names: scripts, honorifics, family-name position, pinyin written in Latin."""

from __future__ import annotations

import pytest

from ctip.matching.core import parse_name


def _keys(text: str, hint=None) -> list[str]:
    return [t.key for t in parse_name(text, hint).tokens]


@pytest.mark.parametrize(
    ("text", "script", "keys"),
    [
        ("សុខា ចាន់", "khmer", ["soka", "chan"]),
        ("CHAN SOKHA", "latin", ["chan", "soka"]),
        ("Sokhar Chan", "latin", ["soka", "chan"]),
        ("索卡·占", "han", ["soka", "chan"]),
        ("王芳", "han", ["vang", "pang"]),
        ("Ｃｈａｎ　Ｓｏｋｈａ", "latin", ["chan", "soka"]),  # full-width, ideographic space
        ("Chan សុខា", "mixed", ["chan", "soka"]),
        ("", "empty", []),
        ("  ·  ", "empty", []),
    ],
)
def test_scripts_and_keys(text, script, keys):
    parsed = parse_name(text)
    assert parsed.script == script
    assert _keys(text) == keys


@pytest.mark.parametrize(
    ("text", "removed", "keys"),
    [
        ("លោក ចាន់ សុខា", ("លោក",), ["chan", "soka"]),
        ("លោកស្រី ចាន់ សុខា", ("លោកស្រី",), ["chan", "soka"]),
        ("លោកស្រីចាន់ សុខា", ("លោកស្រី",), ["chan", "soka"]),  # glued to the name
        ("កញ្ញា ចាន់ សុខា", ("កញ្ញា",), ["chan", "soka"]),
        ("អ្នកនាង ចាន់ សុខា", ("អ្នកនាង",), ["chan", "soka"]),
        ("នាង សុខា", ("នាង",), ["soka"]),
        ("Mr Chan Dara", ("Mr",), ["chan", "dara"]),
        ("Mrs. Chan Sokha", ("Mrs.",), ["chan", "soka"]),
        ("Ms Sokha", ("Ms",), ["soka"]),
        ("Miss Chan Sokha", ("Miss",), ["chan", "soka"]),
        ("Lok Srey Chan Sokha", ("Lok Srey",), ["chan", "soka"]),
        ("Lok Chan Dara", ("Lok",), ["chan", "dara"]),
        ("Neak Chan Sokha", ("Neak",), ["chan", "soka"]),
        ("王先生", ("先生",), ["vang"]),
        ("王芳女士", ("女士",), ["vang", "pang"]),
        ("索卡·占小姐", ("小姐",), ["soka", "chan"]),
    ],
)
def test_honorifics_are_removed_and_remembered(text, removed, keys):
    parsed = parse_name(text)
    assert parsed.removed == removed
    assert _keys(text) == keys


def test_a_lone_title_word_is_kept_as_a_name():
    assert _keys("Lok") == ["lok"]
    assert _keys("Srey") == ["sri"]
    assert _keys("ស្រីនាង") == ["srineang"]  # នាង inside a name is not a title


def test_family_name_position_from_conventions():
    roles = [t.role for t in parse_name("ចាន់ សុខា").tokens]
    assert roles == ["family", "given"]
    assert [t.role for t in parse_name("王芳").tokens] == ["family", "given"]
    assert [t.role for t in parse_name("CHAN, Sokha").tokens] == ["family", "given"]
    assert [t.role for t in parse_name("Sokha CHAN").tokens] == ["given", "family"]
    assert [t.role for t in parse_name("CHAN SOKHA").tokens] == [None, None]


def test_readings_are_kept_for_evidence():
    assert parse_name("សុខា ចាន់").reading == "sokha chan"
    assert parse_name("索卡·占").reading == "suo ka zhan"


def test_latin_pinyin_gets_pinyin_alternatives():
    suo = parse_name("Suo Ka").tokens[0]
    assert suo.keys[0] == "suo" and "so" in suo.keys
    assert parse_name("Suo Ka", "latin").tokens[0].keys == ("suo",)
    wang = parse_name("Wang Fang", "pinyin").tokens[0]
    assert len(wang.keys) >= 1 and wang.keys[0] == "vang"


def test_unknown_script_hint_is_rejected():
    with pytest.raises(ValueError, match="script_hint"):
        parse_name("Chan", "cyrillic")  # type: ignore[arg-type]
