"""The one consent check every cross-border action goes through (do-no-harm rule DP-1).

``consent_covers`` answers: may data of this case, of these categories, go to this country
(and agency) for this purpose at this time? Yes when the person's latest decision for that
purpose and recipient is an unexpired, unwithdrawn consent covering every category, or when
a supervisor approved an override (reason, second approver, DPO alerted) that covers it.
A refusal recorded later than a consent wins over it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from ctip.cases.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Case,
    Consent,
    ConsentDecision,
)


@dataclass(frozen=True)
class ConsentCheck:
    """The answer, with what it rests on. True-ish when covered."""

    covered: bool
    basis: str  # "consent" | "override" | "refused" | "no_consent" | "unknown_case"
    reference: str = ""  # id of the consent or approval relied on

    def __bool__(self) -> bool:
        return self.covered


def consent_covers(
    *,
    case_ref: str,
    recipient_country: str,
    recipient_agency: str | None = None,
    purpose: str,
    data_categories: Iterable[str],
    at: dt.datetime | None = None,
) -> ConsentCheck:
    at = at or timezone.now()
    day = timezone.localdate(at) if timezone.is_aware(at) else at.date()
    wanted = set(data_categories)
    case = Case.objects.filter(reference=case_ref).only("id").first()
    if case is None:
        return ConsentCheck(False, "unknown_case")
    decisions = [
        c
        for c in Consent.objects.filter(
            case=case,
            purpose=purpose,
            recipient_country=recipient_country,
            given_on__lte=day,
        ).order_by("-given_on", "-recorded_at")
        if (not c.recipient_agency or c.recipient_agency == (recipient_agency or ""))
        and (c.withdrawn_at is None or c.withdrawn_at > at)
        and (c.expires_on is None or c.expires_on >= day)
    ]
    latest = decisions[0] if decisions else None
    if (
        latest is not None
        and latest.decision == ConsentDecision.GIVEN
        and wanted <= set(latest.data_categories)
    ):
        return ConsentCheck(True, "consent", str(latest.pk))
    override = _override(case, recipient_country, purpose, wanted, at)
    if override is not None:
        return ConsentCheck(True, "override", str(override.pk))
    if latest is not None and latest.decision == ConsentDecision.REFUSED:
        return ConsentCheck(False, "refused", str(latest.pk))
    return ConsentCheck(False, "no_consent")


def _override(case, country, purpose, wanted, at) -> Approval | None:
    for approval in Approval.objects.filter(
        case=case,
        kind=ApprovalKind.CONSENT_OVERRIDE,
        status=ApprovalStatus.APPROVED,
        valid_until__gt=at,
    ):
        scope = approval.scope
        if (
            scope.get("purpose") == purpose
            and scope.get("recipient_country") == country
            and wanted <= set(scope.get("data_categories", ()))
        ):
            return approval
    return None


# What each purpose's messages carry (the exchange's allow-lists, SECURITY.md DP-3): the
# consent must cover all of it. An unknown purpose needs a consent covering everything.
PURPOSE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "nationality_verification": ("identity", "origin", "documents"),
    "repatriation": ("identity", "documents", "case_progress"),
    "family_tracing": ("identity", "origin", "contact"),
    "case_information": ("identity", "exploitation", "case_progress"),
    "referral": ("identity", "case_progress"),
    "assistance": ("identity", "case_progress"),
}
ALL_CATEGORIES = (
    "identity",
    "contact",
    "documents",
    "origin",
    "photo",
    "health",
    "exploitation",
    "case_progress",
)


def exchange_consent_checker(case_ref: str, recipient_country: str, purpose: str) -> bool:
    """The form the exchange app calls (``registry.set_consent_checker``): the same check,
    for the data categories that purpose's messages carry."""
    return bool(
        consent_covers(
            case_ref=case_ref,
            recipient_country=recipient_country,
            purpose=purpose,
            data_categories=PURPOSE_CATEGORIES.get(purpose, ALL_CATEGORIES),
        )
    )
