"""Reads of the matching app, always for an acting user: a candidate is listed only when
the user may see both persons (the review queue never hints at a record the user cannot
open)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from ctip.accounts import permissions
from ctip.cases.models import Person
from ctip.core.crypto import CryptoError
from ctip.matching.models import (
    CandidateStatus,
    IdentityOutcome,
    IdentityRequest,
    MatchCandidate,
    MatchKey,
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


# --- sent match queries, for the person's matching page -------------------------------------


@dataclass(frozen=True)
class SentCandidate:
    """One handle the peer answered, with the newest identity request about it."""

    handle: str
    score: float
    asked: IdentityRequest | None
    #: The handle still resolves on the peer (``CTIP_MATCH_HANDLE_DAYS`` after the answer).
    live: bool

    @property
    def askable(self) -> bool:
        """Worth offering a request: live, and none waiting or answered with the identity."""
        return self.live and (self.asked is None or self.asked.outcome == IdentityOutcome.REFUSED)


@dataclass(frozen=True)
class SentQuery:
    query: MatchQuery
    candidates: tuple[SentCandidate, ...]
    #: When the answer's handles stop resolving on the peer (None until answered).
    handles_expire_at: datetime | None

    @property
    def expired(self) -> bool:
        return self.handles_expire_at is not None and self.handles_expire_at <= timezone.now()


def sent_queries(*, user, person: Person, limit: int | None = None) -> list[SentQuery]:
    """The match queries sent about ``person`` (newest first, at most ``limit``), each with
    the candidates the peer answered and the newest identity request of each handle; empty
    unless the user may view match queries and see the person. Two queries whatever the
    number of queries and handles; the identity itself is not read (it stays encrypted)."""
    from ctip.matching import xborder

    qs = query_list(user=user, person=person)
    queries = list(qs[:limit] if limit else qs)
    handles = {c.get("handle") for q in queries for c in q.answer or ()}
    newest: dict[str, IdentityRequest] = {}
    asked_rows = (
        IdentityRequest.objects.filter(
            direction=QueryDirection.OUT, person=person, handle__in=handles
        )
        .only("id", "handle", "purpose", "outcome", "refused", "created_at")
        .order_by("created_at")
    )
    for asked in asked_rows:
        newest[asked.handle] = asked
    now = timezone.now()
    rows = []
    for query in queries:
        expires = query.answered_at + xborder.HANDLE_LIFETIME if query.answered_at else None
        live = expires is not None and expires > now
        candidates = []
        for c in query.answer or ():
            candidates.append(
                SentCandidate(
                    handle=c.get("handle", ""),
                    score=float(c.get("score", 0)),
                    asked=newest.get(c.get("handle")),
                    live=live,
                )
            )
        rows.append(SentQuery(query=query, candidates=tuple(candidates), handles_expire_at=expires))
    return rows


def sent_candidate(*, user, person: Person, handle: str) -> SentCandidate | None:
    """The candidate ``handle`` of one of the queries sent about ``person``, or None (a
    handle of another person's query, or of no query at all)."""
    for sent in sent_queries(user=user, person=person):
        for candidate in sent.candidates:
            if candidate.handle == handle:
                return candidate
    return None


def query_peers(*, user) -> list[str]:
    """The peers the user may send a match query to: pinned, with a current encoding key."""
    from django.conf import settings

    from ctip.exchange.models import Peer

    if not permissions.can(user, "matching_query", permissions.CREATE):
        return []
    keyed = MatchKey.objects.filter(not_after__gt=timezone.now()).values("peer")
    return list(
        Peer.objects.exclude(node_id=settings.CTIP_NODE)
        .filter(node_id__in=keyed)
        .order_by("node_id")
        .values_list("node_id", flat=True)
    )


def readable(obj, field: str) -> str | None:
    """A field of a record as text, or None when empty or its data key was destroyed
    (crypto-shredded): a page or answer about a shredded record must not fail."""
    try:
        value = getattr(obj, field)
    except CryptoError:
        return None
    return None if value is None else str(value)
