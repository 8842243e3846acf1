"""The home page's work cards: what needs the signed-in user's attention, from every area.

An area contributes cards by defining ``ctip/<app>/cards.py`` with a function
``cards(user) -> list[Card]`` (found here, like the areas' demo modules). Each function
returns only what the user may see (it uses its app's selectors, which take the user), and
no personal data: counts and links. A card with ``urgent`` set is shown first and marked.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from django.utils.functional import Promise

from ctip.core.areas import AREAS


@dataclass(frozen=True)
class Card:
    label: str | Promise
    count: int | None = None
    url: str | None = None
    urgent: bool = False


def _modules():
    for area in AREAS:
        try:
            yield importlib.import_module(f"ctip.{area.slug}.cards")
        except ModuleNotFoundError as error:
            if error.name != f"ctip.{area.slug}.cards":
                raise  # a card module that fails to import is a bug, not a missing module


def cards_for(user) -> list[Card]:
    found: list[Card] = []
    for module in _modules():
        found.extend(module.cards(user))
    return sorted(found, key=lambda card: not card.urgent)  # stable: urgent ones first
