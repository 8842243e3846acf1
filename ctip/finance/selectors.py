"""Reads of the finance app, through the acting user's permissions.

Finance records belong to the node's secretariat as a whole, not to one agency: a role
that may view ``finance`` sees every meeting, donor and budget of this node. Single records
are fetched with ``access_<thing>``, which answers "not found" for missing and forbidden
alike (and logs the denial).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet

from ctip.accounts import permissions
from ctip.finance import casework, core
from ctip.finance.models import (
    BudgetAllocation,
    BudgetEntry,
    CostItem,
    Delegation,
    DelegationMember,
    Donor,
    DonorCommitment,
    DonorCoverage,
    EntryKind,
    Meeting,
)

RESOURCE = "finance"


def _access(user, queryset: QuerySet, pk, action: str, request=None, owner=None):
    """The record, if the user may ``action`` it. For a change (or delete), ``owner(obj)``
    names the record whose object rule decides (``changeable_by``): the meeting for its
    delegations, members and costs, the allocation for its entries."""
    if permissions.can(user, RESOURCE, action):
        try:
            obj = queryset.get(pk=pk)
        except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
            pass  # a malformed id is answered like a missing one
        else:
            if action == permissions.VIEW or owner is None or owner(obj).changeable_by(user):
                return obj
    raise permissions.deny(user, RESOURCE, action, object_id=pk, request=request)


def may_change(user, obj) -> bool:
    """Whether the pages should offer changes of this meeting or allocation."""
    return obj.changeable_by(user)


def _viewable(user, queryset: QuerySet) -> QuerySet:
    return queryset if permissions.can(user, RESOURCE, permissions.VIEW) else queryset.none()


# --- Meetings -----------------------------------------------------------------------------


def meeting_queryset() -> QuerySet[Meeting]:
    return Meeting.objects.select_related("created_by").prefetch_related(
        Prefetch("delegations", queryset=Delegation.objects.order_by("country")),
        "delegations__members__user",
        "programme",
        Prefetch(
            "cost_items",
            queryset=CostItem.objects.order_by("created_at", "id").prefetch_related(
                Prefetch(
                    "coverages",
                    queryset=DonorCoverage.objects.select_related("commitment__donor"),
                )
            ),
        ),
        "exceptions",
    )


def meeting_list(*, user, year: int | None = None) -> QuerySet[Meeting]:
    qs = _viewable(user, Meeting.objects.prefetch_related("delegations"))
    if year:
        qs = qs.filter(starts_on__year=year)
    return qs


def meetings_by_source() -> dict[tuple[str, str], Meeting]:
    """Finance meetings taken from another app's meeting, by (source type, source id)."""
    return {
        (m.source_type, m.source_id): m
        for m in Meeting.objects.exclude(source_type="").only(
            "id", "title", "source_type", "source_id", "starts_on"
        )
    }


def meeting_years(*, user) -> list[int]:
    dates = _viewable(user, Meeting.objects.all()).dates("starts_on", "year", order="DESC")
    return [d.year for d in dates]


def access_meeting(user, pk, *, action: str = permissions.VIEW, request=None) -> Meeting:
    return _access(user, meeting_queryset(), pk, action, request, owner=lambda m: m)


def access_delegation(user, pk, *, action: str = permissions.CHANGE, request=None) -> Delegation:
    qs = Delegation.objects.select_related("meeting__created_by")
    return _access(user, qs, pk, action, request, owner=lambda d: d.meeting)


def access_member(user, pk, *, action: str = permissions.CHANGE, request=None) -> DelegationMember:
    qs = DelegationMember.objects.select_related("delegation__meeting__created_by", "user")
    return _access(user, qs, pk, action, request, owner=lambda m: m.delegation.meeting)


def access_cost_item(user, pk, *, action: str = permissions.CHANGE, request=None) -> CostItem:
    qs = CostItem.objects.select_related("meeting__created_by").prefetch_related("coverages")
    return _access(user, qs, pk, action, request, owner=lambda i: i.meeting)


def meeting_allocation(meeting: Meeting) -> core.MeetingAllocation:
    """The Financial Notes applied to the meeting as recorded (uses the prefetched rows)."""
    lines = []
    for item in meeting.cost_items.all():
        lines.append(
            core.CostLine(
                id=str(item.pk),
                category=core.Category(item.category),
                amount=item.money(),
                incurred_by=item.incurred_by,
                for_party=item.for_party or None,
                rate=item.exchange_rate(),
                coverages=tuple(
                    core.Coverage(
                        donor=str(c.commitment.donor_id),
                        amount=c.amount,
                        commitment=str(c.commitment_id),
                    )
                    for c in item.coverages.all()
                ),
            )
        )
    exceptions = [e.to_core() for e in meeting.exceptions.all()]
    return core.allocate(meeting.facts(), lines, exceptions, meeting.config())


