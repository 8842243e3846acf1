"""Home-page cards of the matching area (see ctip/core/cards.py): counts and links."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.matching import selectors
from ctip.matching.services import RESOURCE


def cards(user) -> list:
    from ctip.core.cards import Card

    if not permissions.can(user, RESOURCE, permissions.VIEW):
        return []
    waiting = selectors.candidate_list(user=user).count()
    if not waiting:
        return []
    return [Card(_("possible duplicate records to review"), waiting, reverse("matching:index"))]
