"""Reads of the enforcement app, through the acting user's permissions.

Law-enforcement cases and requests follow the shared object rule: the owning agency's
police focal officers (a sealed record only with a grant). Taskforce, SOP and meetings are
seen by every police focal officer of the node (they are the joint taskforce's). Nobody
else sees any of it; forbidden and missing are the same "not found".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from ctip.accounts import permissions
from ctip.enforcement.models import (
    RESOURCE,
    ActionItem,
    InfoRequest,
    LeCase,
    Meeting,
    MeetingStatus,
    Participant,
    RequestStatus,
    SopVersion,
    TaskforceMember,
    Testimony,
)


def can_view(user) -> bool:
    return permissions.can(user, RESOURCE, permissions.VIEW)


def can_change(user) -> bool:
    return permissions.can(user, RESOURCE, permissions.CHANGE)


def _get(user, queryset: QuerySet, pk, request, action=permissions.VIEW):
    if not permissions.can(user, RESOURCE, action):
        raise permissions.deny(user, RESOURCE, action, pk, request)
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
        raise permissions.deny(user, RESOURCE, action, pk, request) from None


# --- Taskforce and SOP --------------------------------------------------------------------


def member_list(*, user, country: str = "", active_only: bool = False) -> QuerySet:
    if not can_view(user):
        return TaskforceMember.objects.none()
    qs = TaskforceMember.objects.select_related("focal_person", "focal_person__agency", "user")
    if country:
        qs = qs.filter(country=country)
    if active_only:
        qs = qs.filter(active=True)
    return qs


def counterparts(*, user, here: str) -> QuerySet:
    """The other country's active members: whom a request can be addressed to."""
    return member_list(user=user, active_only=True).exclude(country=here)


def access_member(user, pk, *, request=None) -> TaskforceMember:
    return _get(user, member_list(user=user), pk, request)


def sop_list(*, user) -> QuerySet[SopVersion]:
    if not can_view(user):
        return SopVersion.objects.none()
    return SopVersion.objects.select_related("finalised_at_meeting")


def access_sop(user, pk, *, request=None) -> SopVersion:
    return _get(user, sop_list(user=user), pk, request)


# --- Law-enforcement cases ----------------------------------------------------------------


def le_case_list(*, user, status: str = "") -> QuerySet[LeCase]:
    qs = permissions.scope(user, RESOURCE, LeCase.objects.select_related("owner_agency"))
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(
        suspect_count=Count("suspects", distinct=True),
        victim_count=Count("victims", distinct=True),
        request_count=Count("requests", distinct=True),
    )


def access_le_case(user, pk, *, action: str = permissions.VIEW, request=None) -> LeCase:
    return permissions.access(
        user,
        RESOURCE,
        LeCase.objects.select_related("owner_agency", "data_key"),
        pk,
        action,
        request=request,
    )


@dataclass(frozen=True)
class VictimRow:
    link: object
    case: object  # the victim case if the user may open it, else None


def victims_of(*, user, le_case: LeCase) -> list[VictimRow]:
    """The case's victims and witnesses, each with its victim case only when the cases
    app's rules let this user open it (a sealed case shows as not visible)."""
    from ctip.cases.models import Case

    links = list(le_case.victims.all())
    references = [v.case_reference for v in links if v.case_reference]
    visible = {
        c.reference: c
        for c in permissions.scope(user, "case", Case.objects.filter(reference__in=references))
    }
    return [VictimRow(v, visible.get(v.case_reference)) for v in links]


# --- Requests -----------------------------------------------------------------------------


def request_list(
    *, user, direction: str = "", status: str = "", overdue: bool = False
) -> QuerySet[InfoRequest]:
    qs = permissions.scope(
        user,
        RESOURCE,
        InfoRequest.objects.select_related(
            "le_case", "counterpart__focal_person", "requester__focal_person"
        ),
    )
    if direction:
        qs = qs.filter(direction=direction)
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(
            status__in=[RequestStatus.SENT, RequestStatus.RECEIVED],
            deadline__lt=timezone.localdate(),
        )
    return qs


def access_request(user, pk, *, action: str = permissions.VIEW, request=None) -> InfoRequest:
    return permissions.access(
        user,
        RESOURCE,
        InfoRequest.objects.select_related(
            "le_case", "counterpart__focal_person", "requester__focal_person", "data_key"
        ),
        pk,
        action,
        request=request,
    )


