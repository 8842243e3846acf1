"""Deterministic generator of labelled record pairs for measuring precision and recall.

Independence from the matcher (so the test cannot just replay the matcher's own rules):

* Spelling variants come from the golden file: Latin spellings people actually use, listed
  per Khmer name, never produced by the romaniser or the phonetic key.
* Perturbations imitate how records are really written (upper-case passports, "Given
  FAMILY" intake order, "FAMILY, Given", honorifics, a given name split at a syllable, a
  trailing h or r, an occasional transposed-letter typo), with their own simple rules.
* Birth information is derived from a true birth date the way each source records it
  (exact date, year only, or an estimated age on the day of the report).

Negatives are deliberately hard: a third share the family name, a quarter share the given
name, half of them have births within two years of each other.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from ctip.matching.core import BirthRange, PersonRecord

from .golden import NameEntry, khmer_names

REFERENCE = date(2025, 1, 15)
SEED = 20250115
VOWELS = "aeiouy"


@dataclass(frozen=True)
class Identity:
    family: NameEntry
    given: NameEntry
    sex: str
    birth: date


@dataclass(frozen=True)
class LabelledPair:
    left: PersonRecord
    right: PersonRecord
    same: bool


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _random_birth(rng: random.Random) -> date:
    return date(1970, 1, 1) + timedelta(days=rng.randrange(40 * 365))


def _split_at_syllable(word: str, rng: random.Random) -> str:
    """'Sokha' -> 'Sok Kha' / 'So-kha': split after a vowel, maybe doubling the consonant."""
    cuts = [
        i
        for i in range(2, len(word) - 1)
        if word[i - 1].lower() in VOWELS and word[i].lower() not in VOWELS
    ]
    if not cuts:
        return word
    i = rng.choice(cuts)
    head, tail = word[:i], word[i:]
    if rng.random() < 0.5:
        head += tail[0].lower()
    return f"{head}{rng.choice([' ', '-'])}{tail.capitalize()}"


def _transpose(word: str, rng: random.Random) -> str:
    """One adjacent-letter swap inside a longer word (a typing slip)."""
    if len(word) < 6:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _latin(entry: NameEntry, rng: random.Random) -> str:
    return rng.choice(entry.latin)


def khmer_report(person: Identity, rng: random.Random, rid: str) -> PersonRecord:
    """Family report in Khmer script: family name first, an estimated age, maybe a title."""
    titles = ["", "កញ្ញា ", "អ្នកនាង "] if person.sex == "F" else ["", "លោក "]
    name = f"{rng.choice(titles)}{person.family.khmer} {person.given.khmer}"
    reported = REFERENCE - timedelta(days=rng.randrange(3 * 365))
    age = _age_on(person.birth, reported) + rng.choice([-1, 0, 0, 1])
    birth = BirthRange.from_age(max(age, 0), reported, 2)
    nationality = rng.choice(["កម្ពុជា", None])
    return PersonRecord(rid, (name,), person.sex, birth, nationality)


def passport(person: Identity, rng: random.Random, rid: str) -> PersonRecord:
    """Passport: upper case, family name first, exact date of birth."""
    name = f"{_latin(person.family, rng).upper()} {_latin(person.given, rng).upper()}"
    return PersonRecord(rid, (name,), person.sex, BirthRange.exact(person.birth), "KHM")


def intake(person: Identity, rng: random.Random, rid: str) -> PersonRecord:
    """Shelter intake typed by staff: any order, informal spelling, rough birth information."""
    given = _latin(person.given, rng)
    family = _latin(person.family, rng)
    if rng.random() < 0.25:
        given = _split_at_syllable(given, rng)
    if given[-1].lower() in "aeo" and rng.random() < 0.3:
        given += rng.choice(["h", "r"])
    if rng.random() < 0.1:
        given = _transpose(given, rng)
    order = rng.random()
    if order < 0.5:
        name = f"{given} {family}"
    elif order < 0.8:
        name = f"{family} {given}"
    else:
        name = f"{family.upper()}, {given}"
    if rng.random() < 0.3:
        name = f"{'Ms' if person.sex == 'F' else 'Mr'} {name}"
    if rng.random() < 0.2:
        name = name.lower()
    birth: BirthRange | None = None
    roll = rng.random()
    if roll < 0.45:
        birth = BirthRange.year(person.birth.year)
    elif roll < 0.85:
        seen = REFERENCE - timedelta(days=rng.randrange(5 * 365))
        age = _age_on(person.birth, seen) + rng.choice([-1, 0, 1])
        birth = BirthRange.from_age(max(age, 0), seen, 2)
    sex = person.sex if rng.random() < 0.85 else None
    nationality = rng.choice(["Cambodian", None])
    return PersonRecord(rid, (name,), sex, birth, nationality)


Source = Callable[[Identity, random.Random, str], PersonRecord]
SOURCES: tuple[Source, ...] = (khmer_report, passport, intake)


def _identity(rng: random.Random, families: list[NameEntry], givens: list[NameEntry]) -> Identity:
    return Identity(rng.choice(families), rng.choice(givens), rng.choice("FM"), _random_birth(rng))


def _other(
    person: Identity,
    rng: random.Random,
    families: list[NameEntry],
    givens: list[NameEntry],
) -> Identity:
    """A different person, often sharing a name part or a similar birth date."""
    roll = rng.random()
    family = person.family if roll < 0.35 else rng.choice(families)
    given = person.given if 0.35 <= roll < 0.6 else rng.choice(givens)
    while family == person.family and given == person.given:
        given = rng.choice(givens)
    if rng.random() < 0.5:
        birth = person.birth + timedelta(days=rng.randrange(-730, 731))
    else:
        birth = _random_birth(rng)
    sex = person.sex if rng.random() < 0.8 else ("M" if person.sex == "F" else "F")
    return Identity(family, given, sex, birth)


def labelled_pairs(
    n_positive: int = 300, n_negative: int = 300, seed: int = SEED
) -> list[LabelledPair]:
    """``n_positive`` same-person pairs and ``n_negative`` different-person pairs."""
    rng = random.Random(seed)
    names = khmer_names()
    families = [e for e in names if e.kind == "family"]
    givens = [e for e in names if e.kind == "given"]
    pairs: list[LabelledPair] = []
    for i in range(n_positive):
        person = _identity(rng, families, givens)
        first, second = rng.choice(SOURCES), rng.choice(SOURCES)
        left = first(person, rng, f"p{i}a")
        right = second(person, rng, f"p{i}b")
        pairs.append(LabelledPair(left, right, True))
    for i in range(n_negative):
        person = _identity(rng, families, givens)
        other = _other(person, rng, families, givens)
        left = rng.choice(SOURCES)(person, rng, f"n{i}a")
        right = rng.choice(SOURCES)(other, rng, f"n{i}b")
        pairs.append(LabelledPair(left, right, False))
    return pairs
