"""Home-page cards of the law-enforcement area (see ctip/core/cards.py): counts and links."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ctip.enforcement import selectors
from ctip.enforcement.models import Direction, RequestStatus


def cards(user) -> list:
    from ctip.core.cards import Card

    if not selectors.can_view(user):
        return []
    found = []
    requests = reverse("enforcement:requests")
    to_answer = selectors.request_list(
        user=user, direction=Direction.INCOMING, status=RequestStatus.RECEIVED
    ).count()
    if to_answer:
        found.append(
            Card(
                _("case-information requests from the other country to answer"),
                to_answer,
                f"{requests}?direction=incoming&status=received",
            )
        )
    overdue = selectors.request_list(user=user, overdue=True).count()
    if overdue:
        found.append(
            Card(
                _("case-information requests past their deadline"),
                overdue,
                f"{requests}?overdue=1",
                True,
            )
        )
    return found
