"""BirthRange: construction, parsing, overlap and distance (examples and properties)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctip.matching.core import BirthRange

REPORTED = date(2025, 1, 10)


def test_about_24_is_ages_22_to_26():
    rng = BirthRange.from_age(24, REPORTED)
    assert rng.earliest == date(1998, 1, 11)  # 26 and a day short of 27
    assert rng.latest == date(2003, 1, 10)  # 22 today
    assert str(rng) == "1998-01-11..2003-01-10 (about 24 on 2025-01-10)"


def test_tolerance_is_configurable():
    exact_age = BirthRange.from_age(24, REPORTED, tolerance_years=0)
    assert exact_age.earliest == date(2000, 1, 11)
    assert exact_age.latest == date(2001, 1, 10)


def test_leap_day_reference():
    rng = BirthRange.from_age(3, date(2024, 2, 29), tolerance_years=0)
    assert rng.latest == date(2021, 2, 28)


@pytest.mark.parametrize(
    ("text", "earliest", "latest"),
    [
        ("2001-03-14", date(2001, 3, 14), date(2001, 3, 14)),
        ("2001/3/4", date(2001, 3, 4), date(2001, 3, 4)),
        ("14/03/2001", date(2001, 3, 14), date(2001, 3, 14)),
        ("2001-02", date(2001, 2, 1), date(2001, 2, 28)),
        ("2000-02", date(2000, 2, 1), date(2000, 2, 29)),
        ("2001", date(2001, 1, 1), date(2001, 12, 31)),
        ("២០០១", date(2001, 1, 1), date(2001, 12, 31)),
        ("about 24", date(1998, 1, 11), date(2003, 1, 10)),
        ("~24", date(1998, 1, 11), date(2003, 1, 10)),
        ("24岁", date(1998, 1, 11), date(2003, 1, 10)),
        ("អាយុ ២៤ ឆ្នាំ", date(1998, 1, 11), date(2003, 1, 10)),
    ],
)
def test_parse(text, earliest, latest):
    rng = BirthRange.parse(text, reference=REPORTED)
    assert (rng.earliest, rng.latest) == (earliest, latest)


@pytest.mark.parametrize("text", ["", "soon", "2001-13-01", "24", "1/2"])
def test_parse_rejects(text):
    with pytest.raises(ValueError):
        BirthRange.parse(text)  # "24" needs a reference date


def test_invalid_ranges_are_rejected():
    with pytest.raises(ValueError):
        BirthRange(date(2001, 1, 2), date(2001, 1, 1))
    with pytest.raises(ValueError):
        BirthRange.from_age(-1, REPORTED)
    with pytest.raises(ValueError):
        BirthRange.year_month(2001, 13)


def test_overlap_and_distance():
    passport = BirthRange.exact(date(2001, 3, 14))
    family = BirthRange.from_age(24, REPORTED)
    older = BirthRange.year(1985)
    assert passport.overlaps(family) and family.overlaps(passport)
    assert passport.distance_years(family) == 0.0
    assert not passport.overlaps(older)
    assert passport.distance_years(older) == pytest.approx(15.2, abs=0.05)


def test_decades():
    assert BirthRange.year(1999).decades() == frozenset({1990})
    assert BirthRange.year(1999).decades(widen_years=3) == frozenset({1990, 2000})


days = st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def ranges(draw):
    a, b = sorted([draw(days), draw(days)])
    return BirthRange(a, b)


@given(ranges(), ranges())
def test_overlap_and_distance_are_symmetric(a, b):
    assert a.overlaps(b) == b.overlaps(a)
    assert a.distance_years(b) == b.distance_years(a)
    assert a.distance_years(b) >= 0.0
    assert (a.distance_years(b) == 0.0) == a.overlaps(b)


@given(ranges())
def test_a_range_overlaps_itself_and_its_endpoints(a):
    assert a.overlaps(a)
    assert a.contains(a.earliest) and a.contains(a.latest)
    assert BirthRange.exact(a.earliest).overlaps(a)


@given(days, st.integers(min_value=0, max_value=90), st.integers(min_value=0, max_value=5))
def test_stated_age_contains_the_true_birth_date(birth, years_later, tolerance):
    on = birth + timedelta(days=round(years_later * 365.25))
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    assert BirthRange.from_age(age, on, tolerance).contains(birth)
    assert BirthRange.year(birth.year).contains(birth)
    assert BirthRange.year_month(birth.year, birth.month).contains(birth)


@given(ranges(), st.floats(min_value=0, max_value=10))
def test_decades_cover_the_range(a, widen):
    decades = a.decades(widen)
    assert a.earliest.year // 10 * 10 in decades
    assert a.latest.year // 10 * 10 in decades
