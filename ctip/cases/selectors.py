"""Reads of persons, screenings and cases, always through the acting user's permissions."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from ctip.accounts import permissions
from ctip.cases.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseEvent,
    CaseTransfer,
    LegalHold,
    Person,
    Referral,
    Repatriation,
    Screening,
    StageReminder,
    TransferStatus,
)
from ctip.cases.search import query_alternatives


def person_list(*, user, query: str = "") -> QuerySet[Person]:
    qs = permissions.scope(
        user, "person", Person.objects.select_related("owner_agency", "data_key")
    )
    if query:
        if not permissions.sees_pii(user):
            # Searching by name is itself a use of personal data.
            return qs.none()
        qs = filter_by_name(qs, query)
    return qs


def filter_by_name(qs: QuerySet, query: str, prefix: str = "") -> QuerySet:
    """Every name part typed must match one of the person's tokens (any script)."""
    for alternatives in query_alternatives(query):
        qs = qs.filter(
            reduce(or_, (Q(**{f"{prefix}search_tokens__contains": f" {t} "}) for t in alternatives))
        )
    return qs


def access_person(user, pk, *, action: str = permissions.VIEW, request=None) -> Person:
    return permissions.access(
        user,
        "person",
        Person.objects.select_related("owner_agency", "data_key"),
        pk,
        action,
        request=request,
    )


# --- Screenings ---------------------------------------------------------------------------


def screening_list(*, user, result: str = "", status: str = "", person=None) -> QuerySet[Screening]:
    qs = permissions.scope(
        user,
        "screening",
        Screening.objects.select_related("person", "owner_agency", "form_version", "data_key"),
    )
    if result:
        qs = qs.filter(result=result)
    if status:
        qs = qs.filter(status=status)
    if person is not None:
        qs = qs.filter(person=person)
    return qs


def access_screening(user, pk, *, action: str = permissions.VIEW, request=None) -> Screening:
    return permissions.access(
        user,
        "screening",
        Screening.objects.select_related("person", "owner_agency", "form_version", "data_key"),
        pk,
        action,
        request=request,
    )


# --- Cases --------------------------------------------------------------------------------


def _cases(user, action=permissions.VIEW) -> QuerySet[Case]:
    return permissions.scope(
        user,
        "case",
        Case.objects.select_related("person", "person__data_key", "owner_agency", "assigned_to"),
        action,
    )


def case_list(
    *,
    user,
    stage: str = "",
    overdue: bool = False,
    mine: bool = False,
    include_closed: bool = False,
    query: str = "",
) -> QuerySet[Case]:
    qs = _cases(user)
    if not include_closed:
        qs = qs.filter(closed_at__isnull=True)
    if stage:
        qs = qs.filter(stage=stage)
    if overdue:
        qs = qs.filter(stage_due_at__lt=timezone.now(), closed_at__isnull=True).order_by(
            "stage_due_at"
        )
    if mine:
        qs = qs.filter(assigned_to=user)
    if query:
        if not permissions.sees_pii(user):
            return qs.none()
        reference = query.strip().upper()
        by_name = filter_by_name(qs, query, prefix="person__")
        qs = qs.filter(Q(reference=reference) | Q(pk__in=by_name.values("pk")))
    return qs


def overdue_cases(*, user) -> QuerySet[Case]:
    return case_list(user=user, overdue=True)


def access_case(user, pk, *, action: str = permissions.VIEW, request=None) -> Case:
    return permissions.access(
        user,
        "case",
        Case.objects.select_related(
            "person", "person__data_key", "owner_agency", "assigned_to", "screening", "data_key"
        ),
        pk,
        action,
        request=request,
    )