# --- Donors -------------------------------------------------------------------------------


def donor_list(*, user) -> QuerySet[Donor]:
    return _viewable(user, Donor.objects.prefetch_related("commitments__coverages"))


def access_donor(user, pk, *, action: str = permissions.VIEW, request=None) -> Donor:
    qs = Donor.objects.prefetch_related(
        Prefetch(
            "commitments",
            queryset=DonorCommitment.objects.select_related("meeting").prefetch_related(
                Prefetch(
                    "coverages",
                    queryset=DonorCoverage.objects.select_related("cost_item__meeting"),
                )
            ),
        )
    )
    return _access(user, qs, pk, action, request)


@dataclass(frozen=True)
class CommitmentUse:
    commitment: DonorCommitment
    committed: core.Money
    covered: core.Money
    left: core.Money


def commitment_use(commitments: Iterable[DonorCommitment]) -> list[CommitmentUse]:
    out = []
    for c in commitments:
        committed = c.money()
        covered = core.Money.zero(committed.currency)
        for coverage in c.coverages.all():
            covered += core.Money(coverage.amount_committed, committed.currency)
        out.append(CommitmentUse(c, committed, covered, committed - covered))
    return out


def commitments_for(meeting: Meeting) -> QuerySet[DonorCommitment]:
    """Commitments that may cover this meeting's costs: to it, or to its plan activity."""
    target = Q(meeting=meeting)
    if meeting.plan_activity:
        target |= Q(plan_activity=meeting.plan_activity)
    return DonorCommitment.objects.filter(target).select_related("donor")


# --- Reintegration budget -----------------------------------------------------------------


def budget_list(*, user) -> QuerySet[BudgetAllocation]:
    return _viewable(
        user,
        BudgetAllocation.objects.prefetch_related(
            Prefetch("entries", queryset=BudgetEntry.objects.order_by("entry_date", "created_at"))
        ),
    )


def access_budget(user, pk, *, action: str = permissions.VIEW, request=None) -> BudgetAllocation:
    qs = BudgetAllocation.objects.prefetch_related(
        Prefetch(
            "entries",
            queryset=BudgetEntry.objects.select_related("against").order_by(
                "-entry_date", "-created_at"
            ),
        )
    ).select_related("created_by")
    return _access(user, qs, pk, action, request, owner=lambda a: a)


def budget_status(allocation: BudgetAllocation) -> core.BudgetStatus:
    entries = [
        core.BudgetEntry(
            id=str(e.pk),
            kind=core.EntryKind(e.kind),
            case=e.case_reference,
            amount=core.Money(e.amount_budget, core.Currency(allocation.currency)),
            against=str(e.against_id) if e.against_id else None,
        )
        for e in allocation.entries.all()
    ]
    return core.budget_status(
        allocation.money(), entries, core.BudgetConfig(allocation.alert_below.normalize())
    )


@dataclass(frozen=True)
class CaseBudget:
    """One case's reintegration support in a year's budget: what was committed and spent
    (from the entries), and its referrals and services received that no entry covers yet."""

    totals: core.CaseTotals
    overspent: bool  # more spent than was ever committed for it


@dataclass(frozen=True)
class CaseSupport:
    """The year's referrals and services received of this country's cases, against the
    budget: what is not yet budgeted (a referral with no commitment, a service received
    with no spending)."""

    cases: list[CaseBudget]
    unbudgeted_referrals: list[casework.SupportRecord]
    unpaid_services: list[casework.SupportRecord]


def case_support(allocation: BudgetAllocation, status: core.BudgetStatus) -> CaseSupport:
    entries = list(allocation.entries.all())
    committed_referrals = {
        e.referral_id for e in entries if e.kind == EntryKind.COMMITMENT and e.referral_id
    }
    paid_services = {e.service_id for e in entries if e.service_id}
    year = casework.records_of_year(allocation.country, allocation.year)
    return CaseSupport(
        cases=[
            CaseBudget(c, c.committed.amount > 0 and c.spent.amount > c.committed.amount)
            for c in status.cases
        ],
        unbudgeted_referrals=[
            r for r in year if r.source == "referral" and r.id not in committed_referrals
        ],
        unpaid_services=[r for r in year if r.source == "service" and r.id not in paid_services],
    )


def case_records(allocation: BudgetAllocation, reference: str):
    """A case's referrals and services received, each with what the budget holds for it;
    None if there is no such open case of the budget's country."""
    records = casework.records_of_case(reference.strip().upper(), allocation.country)
    if records is None:
        return None
    entries = [e for e in allocation.entries.all() if e.case_reference == reference.upper()]
    out = []
    for r in records:
        if r.source == "referral":
            mine = [e for e in entries if e.referral_id == r.id and e.kind == EntryKind.COMMITMENT]
        else:
            mine = [e for e in entries if e.service_id == r.id]
        out.append((r, mine))
    return out
