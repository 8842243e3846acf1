"""Writes of the exchange: pinning peers, the outbox and its relay, the inbox, bundle files,
key rotation and the hash-chained message log.

Delivery is at-least-once with idempotent processing: the sender keeps a message until a
receipt signed by the peer names one of the tokens it sealed for it; the receiver
processes a message id once and answers every later copy with its original receipt. Each
write runs in one transaction with its audit row; every refused token is a security event.

A message not yet delivered can be cancelled (a consent withdrawn, DP-8: ``outbox_cancel``,
or no consent covering it any more when it is due to leave): it stays in the outbox as
``cancelled`` and is never sent, re-sealed or retried.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from ctip.audit.models import Action
from ctip.audit.services import audit_record, audit_security_event
from ctip.exchange import keystore, registry
from ctip.exchange.conf import conf, keys_file
from ctip.exchange.core import (
    MAX_TOKEN_BYTES,
    BadReply,
    EnvelopeError,
    KeySelectionError,
    NodeKeys,
    PeerAnchor,
    SealedEnvelope,
    TokenTooLarge,
    VerifiedMessage,
    anchor_from_jwks,
    canonical_json,
    digest,
    fingerprint,
    make_bundle,
    make_receipt,
    open_bundle,
    open_envelope,
    public_jwks,
    seal_envelope,
    verify_receipt,
)
from ctip.exchange.core.encoding import b64url_decode, strict_json_loads
from ctip.exchange.errors import (
    BundleRefused,
    ConsentRefused,
    KeysUnavailable,
    NoSuchPeer,
    PingFailed,
    PinRefused,
)
from ctip.exchange.identity import _keys_cache, our_keys, own_fingerprint, valid_kid
from ctip.exchange.messagelog import LogInput, LogVerifyResult, log_append, log_verify
from ctip.exchange.models import (
    AnchorSource,
    InboxMessage,
    LogKind,
    OutboxMessage,
    OutboxStatus,
    OutboxToken,
    Peer,
    PinnedAnchor,
    Transport,
)
from ctip.exchange.transport import InboxAnswer, TransportError, check_url, post_envelope
from ctip.home import NODES

__all__ = [
    "BundleIn",
    "BundleOut",
    "Cancellation",
    "Delivery",
    "KeysUnavailable",
    "LogVerifyResult",
    "PingResult",
    "Received",
    "RelayReport",
    "apply_receipt",
    "backoff_seconds",
    "bundle_export",
    "bundle_import",
    "deliver",
    "envelope_receive",
    "keys_rotate",
    "log_verify",
    "message_send",
    "now_ts",
    "our_keys",
    "outbox_cancel",
    "outbox_relay",
    "outbox_retry_now",
    "own_fingerprint",
    "peer_pin",
    "peer_revoke_key",
    "ping",
    "receipt_import",
    "refuse_oversize",
]

security_log = logging.getLogger("ctip.security")
log = logging.getLogger("ctip.exchange")

#: Refusals worth another try after re-sealing: time, or keys that may be mid-rotation.
RETRYABLE = frozenset(
    {
        "expired",
        "too_old",
        "future_iat",
        "unknown_signer",
        "key_not_valid",
        "unknown_recipient_key",
        "decrypt_failed",
    }
)
PostFn = Callable[..., InboxAnswer]


def now_ts() -> int:
    return int(time.time())


def _dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Peers ----------------------------------------------------------------------------------


def normalise_fingerprint(value: str) -> str:
    """Accept a fingerprint as printed, in any case, with or without separators."""
    hexdigits = "".join(ch for ch in (value or "").lower() if ch in "0123456789abcdef")
    if len(hexdigits) != 32:
        raise PinRefused(
            "a fingerprint has 32 hexadecimal digits (as 'ctip exchange fingerprint' prints)"
        )
    return "-".join(hexdigits[i : i + 4] for i in range(0, 32, 4))


def _actor_name(actor) -> str:
    return actor.get_username() if getattr(actor, "is_authenticated", False) else ""


def _anchor_problems(anchor: PeerAnchor, now: int) -> str:
    if anchor.node_id not in NODES:
        return f"node {anchor.node_id!r} is not one of {', '.join(sorted(NODES))}"
    if anchor.node_id == settings.CTIP_NODE:
        return "these are this node's own keys"
    own_kids = {entry.kid for entry in our_keys()}
    if own_kids & {entry.kid for entry in anchor}:
        return "the key set contains this node's own keys"
    for use in ("sig", "enc"):
        if not any(entry.is_valid_at(now) for entry in anchor.by_use(use)):
            return f"the key set has no {use} key valid now"
    return ""


def _new_anchor_version(
    peer: Peer, anchor: PeerAnchor, *, source: str, pinned_by: str
) -> PinnedAnchor:
    last = peer.anchors.order_by("-version").first()
    row = PinnedAnchor(
        peer=peer,
        version=(last.version + 1) if last else 1,
        jwks=public_jwks(anchor),
        fingerprint=fingerprint(anchor),
        source=source,
        pinned_by=pinned_by[:150],
    )
    row.full_clean()
    row.save(force_insert=True)
    peer.__dict__.pop("pinned", None)
    return row


def peer_pin(
    *,
    actor,
    jwks: dict,
    expected_fingerprint: str,
    url: str = "",
    source: str = AnchorSource.URL,
    now: int | None = None,
    request=None,
) -> tuple[Peer, bool]:
    """Pin a peer's public keys, refusing unless they have the fingerprint given out of band.

    Returns the peer and whether anything changed. Pinning the same keys again only
    updates the address.
    """
    now = now_ts() if now is None else now
    expected = normalise_fingerprint(expected_fingerprint)
    url = check_url(url) if url else ""
    try:
        anchor = anchor_from_jwks(jwks)
    except (ValueError, TypeError, KeyError) as exc:
        raise PinRefused(f"not a valid public key set: {exc}") from None
    actual = fingerprint(anchor)
    problem = "" if actual == expected else "fingerprint mismatch"
    problem = problem or _anchor_problems(anchor, now)
    if problem:
        audit_security_event(
            actor=actor,
            event="peer_pin_refused",
            object_type="exchange.peer",
            object_id=anchor.node_id[:8],
            details={"expected": expected, "actual": actual, "reason": problem},
            request=request,
            outlives_rollback=True,  # a refused attempt: kept when its caller rolls back
        )
        security_log.warning("peer pin refused node=%s reason=%s", anchor.node_id[:8], problem)
        if problem == "fingerprint mismatch":
            raise PinRefused(
                f"fingerprint mismatch: expected {expected}, the keys of {anchor.node_id} "
                f"have {actual} (nothing was pinned)"
            )
        raise PinRefused(f"{problem} (nothing was pinned)")
    return _peer_pin_write(actor, anchor, url, source, request)


@transaction.atomic
def _peer_pin_write(actor, anchor: PeerAnchor, url: str, source: str, request) -> tuple[Peer, bool]:
    peer, created = Peer.objects.select_for_update().get_or_create(node_id=anchor.node_id)
    last = peer.anchors.order_by("-version").first()
    changed = created
    if url and url != peer.url:
        peer.url = url
        peer.full_clean()
        peer.save(update_fields=["url"])
        changed = True
    if last is None or last.fingerprint != fingerprint(anchor):
        row = _new_anchor_version(peer, anchor, source=source, pinned_by=_actor_name(actor))
        changed = True
    else:
        row = last
    if changed:
        audit_record(
            actor=actor,
            action=Action.CREATE if created else Action.UPDATE,
            object_type="exchange.peer",
            object_id=peer.node_id,
            details={"fingerprint": row.fingerprint, "version": row.version, "source": source},
            request=request,
        )
    return peer, changed


@transaction.atomic
def peer_revoke_key(
    *, actor, node_id: str, kid: str, revoked_at: int, request=None
) -> PinnedAnchor:
    """Stop trusting one of a peer's keys from ``revoked_at`` on (e.g. after a compromise)."""
    peer = _peer(node_id, lock=True)
    try:
        anchor = peer.anchor().with_revocation(kid, revoked_at)
    except KeyError:
        raise NoSuchPeer(f"peer {node_id} has no key {kid}") from None
    row = _new_anchor_version(
        peer, anchor, source=AnchorSource.REVOCATION, pinned_by=_actor_name(actor)
    )
    audit_security_event(
        actor=actor,
        event="peer_key_revoked",
        object_type="exchange.peer",
        object_id=node_id,
        details={"kid": kid, "revoked_at": revoked_at, "version": row.version},
        request=request,
    )
    return row


