"""Reads of the matching app, always for an acting user: a candidate is listed only when
the user may see both persons (the review queue never hints at a record the user cannot
open)."""

from __future__ import annotations

from django.db.models import QuerySet

from ctip.accounts import permissions
from ctip.cases.models import Person
from ctip.matching.models import (
    CandidateStatus,
    MatchCandidate,
    MatchQuery,
    PersonLink,
    QueryDirection,
)
from ctip.matching.services import RESOURCE

# Fields shown side by side in the review, in order (personal ones only to who may see them).
COMPARED_FIELDS = (
    "reference",
    "name_km",
    "name_zh",
    "name_latin",
    "aliases",
    "sex",
    "birth_display",
    "age_estimate",
    "nationality",
    "origin_province",
    "place_of_origin",
    "document_number",
)


def _visible_person_ids(user) -> QuerySet:
    return permissions.scope(user, "person", Person.objects.all()).values("pk")


def candidate_list(*, user, status: str = CandidateStatus.OPEN) -> QuerySet[MatchCandidate]:
    if not permissions.can(user, RESOURCE, permissions.VIEW):
        return MatchCandidate.objects.none()
    visible = _visible_person_ids(user)
    qs = MatchCandidate.objects.filter(left__in=visible, right__in=visible)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("left", "right")


def access_candidate(user, pk, *, request=None) -> MatchCandidate:
    permissions.require(user, RESOURCE, permissions.VIEW, request=request)
    candidate = candidate_list(user=user, status="").filter(pk=pk).first() if _is_uuid(pk) else None
    if candidate is None:
        raise permissions.deny(user, RESOURCE, permissions.VIEW, object_id=pk, request=request)
    return candidate


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def visible_compared_fields(user) -> list[str]:
    return permissions.visible_fields(user, COMPARED_FIELDS, Person.PII_FIELDS)


def person_links(*, user, person: Person) -> list[PersonLink]:
    """Every link (open and closed) of the person's clusters, members visible to the user."""
    clusters = PersonLink.objects.filter(person=person).values("cluster")
    visible = _visible_person_ids(user)
    return list(
        PersonLink.objects.filter(cluster__in=clusters, person__in=visible)
        .select_related("person", "linked_by", "unlinked_by")
        .order_by("linked_at")
    )


def query_list(*, user, person: Person | None = None, mine: bool = False) -> QuerySet[MatchQuery]:
    """The sent cross-border match queries about persons the user may see (of one person if
    given; only those the user asked if ``mine``), newest first."""
    if not permissions.can(user, "matching_query", permissions.VIEW):
        return MatchQuery.objects.none()
    qs = MatchQuery.objects.filter(
        direction=QueryDirection.OUT, person__in=_visible_person_ids(user)
    )
    if person is not None:
        qs = qs.filter(person=person)
    if mine:
        qs = qs.filter(asked_by=user)
    return qs.select_related("person", "asked_by").order_by("-created_at")
