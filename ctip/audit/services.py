"""Writing and verifying the audit log. Every service that changes data calls ``audit_record``
inside its own transaction; every read of personal data calls ``audit_view``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ctip.audit.chain import GENESIS, link
from ctip.audit.models import Action, AuditEvent, ChainHead
from ctip.core.crypto import get_keyring

CHAIN = "audit"
MAX_ID_LEN = 64


def client_ip(request) -> str:
    # Only the socket address: a forwarded header is set by the client and proves nothing.
    # Behind a trusted proxy, the proxy's real-IP module rewrites REMOTE_ADDR.
    return (request.META.get("REMOTE_ADDR") or "")[:45] if request is not None else ""


def _content(event: AuditEvent) -> dict:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "node": event.node,
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "fields": list(event.fields),
        "ip": event.ip,
        "details": event.details,
    }


@dataclass(frozen=True)
class Entry:
    action: str
    object_type: str = ""
    object_id: str = ""
    fields: Sequence[str] = ()
    details: dict | None = None


def audit_append(*, actor, entries: Iterable[Entry], request=None) -> list[AuditEvent]:
    """Append entries to the chain, in order, under a lock on the chain head."""
    actor_ok = actor is not None and getattr(actor, "is_authenticated", False)
    return append_rows(
        actor_id=actor.pk if actor_ok else None,
        actor_username=actor.get_username() if actor_ok else "",
        entries=entries,
        ip=client_ip(request),
        at=timezone.now(),
    )


@transaction.atomic
def append_rows(
    *, actor_id: int | None, actor_username: str, entries: Iterable[Entry], ip: str, at
) -> list[AuditEvent]:
    """``audit_append`` with the actor, address and time already taken from the request (a
    refusal re-written after its transaction rolled back keeps those of the attempt)."""
    entries = list(entries)
    if not entries:
        return []
    ChainHead.objects.get_or_create(name=CHAIN)
    head = ChainHead.objects.select_for_update().get(name=CHAIN)
    key = get_keyring().chain_key
    events = []
    seq, prev = head.seq, head.hash
    for entry in entries:
        seq += 1
        event = AuditEvent(
            seq=seq,
            at=at,
            node=settings.CTIP_NODE,
            actor_id=actor_id,
            actor_username=actor_username,
            action=entry.action,
            object_type=entry.object_type,
            object_id=str(entry.object_id or "")[:MAX_ID_LEN],
            fields=sorted(entry.fields),
            ip=ip,
            details=entry.details or {},
            prev_hash=prev,
        )
        event.hash = link(key, prev, _content(event))
        prev = event.hash
        events.append(event)
    AuditEvent.objects.bulk_create(events)
    head.seq, head.hash = seq, prev
    head.save(update_fields=["seq", "hash"])
    return events


def audit_record(
    *,
    actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    fields: Sequence[str] = (),
    details: dict | None = None,
    request=None,
) -> AuditEvent:
    """One audit row. ``details`` must never hold personal data (names, numbers, text)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    entry = Entry(action, object_type, str(object_id), tuple(fields), details)
    return audit_append(actor=actor, entries=[entry], request=request)[0]


def audit_view(*, actor, objects: Iterable, fields: Sequence[str], request=None) -> None:
    """Record that ``actor`` was shown ``fields`` of each object (one row per record)."""
    entries = [
        Entry(Action.VIEW, obj._meta.label_lower, str(obj.pk), tuple(fields)) for obj in objects
    ]
    if entries and fields:
        audit_append(actor=actor, entries=entries, request=request)


def audit_security_event(
    *,
    actor,
    event: str,
    object_type="",
    object_id="",
    details=None,
    request=None,
    outlives_rollback: bool = False,
) -> AuditEvent | None:
    """A security event. By default it is one more row of the caller's transaction: it
    records something the transaction does (a key revoked, a message cancelled) and goes
    with it if it rolls back. ``outlives_rollback=True`` is for a refused attempt (a
    denial): the attempt happened whatever becomes of the transaction it was refused in, so
    the row is written again, once, after that transaction rolled back
    (``ctip.audit.refusals``). Returns the row as written now (None if the transaction
    is already broken: it is written after its rollback)."""
    payload = {"event": event, **(details or {})}
    if outlives_rollback:
        from ctip.audit import refusals

        entry = Entry(Action.SECURITY, object_type, str(object_id), (), payload)
        return refusals.record(actor=actor, entry=entry, request=request)
    return audit_record(
        actor=actor,
        action=Action.SECURITY,
        object_type=object_type,
        object_id=object_id,
        details=payload,
        request=request,
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def audit_verify() -> VerifyResult:
    """Walk the chain in ``seq`` order; report the first row that does not hold."""
    key = get_keyring().chain_key
    prev, expected_seq, checked = GENESIS, 1, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"row {expected_seq} is missing")
        if event.prev_hash != prev:
            return VerifyResult(
                False,
                checked,
                event.seq,
                "does not follow the row before it (deleted or reordered)",
            )
        if link(key, prev, _content(event)) != event.hash:
            return VerifyResult(False, checked, event.seq, "its content was changed")
        prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = ChainHead.objects.filter(name=CHAIN).first()
    if head is not None and (head.seq != checked or head.hash != prev):
        return VerifyResult(
            False,
            checked,
            checked + 1,
            f"the chain head says {head.seq} rows; rows after {checked} were removed",
        )
    return VerifyResult(True, checked)
