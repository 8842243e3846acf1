"""Home-page card of monitoring (see ctip/core/cards.py): the way to the dashboard."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions


def cards(user) -> list:
    from ctip.core.cards import Card

    if not permissions.can(user, "monitoring", permissions.VIEW):
        return []
    return [Card(_("Indicators and statistics"), None, reverse("monitoring:index"))]