@dataclass(frozen=True)
class Delivery:
    """What the exchange knows of one message we sent: its state and the peer's receipt."""

    msg_id: str
    status: str
    acknowledged_at: dt.datetime | None
    has_receipt: bool


def delivery_of(msg_id) -> Delivery | None:
    if msg_id is None:
        return None
    from ctip.exchange.models import OutboxMessage

    msg = (
        OutboxMessage.objects.filter(pk=msg_id)
        .only("id", "status", "acknowledged_at", "receipt")
        .first()
    )
    if msg is None:
        return None
    return Delivery(str(msg.pk), msg.status, msg.acknowledged_at, bool(msg.receipt))


# --- Meetings -----------------------------------------------------------------------------


def meeting_list(*, user, status: str = "") -> QuerySet[Meeting]:
    if not can_view(user):
        return Meeting.objects.none()
    qs = Meeting.objects.annotate(
        participant_count=Count("participants", distinct=True),
        open_actions=Count(
            "action_items", filter=Q(action_items__done_on__isnull=True), distinct=True
        ),
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def access_meeting(user, pk, *, action: str = permissions.VIEW, request=None) -> Meeting:
    return _get(
        user,
        Meeting.objects.select_related("data_key").prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.select_related(
                    "member__focal_person", "member__focal_person__agency"
                ),
            ),
            "decisions",
            Prefetch(
                "action_items",
                queryset=ActionItem.objects.select_related("owner__focal_person"),
            ),
        ),
        pk,
        request,
        action,
    )


def access_action_item(user, pk, *, request=None) -> ActionItem:
    return _get(user, ActionItem.objects.select_related("meeting"), pk, request, permissions.CHANGE)


def meeting_cases(*, user, meeting: Meeting) -> QuerySet[LeCase]:
    """The meeting's cases of this node that the user may open."""
    return permissions.scope(user, RESOURCE, meeting.le_cases.all())


def testimonies_of(le_case: LeCase) -> QuerySet[Testimony]:
    return le_case.testimonies.select_related("witness", "data_key")


# --- For the finance app (cost sharing of meetings) ---------------------------------------


@dataclass(frozen=True)
class MeetingParticipant:
    country: str
    name: str
    organisation: str
    role: str  # head | member | interpreter | secretariat (the finance app's MemberRole)
    user_id: int | None  # the user account of a member of this node, if any


@dataclass(frozen=True)
class MeetingForFinance:
    id: str
    title: str
    host_country: str
    place: str
    starts_on: dt.date
    ends_on: dt.date
    status: str  # scheduled | held | cancelled
    recorded_by: str  # the country whose node records the meeting
    participants: tuple[MeetingParticipant, ...]

    @property
    def countries(self) -> frozenset[str]:
        """The host and every country with a participant (the finance app's parties)."""
        return frozenset({self.host_country, *(p.country for p in self.participants)})


def meetings_for_cost_sharing(
    *,
    user,
    start: dt.date | None = None,
    end: dt.date | None = None,
    include_cancelled: bool = False,
) -> list[MeetingForFinance]:
    """Investigation meetings for the finance app: host country, dates, place and
    participants (officials, not victims). No minutes, agenda or cases. ``user`` is the
    acting finance user; it needs the ``enforcement_indicators`` or ``enforcement`` view
    capability, or ``None`` for a system job (e.g. an annual statement)."""
    if user is not None and not (
        can_view(user)
        or permissions.can(user, "enforcement_indicators", permissions.VIEW)
        or permissions.can(user, "finance", permissions.VIEW)
    ):
        return []
    qs = Meeting.objects.prefetch_related(
        Prefetch(
            "participants",
            queryset=Participant.objects.select_related(
                "member__focal_person", "member__focal_person__agency", "member__user"
            ),
        )
    ).order_by("starts_on", "title")
    if not include_cancelled:
        qs = qs.exclude(status=MeetingStatus.CANCELLED)
    if start:
        qs = qs.filter(ends_on__gte=start)
    if end:
        qs = qs.filter(starts_on__lte=end)
    return [
        MeetingForFinance(
            id=str(m.pk),
            title=m.title,
            host_country=m.host_country,
            place=m.place,
            starts_on=m.starts_on,
            ends_on=m.ends_on,
            status=m.status,
            recorded_by=m.origin,
            participants=tuple(
                MeetingParticipant(
                    country=p.country,
                    name=p.display_name,
                    organisation=p.display_organisation,
                    role=p.role,
                    user_id=p.member.user_id if p.member_id else None,
                )
                for p in m.participants.all()
            ),
        )
        for m in qs
    ]
