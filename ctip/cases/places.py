"""Reference places of origin: Cambodian provinces, districts and communes, Chinese
provinces and prefecture-level cities (``data/places.json``, sources named in the file)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.translation import get_language

PLACES_FILE = Path(__file__).resolve().parent / "data" / "places.json"


@dataclass(frozen=True)
class Place:
    code: str
    parent: str
    level: int
    name_local: str
    name_latin: str

    @property
    def country(self) -> str:
        return self.code[:2]

    @property
    def name(self) -> str:
        lang = (get_language() or "en").lower()
        local_lang = "km" if self.country == "KH" else "zh"
        return self.name_local if lang.startswith(local_lang) else self.name_latin


@lru_cache(maxsize=1)
def places() -> dict[str, Place]:
    raw = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    return {row[0]: Place(*row) for country in ("KH", "CN") for row in raw[country]}


def place(code: str) -> Place | None:
    return places().get(code)


def province_of(code: str) -> str:
    """The province (level 1) of a place code, or "" for an unknown code."""
    found = place(code)
    while found is not None and found.level > 1:
        found = place(found.parent)
    return found.code if found else ""


def provinces(country: str) -> list[Place]:
    return [p for p in places().values() if p.country == country and p.level == 1]


def children(code: str) -> list[Place]:
    return [p for p in places().values() if p.parent == code]


def label(code: str) -> str:
    """ "Commune, District, Province" in the active language."""
    parts, found = [], place(code)
    while found is not None:
        parts.append(found.name)
        found = place(found.parent) if found.parent else None
    return ", ".join(parts)
