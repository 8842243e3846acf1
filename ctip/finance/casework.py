"""What the reintegration budget reads from the cases app: the referrals a case was sent on
and the services the person received, as the source of commitments and spendings.

Read only, and only what a budget needs: the case's reference, the kind of support, the
date and the referral's status. Never a note, the person's feedback, the person, or the
provider (a shelter's name says where someone lives). Sealed cases are left out (DP-5), as
are cases of the other country. The cases app's models are looked up at call time, so this
module keeps working (with nothing found) while that app changes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from ctip.finance.models import SupportType

# The cases app records needs and services with the directory's service types; the budget
# has its own, coarser, list.
SUPPORT_OF = {
    "shelter": SupportType.SHELTER,
    "medical": SupportType.MEDICAL,
    "legal_aid": SupportType.LEGAL_AID,
    "psychosocial": SupportType.PSYCHOSOCIAL,
    "family_tracing": SupportType.FAMILY_TRACING,
    "vocational": SupportType.VOCATIONAL,
    "vocational_training": SupportType.VOCATIONAL,
    "financial": SupportType.FINANCIAL,
    "financial_support": SupportType.FINANCIAL,
}
CLOSED_REFERRALS = ("declined", "cancelled")


def support_of(kind: str) -> str:
    return str(SUPPORT_OF.get(kind, SupportType.OTHER))


@dataclass(frozen=True)
class SupportRecord:
    """A referral (the source of a commitment) or a service received (of a spending)."""

    source: str  # "referral" or "service"
    id: uuid.UUID
    case: str  # the case's reference
    support: str  # a SupportType value
    on: dt.date
    status: str = ""  # a referral's status
    referral_id: uuid.UUID | None = None  # a service's referral, if it came from one

    @property
    def support_label(self) -> str:
        return str(SupportType(self.support).label)


def _model(name: str):
    try:
        return apps.get_model("cases", name)
    except LookupError:
        return None


def _open_cases(country: str):
    Case = _model("Case")
    if Case is None:
        return None
    return Case.objects.filter(owner_agency__country=country, sealed=False)


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date()
    return value


def _referral(r) -> SupportRecord:
    return SupportRecord(
        "referral", r.pk, r.case.reference, support_of(r.need), _date(r.referred_at), r.status
    )


def _service(sv) -> SupportRecord:
    return SupportRecord(
        "service",
        sv.pk,
        sv.case.reference,
        support_of(sv.kind),
        sv.started_on,
        referral_id=sv.referral_id,
    )


def case_exists(reference: str, country: str) -> bool:
    cases = _open_cases(country)
    return cases is not None and cases.filter(reference=reference).exists()


def records_of_case(reference: str, country: str) -> list[SupportRecord] | None:
    """The case's referrals and services received, or None if there is no such case of
    ``country`` here (or it is sealed): the same answer for both."""
    cases = _open_cases(country)
    case = cases.filter(reference=reference).first() if cases is not None else None
    if case is None:
        return None
    Referral, Service = _model("Referral"), _model("ServiceReceived")
    referrals = Referral.objects.filter(case=case).select_related("case").order_by("referred_at")
    services = Service.objects.filter(case=case).select_related("case").order_by("started_on")
    return [*(_referral(r) for r in referrals), *(_service(sv) for sv in services)]


def record(source: str, pk, reference: str, country: str) -> SupportRecord | None:
    """One referral or service received of the case ``reference``, or None."""
    cases = _open_cases(country)
    if cases is None:
        return None
    model = _model("Referral" if source == "referral" else "ServiceReceived")
    try:
        found = (
            model.objects.filter(pk=pk, case__in=cases, case__reference=reference)
            .select_related("case")
            .first()
        )
    except (ValueError, TypeError, ValidationError):  # a malformed id is not found either
        return None
    if found is None:
        return None
    return _referral(found) if source == "referral" else _service(found)


def records_of_year(country: str, year: int) -> list[SupportRecord]:
    """Referrals made (and not declined or cancelled) and services started in ``year``, for
    the open cases of ``country``."""
    cases = _open_cases(country)
    if cases is None:
        return []
    Referral, Service = _model("Referral"), _model("ServiceReceived")
    referrals = (
        Referral.objects.filter(case__in=cases, referred_at__year=year)
        .exclude(status__in=CLOSED_REFERRALS)
        .select_related("case")
        .order_by("referred_at")
    )
    services = (
        Service.objects.filter(case__in=cases, started_on__year=year)
        .select_related("case")
        .order_by("started_on")
    )
    return [*(_referral(r) for r in referrals), *(_service(sv) for sv in services)]
