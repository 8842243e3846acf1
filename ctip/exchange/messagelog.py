"""The message log: append-only, hash-chained, signed evidence of what crossed the border.

The chain (``ChainHead`` "exchange", keyed with the node's chain key) covers digests, key
ids and anchors; the signed text is kept encrypted beside it, so evidence can be shredded
while the chain and the remaining signatures still verify.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ctip.audit.chain import GENESIS, link
from ctip.audit.models import ChainHead
from ctip.core.crypto import CryptoError, get_keyring
from ctip.exchange.core import EnvelopeError, PeerAnchor, verify_signature_at
from ctip.exchange.core.encoding import b64url_decode, strict_json_loads
from ctip.exchange.identity import our_keys
from ctip.exchange.models import LogEntry, LogKind, PinnedAnchor

LOG_CHAIN = "exchange"


@dataclass(frozen=True)
class LogInput:
    kind: str
    peer: str
    evidence: str
    signer_kid: str
    msg_id: str | None = None
    msg_type: str = ""
    transport: str = ""
    envelope_digest: str = ""
    anchor: PinnedAnchor | None = None


def _log_content(entry: LogEntry, anchor_fingerprint: str) -> dict:
    return {
        "chain": LOG_CHAIN,
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "kind": entry.kind,
        "peer": entry.peer,
        "msg_id": str(entry.msg_id) if entry.msg_id else None,
        "msg_type": entry.msg_type,
        "transport": entry.transport,
        "envelope_digest": entry.envelope_digest,
        "evidence_digest": entry.evidence_digest,
        "signer_kid": entry.signer_kid,
        "anchor": anchor_fingerprint,
    }


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@transaction.atomic
def log_append(entries: list[LogInput]) -> list[LogEntry]:
    """Append signed evidence to the message log, in order, under a lock on its chain head."""
    ChainHead.objects.get_or_create(name=LOG_CHAIN)
    head = ChainHead.objects.select_for_update().get(name=LOG_CHAIN)
    key = get_keyring().chain_key
    at = timezone.now()
    seq, prev = head.seq, head.hash
    rows = []
    for item in entries:
        seq += 1
        row = LogEntry(
            seq=seq,
            at=at,
            kind=item.kind,
            peer=item.peer,
            msg_id=item.msg_id,
            msg_type=item.msg_type,
            transport=item.transport,
            envelope_digest=item.envelope_digest,
            evidence_digest=_sha256(item.evidence),
            signer_kid=item.signer_kid,
            anchor=item.anchor,
            evidence=item.evidence,
            prev_hash=prev,
        )
        row.hash = link(
            key, prev, _log_content(row, item.anchor.fingerprint if item.anchor else "")
        )
        row.full_clean()
        row.save(force_insert=True)
        prev = row.hash
        rows.append(row)
    head.seq, head.hash = seq, prev
    head.save(update_fields=["seq", "hash"])
    return rows


@dataclass(frozen=True)
class LogVerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    signatures: int = 0
    purged: int = 0


def _peek_iat(jws: str) -> int:
    """The signed ``iat`` (unverified: the signature check that follows covers it)."""
    try:
        payload = strict_json_loads(b64url_decode(jws.split(".")[1]))
        iat = payload["iat"]
    except (EnvelopeError, IndexError, KeyError, TypeError):
        return -1
    return iat if isinstance(iat, int) and not isinstance(iat, bool) else -1


def log_verify() -> LogVerifyResult:
    """Walk the log in order: chain links, then each entry's evidence digest and signature.

    Signatures are judged with the key windows at the signed ``iat``, under the anchor
    version that was pinned when the entry was written (our own public keys for what we
    signed), so evidence keeps verifying after keys rotate or expire.
    """
    key = get_keyring().chain_key
    own = our_keys().public()
    anchors: dict[int, PeerAnchor] = {}
    prev, expected, checked, signatures, purged = GENESIS, 1, 0, 0, 0

    def bad(seq: int, reason: str) -> LogVerifyResult:
        return LogVerifyResult(False, checked, seq, reason, signatures, purged)

    rows = LogEntry.objects.order_by("seq").select_related("data_key", "anchor")
    for row in rows.iterator(chunk_size=500):
        if row.seq != expected:
            return bad(expected, f"entry {expected} is missing")
        if row.prev_hash != prev:
            return bad(row.seq, "does not follow the entry before it (deleted or reordered)")
        anchor_fp = row.anchor.fingerprint if row.anchor else ""
        if link(key, prev, _log_content(row, anchor_fp)) != row.hash:
            return bad(row.seq, "its content was changed")
        try:
            evidence = row.evidence
        except CryptoError as exc:
            if "shredded" in str(exc):
                purged += 1
                prev, expected, checked = row.hash, expected + 1, checked + 1
                continue
            return bad(row.seq, "its evidence does not decrypt (altered or moved)")
        if evidence is None or _sha256(evidence) != row.evidence_digest:
            return bad(row.seq, "its evidence does not match its digest")
        if row.kind in (LogKind.MESSAGE_OUT, LogKind.RECEIPT_OUT):
            anchor = own
        else:
            if row.anchor_id is None:
                return bad(row.seq, "it names no pinned anchor")
            if row.anchor_id not in anchors:
                anchors[row.anchor_id] = row.anchor.core()
            anchor = anchors[row.anchor_id]
        try:
            verify_signature_at(evidence, anchor, _peek_iat(evidence))
        except EnvelopeError as exc:
            return bad(row.seq, f"its signature does not verify ({exc.code})")
        signatures += 1
        prev, expected, checked = row.hash, expected + 1, checked + 1
    head = ChainHead.objects.filter(name=LOG_CHAIN).first()
    if head is not None and (head.seq != checked or head.hash != prev):
        return bad(checked + 1, f"the chain head says {head.seq} entries; later ones were removed")
    return LogVerifyResult(True, checked, None, "", signatures, purged)
