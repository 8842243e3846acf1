"""Home-page cards of the cases area (see ctip/core/cards.py): counts and links only."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.cases import selectors
from ctip.cases.models import ReferralStatus
from ctip.core.cards import Card


def cards(user) -> list[Card]:
    found: list[Card] = []
    if permissions.can(user, "person", permissions.VIEW):
        found.append(
            Card(
                _("persons you may see"),
                selectors.person_list(user=user).count(),
                reverse("cases:person_list"),
            )
        )
    if permissions.can(user, "case", permissions.VIEW):
        cases = reverse("cases:case_list")
        found.append(
            Card(
                _("open cases assigned to you"),
                selectors.case_list(user=user, mine=True).count(),
                f"{cases}?mine=1",
            )
        )
        overdue = selectors.overdue_cases(user=user).count()
        if overdue:
            found.append(
                Card(
                    _("cases past their SOP deadline"), overdue, reverse("cases:overdue_list"), True
                )
            )
        incoming = selectors.transfers_incoming(user=user).count()
        if incoming:
            found.append(
                Card(
                    _("case transfers waiting for your agency"),
                    incoming,
                    reverse("cases:transfers"),
                )
            )
    decide = selectors.approvals_to_decide(user=user).count()
    if decide:
        found.append(Card(_("approvals waiting for you"), decide, reverse("cases:approvals"), True))
    referrals = selectors.referrals_received(user=user).filter(status=ReferralStatus.SENT).count()
    if referrals:
        found.append(
            Card(
                _("referrals waiting for your agency's answer"),
                referrals,
                reverse("cases:referrals_received"),
            )
        )
    return found
