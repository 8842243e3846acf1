"""The areas of the Joint Plan of Action, as the navigation shows them."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Area:
    slug: str
    title: Promise
    activities: str
    url_name: str | None = None  # set once the area's app is built


AREAS = [
    Area("plan", _("Plan of Action"), "I.1"),
    Area("prevention", _("Prevention"), "II.1–II.2"),
    Area("cases", _("Persons and cases"), "III.1, III.2, III.5, III.6", "cases:person_list"),
    Area("directory", _("Services and focal persons"), "III.3, III.4, III.7"),
    Area("enforcement", _("Law enforcement"), "IV.1–IV.6"),
    Area("training", _("Training"), "V.1–V.3"),
    Area("monitoring", _("Monitoring and evaluation"), "VI.1–VI.3"),
    Area("finance", _("Finance"), _("Financial notes, III.8")),
    Area("exchange", _("Exchange with the other node"), "IV.3, IV.5, VI.2"),
    Area("matching", _("Matching records"), "III.6, IV.5"),
]
AREAS_BY_SLUG = {area.slug: area for area in AREAS}


def area_url_name(area: Area) -> str | None:
    """The area's start page: its explicit ``url_name``, or ``<slug>:index`` once its app
    defines one, or None while the area is still coming."""
    from django.urls import NoReverseMatch, reverse

    for name in filter(None, (area.url_name, f"{area.slug}:index")):
        try:
            reverse(name)
            return name
        except NoReverseMatch:
            continue
    return None


def built_areas() -> list[dict]:
    return [{"area": a, "url_name": area_url_name(a)} for a in AREAS]
