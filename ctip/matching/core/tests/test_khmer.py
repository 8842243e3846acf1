"""Khmer romanisation: unit behaviour of each script feature, and the golden-name hit rate."""

from __future__ import annotations

import pytest

from ctip.matching.core import khmer_latin_key, romanize_khmer
from ctip.matching.core.khmer import khmer_spellings

from .golden import khmer_names

# Known misses of the primary (UNGEGN-like) reading, kept honest rather than special-cased:
#   កែវ kaev (Keo), ខៀវ khiev (Khieu), ឯក aek (Ek): popular spellings of ែ/ៀ+វ/ឯ do not
#     follow from the script.
#   វណ្ណា vonna (Vanna), សុវណ្ណ sovon (Sovann), វណ្ណៈ vonnak (Vannak), សុវណ្ណារី sovonnari
#     (Sovannary), រតនា rotnea (Rathana), មករា mokrea (Makara), លក្ខិណា lokkhena
#     (Leakhena), សុគន្ធា sokonthea (Sokunthea): the unwritten o-series vowel of Pali names
#     is popularly "a"/"ea"/"u", not UNGEGN's "o"; the alternative "Pali-popular" reading in
#     khmer_spellings() recovers the first six.
#   មុន្នី munni (Mony), ស្រីមុំ sreimum (Sreymom): ុ after o-series is "u" by rule, "o" here.
#   រស្មី rosmei (Reaksmey): the pronounced "k" is not written.
MIN_HIT_RATE = 0.85


def _accepted(entry) -> set[str]:
    return {khmer_latin_key(v) for v in entry.latin}


def test_golden_file_is_large_enough_and_consistent():
    names = khmer_names()
    assert len(names) >= 40
    assert {n.kind for n in names} == {"family", "given"}
    seen: dict[str, str] = {}
    for entry in names:
        assert entry.latin, entry
        for spelling in entry.latin:
            assert seen.setdefault(spelling.lower(), entry.khmer) == entry.khmer, spelling


def test_golden_names_romanise_to_an_accepted_spelling():
    names = khmer_names()
    misses = []
    for entry in names:
        romanised = romanize_khmer(entry.khmer)
        if khmer_latin_key(romanised) not in _accepted(entry):
            misses.append(f"{entry.khmer} -> {romanised!r}, accepted {', '.join(entry.latin)}")
    rate = 1 - len(misses) / len(names)
    print(f"\nKhmer golden names: {len(names) - len(misses)}/{len(names)} = {rate:.1%}")  # noqa: T201
    for miss in misses:
        print("  miss:", miss)  # noqa: T201
    assert rate >= MIN_HIT_RATE, misses


def test_alternative_readings_only_add_hits():
    names = khmer_names()
    primary = sum(khmer_latin_key(romanize_khmer(e.khmer)) in _accepted(e) for e in names)
    any_reading = sum(
        any(khmer_latin_key(s) in _accepted(e) for s in khmer_spellings(e.khmer)) for e in names
    )
    print(f"\nwith alternative readings: {any_reading}/{len(names)}")  # noqa: T201
    assert any_reading >= primary
    assert all(khmer_spellings(e.khmer)[0] == romanize_khmer(e.khmer) for e in names)


@pytest.mark.parametrize(
    ("khmer", "latin", "feature"),
    [
        ("សុខា ចាន់", "sokha chan", "words romanised one by one"),
        ("សា", "sa", "a-series consonant: ា is a"),
        ("ភា", "phea", "o-series consonant: ា is ea"),
        ("ស្រី", "srei", "subscript (coeng) cluster; sonorant keeps the a-series"),
        ("ស្ពាន", "spean", "subscript o-series obstruent moves the cluster to the o-series"),
        ("ស្រ្តី", "strei", "subscript RO is read last whatever the typing order"),
        ("ចន្ធី", "chanthi", "Pali cluster split across syllables"),
        ("បុប្ផា", "boppha", "geminate cluster split"),
        ("ម៉ៅ", "mau", "musikatoan: o-series consonant read as a-series"),
        ("ហ៊ុន", "hun", "triisap: a-series consonant read as o-series"),
        ("ចាន់", "chan", "bantoc marks the final consonant"),
        ("សំណាង", "samnang", "nikahit: nasal m"),
        ("ព្រះ", "preah", "reahmuk: final h"),
        ("វណ្ណៈ", "vonnak", "yuukaleapintu: short vowel + k"),
        ("ស្រីល័ក្ខ", "sreileak", "samyok sannya: short ea after o-series"),
        ("ធម៌", "thom", "robat dropped"),
        ("លក្ខណ៍", "lok", "toandakhiat: silenced letter dropped"),
        ("ឫទ្ធី", "ritthi", "independent vowel"),
        ("សុជាតិ", "socheat", "silent final short vowel of Pali words"),
        ("កម្ពុជា", "kampuchea", "nasal + homorganic stop"),
        ("១៩៩៩", "1999", "Khmer digits"),
        ("សុខា\u200bចាន់", "sokha chan", "zero-width space separates words"),
        ("សុខា។ចាន់", "sokha chan", "khan punctuation separates words"),
        ("Chan សុខា", "Chan sokha", "non-Khmer text passes through"),
        ("", "", "empty"),
        ("\u17d2\u17c6", "", "stray signs without a consonant"),
    ],
)
def test_script_features(khmer, latin, feature):
    assert romanize_khmer(khmer) == latin, feature


@pytest.mark.parametrize(
    ("khmer", "latin"),
    [
        ("សុខា", "Sokha"),
        ("ចាន់", "Chan"),
        ("ស្រី", "Srey"),
        ("ធីតា", "Thida"),
        ("ចន្ធី", "Chanthy"),
        ("សុភា", "Sophea"),
        ("ដារ៉ា", "Dara"),
        ("ពិសី", "Pisey"),
        ("ម៉ៅ", "Mao"),
        ("គឹម", "Kim"),
        ("ហេង", "Heng"),
        ("លី", "Ly"),
        ("សួន", "Suon"),
        ("ឈឹម", "Chhim"),
        ("ណារី", "Nary"),
    ],
)
def test_brief_examples_reach_the_passport_key(khmer, latin):
    assert khmer_latin_key(romanize_khmer(khmer)) == khmer_latin_key(latin)


@pytest.mark.parametrize(("khmer", "latin"), [("វណ្ណា", "Vanna"), ("រតនា", "Rathana")])
def test_pali_popular_alternative_reaches_the_passport_key(khmer, latin):
    assert khmer_latin_key(latin) in {khmer_latin_key(s) for s in khmer_spellings(khmer)}
