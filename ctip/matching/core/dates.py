"""Birth information as a date *range*, because that is what case files really hold.

A passport gives a day; a family report gives "about 24" (and the age is often guessed);
a shelter intake may only have a year. Comparing ranges (do they overlap, how far apart
are they) treats all of these uniformly and never pretends to more precision than exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_DAYS_PER_YEAR = 365.2425
_MAX_AGE = 130

_ISO_DAY = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")
_DMY = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$")
_YEAR_MONTH = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")
# "about 24", "~24", "24", "age 24", "24 years", "约24岁", "24岁", "អាយុ ២៤ ឆ្នាំ"
_AGE = re.compile(
    r"^\s*(?:about|approx\.?|approximately|circa|ca\.?|age|aged|~|约|大约|អាយុ|ប្រហែល)?\s*"
    r"(\d{1,3})\s*(?:y|yr|yrs|years?(?:\s+old)?|岁|歲|ឆ្នាំ)?\s*$",
    re.IGNORECASE,
)
_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")


def _shift_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February becomes 28 February in common years."""
    year = day.year + years
    if not 1 <= year <= 9999:
        raise ValueError("date out of range")
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def _last_day_of_month(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


@dataclass(frozen=True)
class BirthRange:
    """Inclusive range of possible birth dates, with a note of where it came from."""

    earliest: date
    latest: date
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.earliest, date) or not isinstance(self.latest, date):
            raise ValueError("earliest and latest must be dates")
        if self.earliest > self.latest:
            raise ValueError("earliest must not be after latest")

    # --- constructors ---------------------------------------------------------------

    @classmethod
    def exact(cls, day: date) -> BirthRange:
        return cls(day, day, day.isoformat())

    @classmethod
    def year_month(cls, year: int, month: int) -> BirthRange:
        if not 1 <= month <= 12:
            raise ValueError("month must be 1..12")
        return cls(date(year, month, 1), _last_day_of_month(year, month), f"{year}-{month:02d}")

    @classmethod
    def year(cls, year: int) -> BirthRange:
        return cls(date(year, 1, 1), date(year, 12, 31), str(year))

    @classmethod
    def from_age(cls, age: int, on: date, tolerance_years: int = 2) -> BirthRange:
        """Someone said to be ``age`` (give or take ``tolerance_years``) on date ``on``.

        Aged exactly A on day R means born in (R - (A+1) years, R - A years]; the tolerance
        widens A to A-T .. A+T. Ages are estimates in most reports, hence the default of 2.
        """
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= _MAX_AGE:
            raise ValueError(f"age must be an int in 0..{_MAX_AGE}")
        if isinstance(tolerance_years, bool) or not isinstance(tolerance_years, int):
            raise ValueError("tolerance_years must be an int")
        if tolerance_years < 0:
            raise ValueError("tolerance_years must be >= 0")
        oldest = age + tolerance_years
        youngest = max(age - tolerance_years, 0)
        earliest = _shift_years(on, -(oldest + 1)) + timedelta(days=1)
        latest = _shift_years(on, -youngest)
        about = f"about {age}" if tolerance_years else f"{age}"
        return cls(earliest, latest, f"{about} on {on.isoformat()}")

    @classmethod
    def parse(
        cls, text: str, reference: date | None = None, tolerance_years: int = 2
    ) -> BirthRange:
        """Parse "2001-03-14", "14/03/2001" (day first), "2001-03", "2001", or an age.

        An age ("about 24", "24岁", "អាយុ ២៤ ឆ្នាំ") needs the ``reference`` date on which
        it was stated. Raises ValueError for anything else.
        """
        value = text.translate(_KHMER_DIGITS).strip()
        if m := _ISO_DAY.match(value):
            return cls.exact(date(int(m[1]), int(m[2]), int(m[3])))
        if m := _DMY.match(value):
            return cls.exact(date(int(m[3]), int(m[2]), int(m[1])))
        if m := _YEAR_MONTH.match(value):
            return cls.year_month(int(m[1]), int(m[2]))
        if m := _YEAR.match(value):
            return cls.year(int(m[1]))
        if m := _AGE.match(value):
            if reference is None:
                raise ValueError("an age needs the reference date it was given on")
            return cls.from_age(int(m[1]), reference, tolerance_years)
        raise ValueError(f"unrecognised birth information: {text!r}")

    # --- comparisons ----------------------------------------------------------------

    def contains(self, day: date) -> bool:
        return self.earliest <= day <= self.latest

    def overlaps(self, other: BirthRange) -> bool:
        return self.earliest <= other.latest and other.earliest <= self.latest

    def distance_years(self, other: BirthRange) -> float:
        """Gap between the ranges in years; 0.0 when they overlap. Symmetric."""
        if self.overlaps(other):
            return 0.0
        gap = max(other.earliest - self.latest, self.earliest - other.latest)
        return gap.days / _DAYS_PER_YEAR

    def decades(self, widen_years: float = 0.0) -> frozenset[int]:
        """Decades (1990, 2000, ...) the range touches, optionally widened on both sides."""
        pad = timedelta(days=round(widen_years * _DAYS_PER_YEAR))
        first = max(date.min + pad, self.earliest) - pad
        last = min(date.max - pad, self.latest) + pad
        return frozenset(range(first.year // 10 * 10, last.year // 10 * 10 + 1, 10))

    def __str__(self) -> str:
        if self.earliest == self.latest:
            span = self.earliest.isoformat()
        else:
            span = f"{self.earliest.isoformat()}..{self.latest.isoformat()}"
        return f"{span} ({self.label})" if self.label and self.label != span else span
