"""Places of origin as written, in three scripts, to reference places; the engine's place
field; the CSV reader's count of places it could not read."""

from __future__ import annotations

from datetime import date

import pytest

from ctip.matching.core import synth
from ctip.matching.core.csvio import read_text
from ctip.matching.core.engine import field_names, place_level, prepare
from ctip.matching.core.people import PersonRecord
from ctip.matching.core.places import place_chain, resolve_place

from .test_engine import to_csv

PREY_VENG, PEAM_RO = "KH-14", "KH-1407"


@pytest.mark.parametrize(
    "text",
    [
        "Prey Veng",
        "PREY VENG",
        "Prey Veng province, Cambodia",
        "ខេត្តព្រៃវែង",
        "柬埔寨波萝勉省",
        "波罗勉",
    ],
)
def test_a_province_in_any_script(text):
    assert resolve_place(text) == (PREY_VENG,)


@pytest.mark.parametrize(
    ("text", "province"),
    [
        ("Kompong Cham", "KH-03"),  # Kompong is Kampong
        ("KG. CHAM", "KH-03"),
        ("Kg.Cham", "KH-03"),
        ("Siem Reap City", "KH-17"),
        ("Siemreap", "KH-17"),
        ("Batambang", "KH-02"),  # a letter short: the one province within one edit
        ("Kampong Som", "KH-18"),  # the old name of Preah Sihanouk
        ("Mondulkiri", "KH-11"),
        ("រាជធានីភ្នំពេញ", "KH-12"),
        ("ភ្នំពេញ", "KH-12"),
        ("金边市", "KH-12"),
        ("ខេត្តកណ្តាល", "KH-08"),  # ណ្ត written for the table's ណ្ដ
        ("柬埔寨暹粒省", "KH-17"),
    ],
)
def test_spellings_seen_on_forms(text, province):
    assert resolve_place(text)[:1] == (province,)


def test_a_district_with_its_province_in_khmer_and_latin():
    assert resolve_place("Peam Ro, Prey Veng") == (PREY_VENG, PEAM_RO)
    assert resolve_place("Peam Ro district Prey Veng province") == (PREY_VENG, PEAM_RO)
    assert resolve_place("ស្រុកពាមរក៍ ខេត្តព្រៃវែង") == (PREY_VENG, PEAM_RO)


def test_a_name_of_a_province_and_of_its_town_is_the_province():
    # Kampong Cham is a province, a town in it and communes elsewhere.
    assert resolve_place("Kampong Cham") == ("KH-03",)


def test_chinese_places_in_characters_and_pinyin():
    assert resolve_place("云南省昆明市") == ("CN-530000", "CN-530100")
    assert resolve_place("Kunming, Yunnan") == ("CN-530000", "CN-530100")


@pytest.mark.parametrize("text", ["", "  ", "Cambodia", "柬埔寨", "កម្ពុជា", "PP", "xyz, abc"])
def test_an_unknown_place_is_not_guessed(text):
    assert resolve_place(text) == ()


def test_names_pointing_to_different_provinces():
    # A district of another province than the one written: the province written wins.
    assert resolve_place("Peam Ro, Kampot") == ("KH-07",)
    # Two provinces: nothing.
    assert resolve_place("Kampot, Takeo") == ()
    # A place in a province, and the province itself, agree.
    chain = resolve_place("Chamkar Mon, Phnom Penh")
    assert chain[0] == "KH-12" and len(chain) == 2


def test_place_chain_of_a_reference_code():
    assert place_chain(PEAM_RO) == (PREY_VENG, PEAM_RO)
    assert place_chain("KH-99") == ()


def _record(rid: str, place: tuple[str, ...]) -> PersonRecord:
    return PersonRecord(rid, ("Sokha Chan",), place=place)


def test_place_levels():
    district = resolve_place("Peam Ro, Prey Veng")
    a, b, c, d, e = prepare(
        [
            _record("a", district),
            _record("b", district),
            _record("c", (PREY_VENG,)),
            _record("d", ("KH-03",)),
            _record("e", ()),
        ]
    )
    assert place_level(a, b) == 2  # same district
    assert place_level(a, c) == 1  # same province (one gives only the province)
    assert place_level(a, d) == 0  # other provinces
    assert place_level(a, e) is None  # nothing to compare
    assert "place" in field_names([a, e])
    assert "place" not in field_names([e])


def test_a_place_must_be_reference_codes():
    with pytest.raises(ValueError, match="place"):
        PersonRecord("x", ("Sokha",), place="KH-14")  # type: ignore[arg-type]


def test_the_csv_reader_counts_places_it_cannot_read():
    rows = [
        synth._row("r1", "p", "intake", name_latin="Sokha Chan", origin_place="Kg. Cham"),
        synth._row("r2", "p", "intake", name_latin="Sokha Chan", origin_place="Atlantis"),
        synth._row("r3", "p", "intake", name_latin="Sokha Chan", origin_place=""),
    ]
    data = read_text(to_csv(rows), today=date(2025, 6, 1))
    assert [r.place for r in data.records] == [("KH-03",), (), ()]
    assert data.report.unknown_places == 1


def test_synthetic_places_leave_names_and_births_as_they_were():
    with_places = synth.cross_script(60, seed=3)
    without = synth.cross_script(60, seed=3, places=False)

    def strip(rows):
        return [{k: v for k, v in r.items() if k != "origin_place"} for r in rows]

    assert strip(with_places) == strip(without)
    written = [r["origin_place"] for r in with_places if r["origin_place"]]
    assert len(written) > len(with_places) // 3
    assert all(not r["origin_place"] for r in without)
    # Most written places are read; those that are not are realistic ("PP", the country).
    read = sum(1 for text in written if resolve_place(text))
    assert read >= 0.6 * len(written)
