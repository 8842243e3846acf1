"""Home-page cards of the prevention area (see ctip/core/cards.py): counts and links only."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.core.cards import Card
from ctip.prevention import selectors
from ctip.prevention.models import CERTIFICATE


def cards(user) -> list[Card]:
    found: list[Card] = []
    waiting = selectors.versions_awaiting_this_side(user=user)
    if waiting:
        found.append(
            Card(
                _("strategy versions waiting for this side's review"),
                len(waiting),
                reverse("prevention:version", args=[waiting[0].pk]),
            )
        )
    if permissions.can(user, CERTIFICATE, permissions.VIEW):
        found.append(
            Card(
                _("singleness and marriage certificates of your authority"),
                selectors.certificate_list(user=user).count(),
                reverse("prevention:certificates"),
            )
        )
    return found
