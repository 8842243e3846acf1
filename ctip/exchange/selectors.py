"""Reads of the exchange, through the acting user's permissions. Metadata only: no page or
endpoint here shows a message body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Min, QuerySet
from django.utils.translation import gettext as _

from ctip.accounts import permissions
from ctip.audit.models import Action, AuditEvent
from ctip.exchange.core import fingerprint
from ctip.exchange.errors import KeysUnavailable
from ctip.exchange.models import InboxMessage, OutboxMessage, OutboxStatus, Peer
from ctip.exchange.services import our_keys

REFUSAL_TYPES = (
    "exchange.envelope",
    "exchange.bundle",
    "exchange.message",
    "exchange.peer",
    "exchange.outboxmessage",
)


def _may_view(user) -> bool:
    return permissions.can(user, "exchange", permissions.VIEW)


@dataclass(frozen=True)
class KeyRow:
    kid: str
    use: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Identity:
    node_id: str
    fingerprint: str
    keys: list[KeyRow]
    problem: str = ""


def _when(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def key_rows(ring) -> list[KeyRow]:
    return [
        KeyRow(e.kid, e.use, _when(e.not_before), _when(e.not_after), _when(e.revoked_at))
        for e in sorted(ring, key=lambda e: (e.use, e.not_before))
    ]


def own_identity(*, user) -> Identity | None:
    """This node's exchange identity: what a peer operator compares before pinning us."""
    if not _may_view(user):
        return None
    try:
        keys = our_keys()
    except KeysUnavailable as exc:
        return Identity("", "", [], str(exc))
    public = keys.public()
    return Identity(keys.node_id, fingerprint(public), key_rows(public))


@dataclass(frozen=True)
class PeerRow:
    peer: Peer
    fingerprint: str
    anchor_version: int
    keys: list[KeyRow]
    counts: dict[str, int]
    oldest_waiting: datetime | None
    received: int


def peer_overview(*, user) -> list[PeerRow]:
    if not _may_view(user):
        return []
    counts: dict[int, dict[str, int]] = {}
    for row in OutboxMessage.objects.values("peer_id", "status").annotate(n=Count("pk")):
        counts.setdefault(row["peer_id"], {})[row["status"]] = row["n"]
    waiting = dict(
        OutboxMessage.objects.filter(status__in=OutboxMessage.UNDELIVERED)
        .values("peer_id")
        .annotate(oldest=Min("created_at"))
        .values_list("peer_id", "oldest")
    )
    received = dict(
        InboxMessage.objects.values("peer_id").annotate(n=Count("pk")).values_list("peer_id", "n")
    )
    rows = []
    for peer in Peer.objects.prefetch_related("anchors").order_by("node_id"):
        anchors = sorted(peer.anchors.all(), key=lambda a: -a.version)
        if not anchors:
            continue
        pinned = anchors[0]
        rows.append(
            PeerRow(
                peer=peer,
                fingerprint=pinned.fingerprint,
                anchor_version=pinned.version,
                keys=key_rows(pinned.core()),
                counts={s: counts.get(peer.pk, {}).get(s, 0) for s in OutboxStatus.values},
                oldest_waiting=waiting.get(peer.pk),
                received=received.get(peer.pk, 0),
            )
        )
    return rows


def outbox_list(*, user, status: str = "", peer: str = "") -> QuerySet[OutboxMessage]:
    if not _may_view(user):
        return OutboxMessage.objects.none()
    qs = OutboxMessage.objects.select_related("peer").defer("body", "token", "receipt")
    if status in OutboxStatus.values:
        qs = qs.filter(status=status)
    if peer:
        qs = qs.filter(peer__node_id=peer)
    return qs.order_by("-created_at", "-seq")


def inbox_list(*, user, peer: str = "") -> QuerySet[InboxMessage]:
    if not _may_view(user):
        return InboxMessage.objects.none()
    qs = InboxMessage.objects.select_related("peer").defer("body", "receipt")
    if peer:
        qs = qs.filter(peer__node_id=peer)
    return qs.order_by("-received_at")


@dataclass(frozen=True)
class RefusalRow:
    at: datetime
    event: str
    reason: str
    peer: str
    transport: str
    record: str

    @classmethod
    def of(cls, event: AuditEvent) -> RefusalRow:
        details = event.details or {}
        return cls(
            at=event.at,
            event=str(details.get("event", "")),
            reason=str(details.get("reason", "")),
            peer=str(details.get("peer") or details.get("to") or ""),
            transport=str(details.get("transport", "")),
            record=event.object_id,
        )


def refusals(*, user) -> QuerySet[AuditEvent]:
    """Refused envelopes, bundles and messages, link alerts and pinning problems, as
    recorded in the audit log (wrap the rows shown with :meth:`RefusalRow.of`)."""
    if not _may_view(user):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(
        action=Action.SECURITY, object_type__in=REFUSAL_TYPES
    ).order_by("-seq")


@dataclass(frozen=True)
class HistoryRow:
    direction: str  # "out" or "in"
    peer: str
    msg_type: str
    at: datetime
    status: str
    reason: str
    purpose: str
    status_label: str = ""


def case_message_history(*, user, case_ref: str) -> list[HistoryRow]:
    """What crossed the border for one case (for the case page and the disclosure record).

    The caller must already have checked that ``user`` may see this case (the cases app's
    ``access_case``); exchange only lists metadata: type, peer, time, status, purpose.
    """
    if not getattr(user, "is_authenticated", False) or not case_ref:
        return []
    rows = [
        HistoryRow(
            "out",
            m.peer.node_id,
            m.msg_type,
            m.created_at,
            m.status,
            m.last_error,
            m.purpose,
            str(m.get_status_display()),
        )
        for m in OutboxMessage.objects.filter(case_ref=case_ref)
        .select_related("peer")
        .only("peer__node_id", "msg_type", "created_at", "status", "last_error", "purpose")
    ]
    received = str(_("received"))
    rows += [
        HistoryRow(
            "in", m.peer.node_id, m.msg_type, m.received_at, "received", "", m.purpose, received
        )
        for m in InboxMessage.objects.filter(case_ref=case_ref)
        .select_related("peer")
        .only("peer__node_id", "msg_type", "received_at", "purpose")
    ]
    return sorted(rows, key=lambda row: row.at, reverse=True)