def case_timeline(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor").order_by("seq")


# --- Approvals and referrals --------------------------------------------------------------


def approvals_to_decide(*, user) -> QuerySet[Approval]:
    """Pending requests of the supervisor's agency, except their own."""
    if not permissions.can(user, "case", "approve") or not user.agency_id:
        return Approval.objects.none()
    return (
        Approval.objects.filter(owner_agency=user.agency, status=ApprovalStatus.PENDING)
        .exclude(requested_by=user)
        .select_related("case", "requested_by", "data_key")
    )


def dpo_review_queue(*, user) -> QuerySet[Approval]:
    """Approved consent overrides and emergency accesses the DPO has not reviewed yet."""
    if not permissions.can(user, "case", "review"):
        return Approval.objects.none()
    return (
        Approval.objects.filter(
            kind__in=[ApprovalKind.CONSENT_OVERRIDE, ApprovalKind.BREAK_GLASS],
            status=ApprovalStatus.APPROVED,
            reviewed_at__isnull=True,
        )
        .select_related("case", "requested_by", "decided_by", "data_key", "owner_agency")
        .order_by("decided_at")
    )


def access_approval(user, pk, *, request=None) -> Approval:
    """A request the user may decide (supervisor) or review (DPO); else one NotFound."""
    for candidate in (approvals_to_decide(user=user), dpo_review_queue(user=user)):
        found = candidate.filter(pk=pk).first()
        if found is not None:
            return found
    raise permissions.deny(user, "approval", permissions.VIEW, pk, request)


def referrals_received(*, user) -> QuerySet[Referral]:
    """Referrals to services that the user's agency provides."""
    if not user.agency_id or not permissions.can(user, "case", permissions.VIEW):
        return Referral.objects.none()
    return Referral.objects.filter(service__provider_id=user.agency_id).select_related(
        "service", "case"
    )


# --- Transfers and reminders --------------------------------------------------------------


def transfers_incoming(*, user) -> QuerySet[CaseTransfer]:
    """Transfers proposed to the user's agency: the reference and the agencies only (the
    case stays invisible until accepted)."""
    if not user.agency_id or not permissions.can(user, "case", permissions.CREATE):
        return CaseTransfer.objects.none()
    return CaseTransfer.objects.filter(
        to_agency_id=user.agency_id, status=TransferStatus.PROPOSED
    ).select_related("case", "from_agency", "to_agency", "proposed_by")


def transfers_outgoing(*, user) -> QuerySet[CaseTransfer]:
    if not user.agency_id or not permissions.can(user, "case", permissions.CHANGE):
        return CaseTransfer.objects.none()
    return CaseTransfer.objects.filter(
        from_agency_id=user.agency_id, status=TransferStatus.PROPOSED
    ).select_related("case", "from_agency", "to_agency", "proposed_by")


def access_transfer(user, pk, *, incoming: bool, request=None) -> CaseTransfer:
    """A pending transfer to (``incoming``) or from the user's agency, else one NotFound."""
    qs = transfers_incoming(user=user) if incoming else transfers_outgoing(user=user)
    try:
        return qs.get(pk=pk)
    except (CaseTransfer.DoesNotExist, ValueError, ValidationError):
        raise permissions.deny(user, "case_transfer", permissions.VIEW, pk, request) from None


def transfer_agencies(*, case: Case) -> QuerySet:
    """Agencies a case may be transferred to: the other agencies of its country."""
    from ctip.accounts.models import Agency

    return Agency.objects.filter(country=case.owner_agency.country).exclude(pk=case.owner_agency_id)


def my_reminders(*, user) -> QuerySet[StageReminder]:
    """Reminders addressed to the user, of cases they may still see."""
    return (
        StageReminder.objects.filter(recipients=user, case__in=_cases(user).values("pk"))
        .select_related("case")
        .order_by("-sent_at")
    )


# --- Repatriation ----------------------------------------------------------------------------


def repatriation_board(
    *, user, overdue: bool = False, waiting_on: str = "", focal: str = ""
) -> QuerySet[Repatriation]:
    """Repatriations of the cases the user may see: whose turn, since when, until when.
    ``focal``: the username of the case's focal person / caseworker in charge."""
    qs = Repatriation.objects.filter(case__in=_cases(user).values("pk")).select_related(
        "case", "case__assigned_to", "case__owner_agency", "focal_person"
    )
    if overdue:
        qs = qs.filter(status="active", due_at__lt=timezone.now())
    if waiting_on in ("KH", "CN"):
        qs = qs.filter(waiting_on=waiting_on)
    if focal:
        qs = qs.filter(case__assigned_to__username=focal)
    return qs.order_by("due_at")


# --- Legal holds --------------------------------------------------------------------------


def legal_holds_in_force(
    *, case: Case | None = None, person: Person | None = None
) -> tuple[list[LegalHold], bool]:
    """The legal holds in force on a case or a person the caller fetched through
    ``access_*`` (newest first), and whether a hold on the other record keeps it too (a hold
    on a person keeps their cases; a hold on a case keeps its person)."""
    if (person is None) == (case is None):
        raise ValueError("name a person or a case")
    active = LegalHold.objects.filter(released_at__isnull=True)
    if case is not None:
        holds = active.filter(case=case)
        by_other = active.filter(person_id=case.person_id).exists()
    else:
        holds = active.filter(person=person)
        by_other = active.filter(case__person=person).exists()
    return list(holds.select_related("placed_by", "data_key")), by_other
