"""Comparing names and people: the motivating example, negative controls, evidence, policy."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

import pytest

from ctip.matching.core import (
    BirthRange,
    MatchConfig,
    PersonRecord,
    blocking_keys,
    compare_names,
    compare_people,
)

DOB = date(2001, 3, 14)

# The same woman in five records (the motivating example of the matching app).
FAMILY_REPORT = PersonRecord(
    "family-report", ("សុខា ចាន់",), "ស្រី", BirthRange.from_age(24, date(2025, 1, 10)), "កម្ពុជា"
)
PASSPORT = PersonRecord("passport", ("CHAN SOKHA",), "F", BirthRange.exact(DOB), "KHM")
SHELTER = PersonRecord(
    "shelter-intake", ("Sokhar Chan",), "female", BirthRange.from_age(23, date(2024, 6, 1)), None
)
POLICE = PersonRecord(
    "cn-police", ("索卡·占",), "女", BirthRange.from_age(24, date(2025, 3, 2)), "柬埔寨"
)
POLICE_PINYIN = PersonRecord(
    "cn-police-pinyin", ("Suo Ka",), "F", BirthRange.from_age(24, date(2025, 3, 2)), "柬埔寨"
)
SAME_WOMAN = (FAMILY_REPORT, PASSPORT, SHELTER, POLICE, POLICE_PINYIN)
FULL_NAMES = (FAMILY_REPORT, PASSPORT, SHELTER, POLICE)


@pytest.mark.parametrize(
    ("a", "b"), list(itertools.combinations(SAME_WOMAN, 2)), ids=lambda r: r.id
)
def test_motivating_example_is_linked_with_evidence(a, b):
    result = compare_people(a, b)
    assert result.decision in ("match", "possible"), result.items
    assert result.evidence_for, result.items
    assert any("equals" in text for text in result.evidence_for)
    assert any("birth ranges overlap" in text for text in result.evidence_for)


@pytest.mark.parametrize(
    ("a", "b"), list(itertools.combinations(FULL_NAMES, 2)), ids=lambda r: r.id
)
def test_full_names_in_three_scripts_are_a_match(a, b):
    result = compare_people(a, b)
    assert result.decision == "match", result.items
    assert result.name is not None and result.name.score == 1.0
    assert any("same set of name parts" in text for text in result.evidence_for)


def test_the_evidence_says_how_each_script_was_read():
    result = compare_people(FAMILY_REPORT, POLICE)
    notes = " | ".join(result.notes)
    assert "Khmer script 'សុខា ចាន់' romanised as 'sokha chan'" in notes
    assert "Chinese '索卡·占' read as pinyin 'suo ka zhan'" in notes
    assert "'សុខា' (romanised 'sokha') equals '索卡' (pinyin 'suo ka')" in " | ".join(
        result.evidence_for
    )


def test_given_name_only_record_needs_review():
    result = compare_people(PASSPORT, POLICE_PINYIN)
    assert result.decision == "possible"
    assert any("appears in only one of the names" in t for t in result.evidence_against)
    assert "fewer than two name parts are equal" in result.notes[-1]


# --- negative controls ---


def _passport(name: str, **changes) -> PersonRecord:
    return replace(PersonRecord("other", (name,), "F", BirthRange.exact(DOB), "KHM"), **changes)


def test_same_family_name_different_given_name_is_not_a_match():
    result = compare_people(PASSPORT, _passport("CHAN SOPHEA"))
    assert result.decision == "non_match"
    assert any("differs" in t and "SOPHEA" in t for t in result.evidence_against)


def test_khmer_report_against_a_different_given_name():
    assert compare_people(FAMILY_REPORT, _passport("CHAN SOPHEA")).decision == "non_match"


def test_different_birth_decade_is_not_a_match():
    result = compare_people(PASSPORT, _passport("CHAN SOKHA", birth=BirthRange.year(1985)))
    assert result.decision == "non_match"
    assert any("too far apart" in t for t in result.evidence_against)


def test_opposite_sex_is_not_a_match():
    result = compare_people(PASSPORT, _passport("CHAN SOKHA", sex="M"))
    assert result.decision == "non_match"
    assert any("sex differs" in t for t in result.evidence_against)


@pytest.mark.parametrize("record", SAME_WOMAN, ids=lambda r: r.id)
def test_an_unrelated_chinese_name_is_not_a_match(record):
    wang_fang = PersonRecord("wang-fang", ("王芳",), "F", BirthRange.exact(DOB), "CHN")
    assert compare_people(record, wang_fang).decision == "non_match"


@pytest.mark.parametrize(
    "other",
    ["CHAN SOKHOM", "CHEA SOKHA", "CHHUN SOKHA", "CHAN SOKHAN", "SOK CHAN", "CHAN SOK"],
)
def test_near_namesakes_are_not_linked(other):
    assert compare_people(PASSPORT, _passport(other)).decision == "non_match"


# --- name comparison details ---


def test_order_is_ignored_but_noted():
    ev = compare_names("CHAN SOKHA", "SOKHA CHAN")
    assert ev.score == 1.0 and ev.agreeing_parts == 2
    assert any("different order" in n for n in ev.notes)


def test_split_and_unspaced_names_are_joined():
    ev = compare_names("Sok Kha Chan", "Chan Sokha")
    assert (ev.score, ev.agreeing_parts) == (1.0, 2)
    assert any("(joined)" in t for t in ev.evidence_for)
    assert compare_names("សុខាចាន់", "CHAN SOKHA").score == 1.0


def test_vowel_variants_and_typos_are_only_possible():
    vowel = compare_people(_passport("PICH SOPHAL"), _passport("Pech Sophal"))
    assert vowel.decision == "possible"
    assert any("commonly confused vowel" in t for t in vowel.evidence_for)
    typo = compare_people(_passport("CHAN SOPHEAP"), _passport("Chan Sophaep"))
    assert typo.decision == "possible"
    assert any("close spellings" in t for t in typo.evidence_for)


def test_different_endings_are_different_names():
    ev = compare_names("CHAN VANNA", "CHAN VANNAK")
    assert ev.conflicting_parts == 1
    assert any("different ending" in t for t in ev.evidence_against)


def test_empty_names_compare_as_nothing():
    ev = compare_names("", "CHAN SOKHA")
    assert ev.score == 0.0 and ev.evidence_against == ("no usable name to compare",)


def test_scores_stay_in_range():
    for a, b in itertools.product(["សុខា ចាន់", "王芳", "Suo Ka", "CHAN SOPHEA"], repeat=2):
        assert 0.0 <= compare_names(a, b).score <= 1.0


# --- people: policy and components ---


def test_records_with_several_names_use_the_best_pair():
    aliases = PersonRecord("aliases", ("Srey Pov", "索卡·占"), "F", BirthRange.year(2001))
    result = compare_people(aliases, PASSPORT)
    assert result.decision == "match"
    assert any("best of 2 name pairs" in n for n in result.notes)


def test_missing_birth_keeps_the_pair_at_possible_unless_configured():
    no_birth = replace(PASSPORT, id="no-birth", birth=None)
    assert compare_people(no_birth, SHELTER).decision == "possible"
    lenient = MatchConfig(match_requires_birth=False)
    assert compare_people(no_birth, SHELTER, lenient).decision == "match"


def test_sex_veto_can_be_disabled():
    male = _passport("CHAN SOKHA", sex="M")
    config = MatchConfig(sex_mismatch_is_veto=False)
    assert compare_people(PASSPORT, male, config).decision == "possible"


def test_nationality_differs_is_evidence_not_a_veto():
    result = compare_people(PASSPORT, _passport("CHAN SOKHA", nationality="Vietnam"))
    assert result.decision == "match"
    assert any("nationality differs (KHM vs VNM)" in t for t in result.evidence_against)


def test_components_list_only_what_both_records_have():
    result = compare_people(PASSPORT, SHELTER)
    assert [label for label, _ in result.components] == ["name", "birth", "sex"]
    assert result.left_id == "passport" and result.right_id == "shelter-intake"


def test_person_record_normalises_its_fields():
    assert FAMILY_REPORT.sex == "F" and FAMILY_REPORT.nationality == "KHM"
    assert POLICE.sex == "F" and POLICE.nationality == "KHM"
    assert PersonRecord("x", "CHAN SOKHA").names == ("CHAN SOKHA",)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PersonRecord("x", ("CHAN SOKHA",), birth="2001")  # type: ignore[arg-type]


# --- blocking ---


@pytest.mark.parametrize(
    ("a", "b"), list(itertools.combinations(SAME_WOMAN, 2)), ids=lambda r: r.id
)
def test_motivating_records_share_a_blocking_key(a, b):
    assert blocking_keys(a) & blocking_keys(b)


def test_blocking_separates_distant_births_and_initials():
    older = _passport("CHAN SOKHA", birth=BirthRange.year(1975))
    assert not blocking_keys(PASSPORT) & blocking_keys(older)
    assert not blocking_keys(PASSPORT) & blocking_keys(_passport("VONG DARA"))
    assert blocking_keys(PASSPORT, use_birth=False) == {"c:*", "s:*"}


def test_unknown_birth_meets_every_decade():
    unknown = replace(PASSPORT, birth=None)
    assert blocking_keys(unknown) & blocking_keys(PASSPORT)
    assert blocking_keys(unknown) & blocking_keys(replace(PASSPORT, birth=BirthRange.year(1950)))
