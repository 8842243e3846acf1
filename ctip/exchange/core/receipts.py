"""Signed receipts: the receiver's non-repudiable "got it" (or "refused it, because").

A receipt names the envelope by the SHA-256 of its exact wire bytes, so the
sender can prove which token was acknowledged. Receipts carry no case data,
so they are signed but not encrypted.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal, cast

from . import jose
from .encoding import canonical_json, digest
from .envelope import check_sender, verify_signed
from .errors import DigestMismatch, InvalidPayload, KeySelectionError
from .keys import NodeKeys, PeerAnchor

__all__ = ["RECEIPT_STATUSES", "ReceiptStatus", "VerifiedReceipt", "make_receipt", "verify_receipt"]

ReceiptStatus = Literal["accepted", "duplicate", "rejected"]
RECEIPT_STATUSES: frozenset[str] = frozenset({"accepted", "duplicate", "rejected"})

_FIELDS = frozenset({"from", "iat", "msg_id", "envelope_digest", "status", "reason_code"})
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_REASON_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidPayload(message)


def validate_receipt_payload(payload: Any) -> dict[str, Any]:
    """Check a receipt's shape.

    ``msg_id`` may be null: an envelope refused before decryption has no
    readable id. ``reason_code`` is required exactly when status is rejected,
    so a refusal always says why and an acceptance never carries a stale reason.
    """
    _require(isinstance(payload, dict), "receipt must be a JSON object")
    _require(payload.keys() == _FIELDS, f"receipt fields must be exactly {sorted(_FIELDS)}")
    _require(isinstance(payload["from"], str) and bool(payload["from"]), "from must be a string")
    iat = payload["iat"]
    _require(isinstance(iat, int) and not isinstance(iat, bool) and iat >= 0, "iat must be int")
    _require(payload["msg_id"] is None or isinstance(payload["msg_id"], str), "msg_id must be str")
    envelope_digest = payload["envelope_digest"]
    _require(
        isinstance(envelope_digest, str) and bool(_SHA256_HEX.fullmatch(envelope_digest)),
        "envelope_digest must be lower-case sha256 hex",
    )
    _require(payload["status"] in RECEIPT_STATUSES, "status must be accepted/duplicate/rejected")
    reason = payload["reason_code"]
    if payload["status"] == "rejected":
        _require(
            isinstance(reason, str) and bool(_REASON_CODE.fullmatch(reason)),
            "rejected receipts need a snake_case reason_code",
        )
    else:
        _require(reason is None, "only rejected receipts carry a reason_code")
    return cast(dict[str, Any], payload)


def make_receipt(
    *,
    envelope_digest: str,
    msg_id: str | None,
    status: ReceiptStatus,
    reason_code: str | None,
    signer_keys: NodeKeys,
    now: int,
    signing_kid: str | None = None,
) -> str:
    """Sign a receipt for the envelope whose wire digest is ``envelope_digest``.

    ``signing_kid`` names the key to sign with (one the peer is known to have
    pinned, during a key rollover); by default the newest valid signing key.
    """
    payload = validate_receipt_payload(
        {
            "from": signer_keys.node_id,
            "iat": now,
            "msg_id": msg_id,
            "envelope_digest": envelope_digest,
            "status": status,
            "reason_code": reason_code,
        }
    )
    if signing_kid is None:
        key = signer_keys.current("sig", now)
    else:
        named = signer_keys.get(signing_kid, "sig")
        if named is None or not named.is_valid_at(now):
            raise KeySelectionError(f"signing key {signing_kid} is unknown or not valid at {now}")
        key = named
    return jose.sign_jws(canonical_json(payload), key, jose.RECEIPT_TYP)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class VerifiedReceipt:
    """A receipt whose signature, signer window and digest all checked out."""

    payload: dict[str, Any]
    signer_kid: str
    digest: str

    @property
    def status(self) -> str:
        return str(self.payload["status"])

    @property
    def reason_code(self) -> str | None:
        return _optional_str(self.payload["reason_code"])

    @property
    def msg_id(self) -> str | None:
        return _optional_str(self.payload["msg_id"])

    @property
    def envelope_digest(self) -> str:
        return str(self.payload["envelope_digest"])


def verify_receipt(
    token: str | bytes, *, sender_anchor: PeerAnchor, expected_digest: str | Collection[str]
) -> VerifiedReceipt:
    """Verify a receipt from the peer in ``sender_anchor`` for our envelope.

    ``sender_anchor`` is the anchor of the receipt's *signer* (the peer we sent
    to). The signing key must have been valid at the receipt's ``iat``.
    ``expected_digest`` may be several digests: a message re-sealed after its
    first token went stale has one digest per token, and the peer answers a
    re-sent message with the receipt it gave the first copy it accepted.
    """
    raw = jose.token_bytes(token)
    signed = verify_signed(raw, anchor=sender_anchor, typ=jose.RECEIPT_TYP)
    payload = validate_receipt_payload(signed.payload)
    check_sender(payload, sender_anchor)
    signed.key.check_valid_at(payload["iat"])
    expected = [expected_digest] if isinstance(expected_digest, str) else list(expected_digest)
    # Compare against every candidate (no early exit): timing says nothing about which matched.
    matches = [hmac.compare_digest(payload["envelope_digest"], one) for one in expected]
    if not any(matches):
        raise DigestMismatch("receipt acknowledges a different envelope")
    return VerifiedReceipt(payload, signed.key.kid, digest(raw))