def _peer(node_id: str, *, lock: bool = False) -> Peer:
    qs = Peer.objects.select_for_update() if lock else Peer.objects.all()
    peer = qs.filter(node_id=(node_id or "").upper()).first()
    if peer is None or not peer.anchors.exists():
        raise NoSuchPeer(
            f"no peer {node_id!r}: pin its keys first with "
            "'ctip peer add --home DIR --url URL --fingerprint FP'"
        )
    return peer


# --- Creating messages -----------------------------------------------------------------------


def _seal(msg: OutboxMessage, peer: Peer, now: int, ttl: int) -> SealedEnvelope:
    keys = our_keys()
    try:
        sealed = seal_envelope(
            msg_type=msg.msg_type,
            body=json.loads(msg.body),
            seq=msg.seq,
            sender_keys=keys,
            receiver_public_keys=peer.anchor(),
            now=now,
            ttl=ttl,
            schema=msg.schema_version,
            request_hash=msg.request_hash or None,
            msg_id=str(msg.id),
            purpose=msg.purpose or None,
            legal_basis=msg.legal_basis or None,
            consent_ref=msg.consent_ref or None,
            in_reply_to=str(msg.in_reply_to) if msg.in_reply_to else None,
            case_ref=msg.case_ref or None,
            signing_kid=valid_kid(keys, peer.sign_with, now),
        )
    except KeySelectionError as exc:
        raise KeysUnavailable(f"cannot seal for {peer.node_id}: {exc}") from None
    msg.token, msg.token_iat = sealed.token, now
    return sealed


def _record_sealed(msg: OutboxMessage, sealed: SealedEnvelope, transport: str) -> None:
    OutboxToken.objects.create(
        message=msg, digest=sealed.digest, iat=msg.token_iat, transport=transport
    )
    log_append(
        [
            LogInput(
                kind=LogKind.MESSAGE_OUT,
                peer=msg.peer.node_id,
                evidence=sealed.jws,
                signer_kid=sealed.signer_kid,
                msg_id=str(msg.id),
                msg_type=msg.msg_type,
                transport=transport,
                envelope_digest=sealed.digest,
            )
        ]
    )


def message_send(
    *,
    actor,
    to: str,
    msg_type: str,
    body: dict[str, Any],
    schema_version: int = 1,
    case_ref: str = "",
    purpose: str = "",
    legal_basis: str = "",
    consent_ref: str = "",
    in_reply_to: str | None = None,
    now: int | None = None,
    enqueue: bool = True,
    request=None,
) -> OutboxMessage:
    """Put a message in the outbox, sealed for the peer, to be delivered in order.

    The body is validated against its type's JSON Schema first; a type that carries
    personal data is refused here, before any envelope is built, unless the consent
    checker allows it for this case, recipient country and purpose (matrix #22).
    Domain services check their own permissions before calling this.
    """
    now = now_ts() if now is None else now
    entry = registry.message_type(msg_type, schema_version)
    registry.validate_body(entry, body)
    to = (to or "").upper()
    if entry.personal_data and not registry.consent_allows(case_ref, to, purpose):
        audit_security_event(
            actor=actor,
            event="consent_refused",
            object_type="exchange.message",
            object_id=case_ref[:64],
            details={"type": msg_type, "to": to, "purpose": purpose[:60]},
            request=request,
            outlives_rollback=True,  # a refused attempt: kept when its caller rolls back
        )
        security_log.warning("outbound message refused: no consent type=%s to=%s", msg_type, to)
        raise ConsentRefused(
            f"no consent covers sending {msg_type} for case {case_ref or '(none)'} to {to} "
            f"for purpose {purpose or '(none)'}: nothing was queued"
        )
    return _outbox_insert(
        actor=actor,
        to=to,
        msg_type=msg_type,
        schema_version=schema_version,
        body=body,
        case_ref=case_ref,
        purpose=purpose,
        legal_basis=legal_basis,
        consent_ref=consent_ref,
        in_reply_to=in_reply_to,
        personal_data=entry.personal_data,
        now=now,
        enqueue=enqueue,
        request=request,
    )


@transaction.atomic
def _outbox_insert(
    *,
    actor,
    to: str,
    msg_type: str,
    schema_version: int,
    body: dict[str, Any],
    case_ref: str,
    purpose: str,
    legal_basis: str,
    consent_ref: str,
    in_reply_to: str | None,
    personal_data: bool,
    now: int,
    enqueue: bool,
    request,
) -> OutboxMessage:
    peer = _peer(to, lock=True)
    request_hash = ""
    if in_reply_to:
        original = InboxMessage.objects.filter(peer=peer, msg_id=in_reply_to).first()
        if original is None:
            raise BadReply(f"no message {in_reply_to} from {to} to reply to")
        request_hash = original.envelope_digest
    seq = peer.next_seq
    Peer.objects.filter(pk=peer.pk).update(next_seq=F("next_seq") + 1)
    msg = OutboxMessage(
        id=uuid.uuid4(),
        peer=peer,
        seq=seq,
        msg_type=msg_type,
        schema_version=schema_version,
        case_ref=case_ref,
        purpose=purpose,
        legal_basis=legal_basis,
        consent_ref=consent_ref,
        in_reply_to=in_reply_to,
        request_hash=request_hash,
        body=canonical_json(body).decode("utf-8"),
        next_attempt_at=_dt(now),
        created_at=_dt(now),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    sealed = _seal(msg, peer, now, conf().http_ttl)
    msg.full_clean()
    msg.save(force_insert=True)
    _record_sealed(msg, sealed, "")
    audit_record(
        actor=actor,
        action=Action.CREATE,
        obj=msg,
        fields=["body"] if personal_data else [],
        details={"type": msg_type, "to": to, "seq": seq, "case_ref": case_ref},
        request=request,
    )
    if enqueue:
        transaction.on_commit(lambda: enqueue_relay(peer.node_id))
    return msg


def enqueue_relay(node_id: str) -> None:
    """Ask the background worker to relay now (a no-op if the queue cannot be reached)."""
    try:
        from ctip.exchange.tasks import relay_peer

        relay_peer(node_id)
    except Exception:  # noqa: BLE001 - the periodic relay picks the message up anyway
        log.warning("could not enqueue the relay for %s; the periodic relay will send it", node_id)


# --- Delivering messages -----------------------------------------------------------------------


def backoff_seconds(attempt: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: base * 2**(attempt-1), capped, times 0.5 to 1.

    The jitter keeps two nodes that lost their link at the same moment from retrying in
    lockstep; the cap keeps a long outage from pushing the next try out by days.
    """
    settings_ = conf()
    ceiling = min(settings_.retry_cap, settings_.retry_base * 2 ** max(0, attempt - 1))
    rng = rng or _rng
    return ceiling * rng.uniform(0.5, 1.0)


_rng = random.SystemRandom()


@dataclass(frozen=True)
class Delivery:
    msg_id: str
    outcome: str  # acknowledged | failed | retry | skipped | cancelled
    reason: str = ""
    detail: str = ""
    rtt: float = 0.0


@transaction.atomic
def _reseal(msg_id, now: int, ttl: int, transport: str) -> OutboxMessage | None:
    msg = (
        OutboxMessage.objects.select_for_update()
        .select_related("peer", "data_key")
        .filter(pk=msg_id, status__in=OutboxMessage.UNDELIVERED)
        .first()
    )
    if msg is None:
        return None
    sealed = _seal(msg, msg.peer, now, ttl)
    msg.save(update_fields=["token", "token_iat"])
    _record_sealed(msg, sealed, transport)
    return msg


def _start_attempt(msg: OutboxMessage, now: int, transport: str) -> bool:
    """Count the attempt and schedule the next one *before* sending, so a crash retries."""
    updated = OutboxMessage.objects.filter(pk=msg.pk, status__in=OutboxMessage.UNDELIVERED).update(
        status=OutboxStatus.SENT,
        attempts=F("attempts") + 1,
        last_attempt_at=_dt(now),
        next_attempt_at=_dt(now) + timedelta(seconds=backoff_seconds(msg.attempts + 1)),
        transport=transport,
    )
    return updated == 1


def _note_retry(msg: OutboxMessage, reason: str, detail: str) -> Delivery:
    OutboxMessage.objects.filter(pk=msg.pk, status__in=OutboxMessage.UNDELIVERED).update(
        last_error=reason[:64], last_error_detail=_short(detail)
    )
    return Delivery(str(msg.id), "retry", reason, detail)


def deliver(
    msg: OutboxMessage, *, now: int | None = None, post: PostFn = post_envelope
) -> Delivery:
    """One HTTP delivery attempt of one message; the outcome is recorded on the message."""
    now = now_ts() if now is None else now
    settings_ = conf()
    if msg.status not in OutboxMessage.UNDELIVERED:
        return Delivery(str(msg.id), "skipped", msg.status)
    if now - msg.token_iat > settings_.reseal_after or msg.token_iat > now + 60:
        resealed = _reseal(msg.pk, now, settings_.http_ttl, Transport.HTTP)
        if resealed is None:
            return Delivery(str(msg.id), "skipped", "no longer waiting")
        msg = resealed
    if not msg.peer.url:
        return _note_retry(msg, "no_address", f"peer {msg.peer.node_id} has no address")
    if not _consent_still_allows(msg):
        return _cancel_at_send(msg, now)
    # The claim: a conditional update, so a message cancelled since it was loaded (a
    # withdrawal that committed while this sender held it) is not sent (DP-8).
    if not _start_attempt(msg, now, Transport.HTTP):
        return Delivery(str(msg.id), "skipped", "no longer waiting")
    started = time.monotonic()
    try:
        answer = post(msg.peer.url, msg.token, timeout=settings_.http_timeout)
    except TransportError as exc:
        return _note_retry(msg, exc.code, exc.detail)
    rtt = time.monotonic() - started
    if answer.receipt is None:
        # Refused before a receipt could be signed (an oversize body): final.
        return _fail_unsigned(msg, answer.reason_code or "refused", now)
    delivery = apply_receipt(msg, answer.receipt, now=now)
    return Delivery(delivery.msg_id, delivery.outcome, delivery.reason, delivery.detail, rtt)


@transaction.atomic
def _fail_unsigned(msg: OutboxMessage, reason: str, now: int) -> Delivery:
    locked = OutboxMessage.objects.select_for_update().filter(pk=msg.pk).first()
    if locked is None or locked.status not in OutboxMessage.UNDELIVERED:
        return Delivery(str(msg.id), "skipped", "no longer waiting")
    locked.status, locked.last_error = OutboxStatus.FAILED, reason[:64]
    locked.last_error_detail = "refused by the peer without a receipt"
    locked.save(update_fields=["status", "last_error", "last_error_detail"])
    audit_record(
        actor=None,
        action=Action.UPDATE,
        obj=locked,
        details={"status": "failed", "reason": reason[:64]},
    )
    return Delivery(str(msg.id), "failed", reason)


def _peek_receipt_digest(token: str) -> str:
    payload = strict_json_loads(b64url_decode(token.split(".")[1]))
    value = payload.get("envelope_digest") if isinstance(payload, dict) else None
    if not isinstance(value, str):
        raise ValueError("no envelope_digest")
    return value


def apply_receipt(msg: OutboxMessage, receipt: str, *, now: int) -> Delivery:
    """Verify the peer's signed receipt for ``msg`` and record what it says.

    accepted/duplicate: acknowledged. rejected for a reason that re-sealing may cure:
    retried. Any other refusal: failed for good, with its reason (a poison message is
    not retried forever).
    """
    peer = msg.peer
    pinned = peer.pinned
    digests = list(msg.tokens.values_list("digest", flat=True))
    try:
        verified = verify_receipt(receipt, sender_anchor=pinned.core(), expected_digest=digests)
        if verified.msg_id not in (None, str(msg.id)):
            raise BadReply("the receipt names another message")
    except EnvelopeError as exc:
        audit_security_event(
            actor=None,
            event="receipt_rejected",
            object_type="exchange.outboxmessage",
            object_id=str(msg.id),
            details={"reason": exc.code, "peer": peer.node_id},
        )
        security_log.warning("receipt rejected reason=%s peer=%s", exc.code, peer.node_id)
        return _note_retry(msg, "receipt_invalid", f"the receipt does not verify ({exc.code})")
    return _record_receipt(msg.pk, receipt, verified, pinned, now)


@transaction.atomic
def _record_receipt(msg_pk, receipt: str, verified, pinned: PinnedAnchor, now: int) -> Delivery:
    msg = (
        OutboxMessage.objects.select_for_update()
        .select_related("peer", "data_key")
        .filter(pk=msg_pk)
        .first()
    )
    if msg is not None and msg.status == OutboxStatus.CANCELLED:
        return _receipt_after_cancel(msg, receipt, verified, pinned, now)
    if msg is None or msg.status not in OutboxMessage.UNDELIVERED:
        return Delivery(str(msg_pk), "skipped", "already settled")
    _log_receipt(msg, receipt, verified, pinned)
    if verified.status in ("accepted", "duplicate"):
        msg.status, msg.acknowledged_at = OutboxStatus.ACKNOWLEDGED, _dt(now)
        msg.last_error = msg.last_error_detail = ""
        msg.save(
            update_fields=[
                "status",
                "acknowledged_at",
                "receipt",
                "last_error",
                "last_error_detail",
            ]
        )
        if msg.msg_type == "keys.update":
            # The peer now holds our new keys: sign with the newest from here on.
            Peer.objects.filter(pk=msg.peer_id).update(sign_with="")
        return Delivery(str(msg.id), "acknowledged", verified.status)
    reason = verified.reason_code or "rejected"
    msg.last_error = reason[:64]
    if reason in RETRYABLE:
        msg.token_iat = 0  # re-seal (fresh time, current keys) before the next try
        msg.last_error_detail = "refused by the peer; will re-seal and retry"
        msg.save(update_fields=["receipt", "last_error", "last_error_detail", "token_iat"])
        return Delivery(str(msg.id), "retry", reason, msg.last_error_detail)
    msg.status = OutboxStatus.FAILED
    msg.last_error_detail = "refused by the peer (signed receipt kept)"
    msg.save(update_fields=["status", "receipt", "last_error", "last_error_detail"])
    audit_record(
        actor=None,
        action=Action.UPDATE,
        obj=msg,
        details={"status": "failed", "reason": reason[:64], "to": msg.peer.node_id},
    )
    return Delivery(str(msg.id), "failed", reason)


# --- Cancelling messages (DP-8) -----------------------------------------------------------------

#: ``last_error`` of a message cancelled because the consent it relied on was withdrawn, and
#: of one whose consent no longer covered it when it was due to leave.
CANCELLED_WITHDRAWN = "consent_withdrawn"
CANCELLED_AT_SEND = "consent_no_longer_valid"
_LISTED = 100  # message ids named in one audit row at most (the counts are always whole)


@dataclass(frozen=True)
class Cancellation:
    """What a withdrawal did to the outbox: message ids, never bodies."""

    cancelled: list[str]
    # Of those, the ones a sender had already tried (or put in a bundle file): they may
    # have reached the peer even so (an answer lost on the way back).
    attempted: list[str]
    # Matching messages the peer had already acknowledged: not unsent, reported (the
    # retraction request to the peer is not built yet).
    delivered: list[str]


def _personal_or_unknown() -> Q:
    """Messages of a type that carries personal data, or of a type this node no longer
    knows (fail closed: it cannot say the body holds none)."""
    versions: dict[str, set[bool]] = {}
    for entry in registry.registered_types():
        versions.setdefault(entry.name, set()).add(entry.personal_data)
    never_personal = [name for name, flags in versions.items() if flags == {False}]
    return ~Q(msg_type__in=never_personal)


@transaction.atomic
def outbox_cancel(
    *,
    actor,
    to: str,
    consent_ref: str,
    case_refs: list[str],
    purposes: list[str],
    known_refs: set[str] | frozenset[str] = frozenset(),
    reason: str = CANCELLED_WITHDRAWN,
    now: int | None = None,
    request=None,
) -> Cancellation:
    """Cancel every message to ``to`` not yet delivered that relied on ``consent_ref``.

    A message relied on it when it names it as its ``consent_ref``. A message whose
    ``consent_ref`` names no recorded basis (empty, or not in ``known_refs``: the consents
    and approvals the caller knows for these cases) cannot say what it relied on: it is
    cancelled too when it carries personal data about one of ``case_refs`` for one of
    ``purposes``. Cancelled messages stay in the outbox (status ``cancelled``); senders
    claim a message with a conditional update (``_start_attempt``), so one loaded before
    this commits is not sent. Runs inside the caller's transaction (the withdrawal): if
    anything here fails, the withdrawal is rolled back with it. One audit row names the
    counts and the message ids.
    """
    now = now_ts() if now is None else now
    to = (to or "").upper()
    relied_on = Q(consent_ref=consent_ref) if consent_ref else Q(pk__in=[])
    unknown_basis = (
        Q(case_ref__in=[ref for ref in case_refs if ref], purpose__in=list(purposes))
        & ~Q(consent_ref__in=[ref for ref in known_refs if ref])
        & _personal_or_unknown()
    )
    matching = OutboxMessage.objects.filter(peer__node_id=to).filter(relied_on | unknown_basis)
    waiting = list(
        matching.select_for_update(of=("self",))
        .filter(status__in=OutboxMessage.UNDELIVERED)
        .order_by("seq")
        .values_list("pk", "status", "attempts")
    )
    ids = [pk for pk, _, _ in waiting]
    if ids:
        OutboxMessage.objects.filter(pk__in=ids, status__in=OutboxMessage.UNDELIVERED).update(
            status=OutboxStatus.CANCELLED,
            cancelled_at=_dt(now),
            last_error=reason[:64],
            last_error_detail="cancelled before delivery: the consent it relied on was withdrawn",
        )
    result = Cancellation(
        cancelled=[str(pk) for pk in ids],
        attempted=[str(pk) for pk, status, attempts in waiting if attempts or status != "pending"],
        delivered=[
            str(pk)
            for pk in matching.filter(status=OutboxStatus.ACKNOWLEDGED)
            .order_by("seq")
            .values_list("pk", flat=True)
        ],
    )
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        object_type="exchange.outbox",
        object_id=consent_ref[:64],
        details={
            "event": "outbox_cancelled",
            "reason": reason[:64],
            "to": to,
            "cancelled": len(result.cancelled),
            "attempted": len(result.attempted),
            "already_delivered": len(result.delivered),
            "messages": result.cancelled[:_LISTED],
            "delivered_messages": result.delivered[:_LISTED],
        },
        request=request,
    )
    return result


def _consent_still_allows(msg: OutboxMessage) -> bool:
    """Asked again right before a message with personal data leaves: the consent may have
    been withdrawn (here, or mirrored from the peer), may have expired, or an override may
    have ended since it was queued."""
    try:
        personal = registry.message_type(msg.msg_type, msg.schema_version).personal_data
    except EnvelopeError:  # a type this node no longer knows: fail closed
        personal = True
    return not personal or registry.consent_allows(msg.case_ref, msg.peer.node_id, msg.purpose)


def _cancel_at_send(msg: OutboxMessage, now: int) -> Delivery:
    with transaction.atomic():
        cancelled = OutboxMessage.objects.filter(
            pk=msg.pk, status__in=OutboxMessage.UNDELIVERED
        ).update(
            status=OutboxStatus.CANCELLED,
            cancelled_at=_dt(now),
            last_error=CANCELLED_AT_SEND,
            last_error_detail="cancelled before delivery: no consent covers it any more",
        )
        if not cancelled:
            return Delivery(str(msg.id), "skipped", "no longer waiting")
        msg.status = OutboxStatus.CANCELLED
        audit_security_event(
            actor=None,
            event="consent_refused_at_send",
            object_type="exchange.outboxmessage",
            object_id=str(msg.id),
            details={
                "type": msg.msg_type,
                "to": msg.peer.node_id,
                "purpose": msg.purpose[:60],
                "case_ref": msg.case_ref[:64],
            },
        )
    security_log.warning(
        "outbound message cancelled at send: no consent type=%s to=%s",
        msg.msg_type,
        msg.peer.node_id,
    )
    return Delivery(str(msg.id), "cancelled", CANCELLED_AT_SEND)


def _log_receipt(msg: OutboxMessage, receipt, verified, pinned) -> None:
    """Append the peer's signed receipt for ``msg`` to the evidence log and keep it on it."""
    log_append(
        [
            LogInput(
                kind=LogKind.RECEIPT_IN,
                peer=msg.peer.node_id,
                evidence=receipt,
                signer_kid=verified.signer_kid,
                msg_id=str(msg.id),
                msg_type=msg.msg_type,
                transport=msg.transport,
                envelope_digest=verified.envelope_digest,
                anchor=pinned,
            )
        ]
    )
    msg.receipt = receipt


def _receipt_after_cancel(
    msg: OutboxMessage, receipt: str, verified, pinned: PinnedAnchor, now: int
) -> Delivery:
    """The peer answers for a message cancelled while a copy was on its way (a sender had
    claimed it before the withdrawal committed, or it was in a bundle file). The signed
    receipt is evidence and is kept. If the peer accepted it, the message *was* delivered:
    it is recorded as acknowledged (its cancellation time stays) and the DPO sees a
    security event, since only a retraction can reach it now. A refusal keeps it cancelled.
    """
    if msg.receipt == receipt:
        return Delivery(str(msg.id), "skipped", "already settled")
    _log_receipt(msg, receipt, verified, pinned)
    if verified.status not in ("accepted", "duplicate"):
        msg.save(update_fields=["receipt"])
        return Delivery(str(msg.id), "skipped", "cancelled")
    msg.status, msg.acknowledged_at = OutboxStatus.ACKNOWLEDGED, _dt(now)
    msg.last_error_detail = "cancelled, but a copy had already left: the peer received it"
    msg.save(update_fields=["status", "acknowledged_at", "receipt", "last_error_detail"])
    audit_security_event(
        actor=None,
        event="cancelled_message_delivered",
        object_type="exchange.outboxmessage",
        object_id=str(msg.id),
        details={
            "type": msg.msg_type,
            "to": msg.peer.node_id,
            "case_ref": msg.case_ref[:64],
            "reason": msg.last_error,
        },
    )
    security_log.warning(
        "a cancelled message had already left and was received type=%s to=%s",
        msg.msg_type,
        msg.peer.node_id,
    )
    return Delivery(str(msg.id), "acknowledged", verified.status)


@dataclass
class RelayReport:
    peer: str
    delivered: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    waiting: int = 0
    next_due: datetime | None = None
    stopped_by: str = ""


def outbox_relay(
    *, peer: Peer, now: int | None = None, post: PostFn = post_envelope, limit: int = 500
) -> RelayReport:
    """Deliver a peer's waiting messages strictly in ``seq`` order.

    The first message that cannot be delivered stops the run (a later one must not
    overtake it); a message refused for good does not block the ones behind it.
    """
    report = RelayReport(peer.node_id)
    if not peer.url:
        report.stopped_by = "no_address"
    for _ in range(limit):
        if report.stopped_by:
            break
        current = now_ts() if now is None else now
        head = (
            peer.outbox.filter(status__in=OutboxMessage.UNDELIVERED)
            .select_related("peer", "data_key")
            .order_by("seq")
            .first()
        )
        if head is None:
            break
        if head.next_attempt_at > _dt(current):
            report.next_due = head.next_attempt_at
            break
        delivery = deliver(head, now=current, post=post)
        if delivery.outcome == "acknowledged":
            report.delivered.append(delivery.msg_id)
        elif delivery.outcome == "failed":
            report.failed.append((delivery.msg_id, delivery.reason))
        elif delivery.outcome == "retry":
            report.stopped_by = delivery.reason
            head.refresh_from_db(fields=["next_attempt_at"])
            report.next_due = head.next_attempt_at
    report.waiting = peer.outbox.filter(status__in=OutboxMessage.UNDELIVERED).count()
    _check_alert(peer, now_ts() if now is None else now)
    return report


def _check_alert(peer: Peer, now: int) -> None:
    """Raise (once) or clear the link-down alert for a peer (matrix #15)."""
    oldest = (
        peer.outbox.filter(status__in=OutboxMessage.UNDELIVERED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    late = oldest is not None and (_dt(now) - oldest).total_seconds() > conf().alert_after
    peer.refresh_from_db(fields=["alert_raised_at"])
    if late and peer.alert_raised_at is None:
        with transaction.atomic():
            waiting = peer.outbox.filter(status__in=OutboxMessage.UNDELIVERED).count()
            Peer.objects.filter(pk=peer.pk).update(alert_raised_at=_dt(now))
            audit_security_event(
                actor=None,
                event="exchange_link_down",
                object_type="exchange.peer",
                object_id=peer.node_id,
                details={
                    "waiting": waiting,
                    "oldest_seconds": int((_dt(now) - oldest).total_seconds()),
                },
            )
        security_log.warning("exchange link to %s down: messages waiting too long", peer.node_id)
    elif not late and peer.alert_raised_at is not None:
        with transaction.atomic():
            Peer.objects.filter(pk=peer.pk).update(alert_raised_at=None)
            audit_record(
                actor=None,
                action=Action.UPDATE,
                object_type="exchange.peer",
                object_id=peer.node_id,
                details={"event": "exchange_link_restored"},
            )


@transaction.atomic
def outbox_retry_now(*, actor, peer: Peer, now: int | None = None, request=None) -> int:
    """Make every waiting message for a peer due now (an operator's "retry now")."""
    now = now_ts() if now is None else now
    count = peer.outbox.filter(status__in=OutboxMessage.UNDELIVERED).update(
        next_attempt_at=_dt(now)
    )
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        object_type="exchange.peer",
        object_id=peer.node_id,
        details={"retry_now": count},
        request=request,
    )
    transaction.on_commit(lambda: enqueue_relay(peer.node_id))
    return count


@dataclass(frozen=True)
class PingResult:
    msg_id: str
    rtt_ms: float
    peer: str
    receipt_kid: str


def ping(
    *, actor, to: str, now: int | None = None, post: PostFn = post_envelope, request=None
) -> PingResult:
    """Send a signed ``ping`` straight away and wait for the peer's signed receipt.

    Raises :class:`PingFailed` with the reason when the link, the keys or the peer are
    wrong; the ping is then marked refused so that the relay does not send it later.
    """
    peer = _peer(to)
    if not peer.url:
        raise PingFailed(f"peer {peer.node_id} has no address (bundle files only)", "no_address")
    msg = message_send(
        actor=actor,
        to=peer.node_id,
        msg_type="ping",
        body={"nonce": secrets.token_hex(8)},
        now=now,
        enqueue=False,
        request=request,
    )
    delivery = deliver(msg, now=now, post=post)
    if delivery.outcome == "acknowledged":
        msg.refresh_from_db(fields=["receipt"])
        header = strict_json_loads(b64url_decode(msg.receipt.split(".")[0]))
        return PingResult(str(msg.id), delivery.rtt * 1000, peer.node_id, str(header["kid"]))
    if delivery.outcome == "retry":
        _fail_unsigned_ping(msg, delivery.reason)
    raise PingFailed(_ping_reason(delivery), delivery.reason)


@transaction.atomic
def _fail_unsigned_ping(msg: OutboxMessage, reason: str) -> None:
    OutboxMessage.objects.filter(pk=msg.pk, status__in=OutboxMessage.UNDELIVERED).update(
        status=OutboxStatus.FAILED, last_error=reason[:64]
    )


def _ping_reason(delivery: Delivery) -> str:
    if delivery.reason in {"link_down", "peer_error", "bad_answer"}:
        return f"link: {delivery.detail}"
    if delivery.reason == "receipt_invalid":
        return f"keys: {delivery.detail} (is the peer's fingerprint pinned right?)"
    return f"the peer refused the ping: {delivery.reason}"


# --- Receiving messages -------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    status: str  # accepted | duplicate | rejected
    reason_code: str | None
    receipt: str | None
    msg_id: str | None = None
    inbox: InboxMessage | None = None


def _pinned_peers() -> dict[str, tuple[Peer, PinnedAnchor, PeerAnchor]]:
    result = {}
    for peer in Peer.objects.all():
        pinned = peer.anchors.order_by("-version").first()
        if pinned is not None:
            result[peer.node_id] = (peer, pinned, pinned.core())
    return result


def envelope_receive(
    *, token: bytes | str, transport: str, now: int | None = None, request=None
) -> Received:
    """Process one incoming envelope; always answer with a receipt unless it is oversize.

    Decrypts and verifies against the pinned anchors (outside the transaction: bounded,
    read-only work), then in one transaction: deduplicates by message id, checks the type,
    schema and reply rules, stores the message and the log entries, runs the handler and
    signs the receipt. Any refusal changes nothing but the audit log (a security event).
    """
    now = now_ts() if now is None else now
    raw = token.encode("ascii", "replace") if isinstance(token, str) else token
    env_digest = digest(raw) if len(raw) <= MAX_TOKEN_BYTES else None
    keys = our_keys()
    message: VerifiedMessage | None = None
    peers = _pinned_peers()
    try:
        if env_digest is None:
            raise TokenTooLarge(f"token is {len(raw)} bytes, cap is {MAX_TOKEN_BYTES}")
        policy = conf().http_policy if transport == Transport.HTTP else conf().bundle_policy
        message = open_envelope(
            raw,
            receiver_keys=keys,
            sender_anchor=[anchor for _, _, anchor in peers.values()],
            expected_to=settings.CTIP_NODE,
            now=now,
            policy=policy,
        )
        peer, pinned, _ = peers[message.sender]
        entry = registry.message_type(message.type, message.schema)
        registry.validate_body(entry, message.body)
        return _accept(message, peer, pinned, entry, transport, now, keys, request)
    except EnvelopeError as exc:
        return _refuse(exc, env_digest, message, peers, transport, now, keys, request)


def refuse_oversize(*, transport: str, declared: str, request=None) -> str:
    """Log an envelope refused for its size before it was read (matrix #10)."""
    code = TokenTooLarge.code
    audit_security_event(
        actor=None,
        event="envelope_rejected",
        object_type="exchange.envelope",
        object_id="",
        details={"reason": code, "transport": transport, "declared_bytes": declared[:20]},
        request=request,
        outlives_rollback=True,  # a refused attempt: kept when its caller rolls back
    )
    security_log.warning("envelope rejected reason=%s transport=%s", code, transport)
    return code


def _receipt_kid(node_id: str | None, peers, keys: NodeKeys, now: int) -> str | None:
    if node_id is None or node_id not in peers:
        return None
    return valid_kid(keys, peers[node_id][0].sign_with, now)


def _refuse(exc, env_digest, message, peers, transport, now, keys, request) -> Received:
    sender = message.sender if message else ""
    msg_id = message.msg_id if message else None
    audit_security_event(
        actor=None,
        event="envelope_rejected",
        object_type="exchange.envelope",
        object_id=env_digest or "",
        details={
            "reason": exc.code,
            "transport": transport,
            "peer": sender,
            "msg_id": msg_id or "",
        },
        request=request,
        outlives_rollback=True,  # a refused attempt: kept when its caller rolls back
    )
    security_log.warning(
        "envelope rejected reason=%s transport=%s digest=%s",
        exc.code,
        transport,
        (env_digest or "")[:16],
    )
    if env_digest is None:
        return Received("rejected", exc.code, None, msg_id)
    receipt = make_receipt(
        envelope_digest=env_digest,
        msg_id=msg_id,
        status="rejected",
        reason_code=exc.code,
        signer_keys=keys,
        now=now,
        signing_kid=_receipt_kid(sender or None, peers, keys, now),
    )
    return Received("rejected", exc.code, receipt, msg_id)


def _check_reply(message: VerifiedMessage, peer: Peer) -> None:
    """A reply must name a request we sent to this peer, by id and by token digest (#9)."""
    request_hash = message.payload.get("request_hash")
    if message.in_reply_to is None:
        if request_hash is not None:
            raise BadReply("request_hash without in_reply_to")
        return
    original = OutboxMessage.objects.filter(pk=message.in_reply_to, peer=peer).first()
    if original is None:
        raise BadReply(f"in_reply_to names no message we sent to {peer.node_id}")
    if request_hash is None or not original.tokens.filter(digest=request_hash).exists():
        raise BadReply("request_hash does not name a token we sent for that request")


def _accept(message, peer, pinned, entry, transport, now, keys, request) -> Received:
    existing = None
    try:
        with transaction.atomic():
            existing = InboxMessage.objects.filter(peer=peer, msg_id=message.msg_id).first()
            if existing is None:
                inbox, receipt = _store_and_handle(
                    message, peer, pinned, entry, transport, now, keys, request
                )
    except IntegrityError:
        # A concurrent copy of the same message committed first (matrix #12).
        existing = InboxMessage.objects.filter(peer=peer, msg_id=message.msg_id).first()
        if existing is None:
            raise
    if existing is not None:
        audit_security_event(
            actor=None,
            event="envelope_duplicate",
            object_type="exchange.inboxmessage",
            object_id=str(existing.pk),
            details={"msg_id": message.msg_id, "peer": peer.node_id, "transport": transport},
            request=request,
        )
        return Received("duplicate", None, existing.receipt, message.msg_id, existing)
    return Received("accepted", None, receipt, message.msg_id, inbox)


def _store_and_handle(message, peer, pinned, entry, transport, now, keys, request):
    _check_reply(message, peer)
    receipt = make_receipt(
        envelope_digest=message.digest,
        msg_id=message.msg_id,
        status="accepted",
        reason_code=None,
        signer_keys=keys,
        now=now,
        signing_kid=valid_kid(keys, peer.sign_with, now),
    )
    inbox = InboxMessage(
        peer=peer,
        msg_id=message.msg_id,
        seq=message.seq,
        msg_type=message.type,
        schema_version=message.schema,
        case_ref=message.case_ref or "",
        purpose=message.payload.get("purpose") or "",
        in_reply_to=message.in_reply_to,
        body=canonical_json(message.body).decode("utf-8"),
        envelope_digest=message.digest,
        signer_kid=message.signer_kid,
        transport=transport,
        receipt=receipt,
        sent_at=_dt(message.payload["iat"]),
        received_at=_dt(now),
    )
    inbox.full_clean()
    inbox.save(force_insert=True)
    receipt_kid = strict_json_loads(b64url_decode(receipt.split(".")[0]))["kid"]
    common = {"peer": peer.node_id, "msg_id": message.msg_id, "msg_type": message.type}
    log_append(
        [
            LogInput(
                kind=LogKind.MESSAGE_IN,
                evidence=message.jws,
                signer_kid=message.signer_kid,
                transport=transport,
                envelope_digest=message.digest,
                anchor=pinned,
                **common,
            ),
            LogInput(
                kind=LogKind.RECEIPT_OUT,
                evidence=receipt,
                signer_kid=receipt_kid,
                transport=transport,
                envelope_digest=message.digest,
                **common,
            ),
        ]
    )
    audit_record(
        actor=None,
        action=Action.CREATE,
        obj=inbox,
        fields=["body"] if entry.personal_data else [],
        details={"type": message.type, "from": peer.node_id, "seq": message.seq},
        request=request,
    )
    entry.handler(
        registry.IncomingMessage(
            msg_id=message.msg_id,
            sender=peer.node_id,
            msg_type=message.type,
            schema_version=message.schema,
            body=message.body,
            case_ref=message.case_ref,
            purpose=message.payload.get("purpose"),
            in_reply_to=message.in_reply_to,
            signer_kid=message.signer_kid,
            sent_at=_dt(message.payload["iat"]),
            transport=transport,
        )
    )
    return inbox, receipt


# --- Key rotation ---------------------------------------------------------------------------------


def keys_rotate(
    *, actor, now: int | None = None, overlap: int = keystore.DEFAULT_OVERLAP, request=None
) -> NodeKeys:
    """Roll our signing and encryption keys, keeping the old ones valid for ``overlap``.

    Every peer is sent a ``keys.update`` signed with the key it already holds, and we keep
    signing for it with that key until its receipt says it has pinned the new ones.
    """
    now = now_ts() if now is None else now
    old = our_keys()
    new = keystore.rotated(old, now=now, overlap=overlap)
    old_sig = old.current("sig", now)
    with transaction.atomic():
        pinned_ids = set(PinnedAnchor.objects.values_list("peer_id", flat=True))
        for peer in Peer.objects.select_for_update().filter(pk__in=pinned_ids).order_by("pk"):
            if not valid_kid(old, peer.sign_with, now):
                peer.sign_with = old_sig.kid
                peer.save(update_fields=["sign_with"])
            message_send(
                actor=actor,
                to=peer.node_id,
                msg_type="keys.update",
                body={"jwks": public_jwks(new.public())},
                now=now,
                request=request,
            )
        audit_security_event(
            actor=actor,
            event="exchange_keys_rotated",
            object_type="exchange.keys",
            object_id=settings.CTIP_NODE,
            details={
                "fingerprint": fingerprint(new.public()),
                "previous_signing_kid": old_sig.kid,
                "overlap_seconds": overlap,
            },
            request=request,
        )
        # Last: if writing the file fails, the announcements are rolled back with it.
        keystore.write_keys(keys_file(), new)
    _keys_cache.clear()
    return new


# --- Bundle files -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleOut:
    data: bytes
    count: int
    bundle_id: str


def bundle_export(*, actor, to: str, now: int | None = None, request=None) -> BundleOut:
    """Write every waiting message for a peer into one bundle, freshly sealed to travel."""
    now = now_ts() if now is None else now
    keys = our_keys()
    bundle_id = str(uuid.uuid4())
    with transaction.atomic():
        peer = _peer(to, lock=True)
        messages = list(
            peer.outbox.select_for_update()
            .select_related("peer", "data_key")
            .filter(status__in=OutboxMessage.UNDELIVERED)
            .order_by("seq")
        )
        tokens = []
        for msg in messages:
            if not _consent_still_allows(msg):
                _cancel_at_send(msg, now)
                continue
            sealed = _seal(msg, peer, now, conf().bundle_ttl)
            msg.status, msg.transport = OutboxStatus.SENT, Transport.BUNDLE
            msg.attempts += 1
            msg.last_attempt_at = _dt(now)
            msg.save(
                update_fields=[
                    "token",
                    "token_iat",
                    "status",
                    "transport",
                    "attempts",
                    "last_attempt_at",
                ]
            )
            _record_sealed(msg, sealed, Transport.BUNDLE)
            tokens.append(sealed.token)
        data = make_bundle(
            kind="envelopes",
            items=tokens,
            signer_keys=keys,
            recipient=peer.node_id,
            now=now,
            bundle_id=bundle_id,
            signing_kid=valid_kid(keys, peer.sign_with, now),
        )
        audit_record(
            actor=actor,
            action=Action.EXPORT,
            object_type="exchange.bundle",
            object_id=bundle_id,
            details={"to": peer.node_id, "count": len(tokens), "kind": "envelopes"},
            request=request,
        )
    return BundleOut(data, len(tokens), bundle_id)


@dataclass
class BundleIn:
    kind: str
    sender: str
    bundle_id: str
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    acknowledged: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    unmatched: int = 0
    receipts: BundleOut | None = None


def bundle_import(*, actor, data: bytes, now: int | None = None, request=None) -> BundleIn:
    """Process a bundle file: envelopes (answered with a receipts bundle) or receipts.

    The file is checked as a whole first (signed manifest, every item's digest); a
    damaged file is refused with its reason and nothing in it is processed.
    """
    now = now_ts() if now is None else now
    keys = our_keys()
    peers = _pinned_peers()
    try:
        bundle = open_bundle(
            data,
            anchors=[anchor for _, _, anchor in peers.values()],
            expected_to=settings.CTIP_NODE,
            own_keys=keys,
        )
    except EnvelopeError as exc:
        audit_security_event(
            actor=actor,
            event="bundle_rejected",
            object_type="exchange.bundle",
            object_id=hashlib.sha256(data).hexdigest(),
            details={"reason": exc.code, "bytes": len(data)},
            request=request,
            outlives_rollback=True,  # a refused attempt: kept when its caller rolls back
        )
        security_log.warning("bundle rejected reason=%s", exc.code)
        raise BundleRefused(f"bundle refused ({exc.code}): {exc}", exc.code) from None
    result = BundleIn(bundle.kind, bundle.sender, bundle.bundle_id)
    if bundle.kind == "envelopes":
        receipts = []
        for index, item in enumerate(bundle.items, start=1):
            try:
                received = envelope_receive(
                    token=item, transport=Transport.BUNDLE, now=now, request=request
                )
            except Exception:  # noqa: BLE001 - one broken handler must not lose the others
                log.exception("bundle item %s could not be processed; no receipt given", index)
                continue
            if received.status == "accepted":
                result.accepted += 1
            elif received.status == "duplicate":
                result.duplicates += 1
            else:
                result.rejected.append((index, received.reason_code or "rejected"))
            if received.receipt:
                receipts.append(received.receipt)
        receipts_id = str(uuid.uuid4())
        result.receipts = BundleOut(
            make_bundle(
                kind="receipts",
                items=receipts,
                signer_keys=keys,
                recipient=bundle.sender,
                now=now,
                bundle_id=receipts_id,
                signing_kid=_receipt_kid(bundle.sender, peers, keys, now),
            ),
            len(receipts),
            receipts_id,
        )
    else:
        peer = peers[bundle.sender][0]
        for index, item in enumerate(bundle.items, start=1):
            outcome = receipt_import(peer=peer, receipt=item, now=now)
            if outcome is None or outcome.outcome == "skipped":
                result.unmatched += 1  # not a token we sealed, or already settled
            elif outcome.outcome == "acknowledged":
                result.acknowledged += 1
            elif outcome.outcome == "failed":
                result.failed.append((index, outcome.reason))
            elif outcome.outcome == "retry":
                result.failed.append((index, f"{outcome.reason} (will retry)"))
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="exchange.bundle",
        object_id=bundle.bundle_id,
        details={
            "kind": bundle.kind,
            "from": bundle.sender,
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "rejected": len(result.rejected),
            "acknowledged": result.acknowledged,
        },
        request=request,
    )
    return result


def receipt_import(*, peer: Peer, receipt: str, now: int) -> Delivery | None:
    """Apply one receipt from a receipts bundle; None if it names no token we sealed."""
    try:
        envelope_digest = _peek_receipt_digest(receipt)
    except (EnvelopeError, ValueError, IndexError):
        return None
    token = (
        OutboxToken.objects.select_related("message__peer", "message__data_key")
        .filter(digest=envelope_digest, message__peer=peer)
        .first()
    )
    if token is None:
        return None
    return apply_receipt(token.message, receipt, now=now)
