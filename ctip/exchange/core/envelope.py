"""Sealing and opening message envelopes (JWS Ed25519 nested in JWE ECDH-ES).

Sign-then-encrypt: the inner JWS proves who wrote the message and is what we
archive; the outer JWE keeps it confidential in transit. Because anyone can
re-encrypt a signed inner JWS to a third party, the signed payload names its
recipient (``to``) and :func:`open_envelope` insists it is us.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from . import jose
from .encoding import canonical_json, digest, strict_json_loads
from .errors import (
    Expired,
    InvalidPayload,
    KeySelectionError,
    LifetimeTooLong,
    MalformedToken,
    NotYetValid,
    OwnKeySigner,
    TokenTooLarge,
    TooOld,
    UnknownRecipientKey,
    UnknownSigner,
    WrongRecipient,
    WrongSender,
)
from .keys import KeyEntry, NodeKeys, PeerAnchor

__all__ = [
    "DEFAULT_MAX_SKEW",
    "DEFAULT_TTL",
    "MAX_CASE_REF",
    "ReceiverPolicy",
    "SealedEnvelope",
    "VerifiedMessage",
    "VerifiedSignature",
    "open_envelope",
    "seal",
    "seal_envelope",
    "verify_signature_at",
]

#: Default message lifetime: long enough to survive a day of link outage and retries.
DEFAULT_TTL = 24 * 60 * 60
#: Default tolerance for the sender's clock running ahead of ours.
DEFAULT_MAX_SKEW = 300

_REQUIRED_FIELDS = frozenset(
    {"msg_id", "from", "to", "iat", "exp", "seq", "type", "schema", "request_hash", "body"}
)
_OPTIONAL_TEXT_FIELDS = frozenset({"purpose", "legal_basis", "consent_ref"})
_OPTIONAL_FIELDS = _OPTIONAL_TEXT_FIELDS | {"in_reply_to", "case_ref"}
#: A case reference is an opaque identifier (``KH-C-1A2B3C4D``), never a name.
MAX_CASE_REF = 64
_CASE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidPayload(message)


def _is_uuid4(value: Any) -> bool:
    """Canonical lower-case UUID4 text only, so one message has one id spelling."""
    if not isinstance(value, str):
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return parsed.version == 4 and str(parsed) == value


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def validate_message_payload(payload: Any) -> dict[str, Any]:
    """Check the signed message payload's shape; unknown fields are refused.

    Refusing unknown fields keeps ``schema`` meaningful: new fields arrive with a
    new schema version rather than slipping past an older receiver unread.
    """
    _require(isinstance(payload, dict), "payload must be a JSON object")
    missing = _REQUIRED_FIELDS - payload.keys()
    _require(not missing, f"missing fields: {sorted(missing)}")
    unknown = payload.keys() - _REQUIRED_FIELDS - _OPTIONAL_FIELDS
    _require(not unknown, f"unknown fields: {sorted(unknown)}")
    _require(_is_uuid4(payload["msg_id"]), "msg_id must be a canonical UUID4 string")
    for name in ("from", "to", "type"):
        _require(_is_text(payload[name]), f"{name} must be a non-empty string")
    for name in ("iat", "exp", "seq"):
        _require(_is_int(payload[name]) and payload[name] >= 0, f"{name} must be an int >= 0")
    _require(_is_int(payload["schema"]) and payload["schema"] >= 1, "schema must be an int >= 1")
    _require(payload["exp"] > payload["iat"], "exp must be after iat")
    request_hash = payload["request_hash"]
    _require(
        request_hash is None
        or (isinstance(request_hash, str) and bool(_SHA256_HEX.fullmatch(request_hash))),
        "request_hash must be null or lower-case sha256 hex",
    )
    _require(isinstance(payload["body"], dict), "body must be a JSON object")
    for name in _OPTIONAL_TEXT_FIELDS & payload.keys():
        _require(payload[name] is None or isinstance(payload[name], str), f"{name} must be str")
    if "in_reply_to" in payload:
        _require(_is_uuid4(payload["in_reply_to"]), "in_reply_to must be a canonical UUID4")
    if "case_ref" in payload:
        case_ref = payload["case_ref"]
        _require(
            isinstance(case_ref, str) and bool(_CASE_REF.fullmatch(case_ref)),
            f"case_ref must be an opaque reference of at most {MAX_CASE_REF} characters",
        )
    return cast(dict[str, Any], payload)


def build_payload(
    *,
    sender: str,
    recipient: str,
    msg_type: str,
    body: Mapping[str, Any],
    seq: int,
    now: int,
    ttl: int = DEFAULT_TTL,
    schema: int = 1,
    request_hash: str | None = None,
    msg_id: str | None = None,
    purpose: str | None = None,
    legal_basis: str | None = None,
    consent_ref: str | None = None,
    in_reply_to: str | None = None,
    case_ref: str | None = None,
) -> dict[str, Any]:
    """Assemble and validate a message payload; optional fields are omitted when None."""
    payload: dict[str, Any] = {
        "msg_id": msg_id if msg_id is not None else str(uuid.uuid4()),
        "from": sender,
        "to": recipient,
        "iat": now,
        "exp": now + ttl,
        "seq": seq,
        "type": msg_type,
        "schema": schema,
        "request_hash": request_hash,
        "body": dict(body),
    }
    optional = {
        "purpose": purpose,
        "legal_basis": legal_basis,
        "consent_ref": consent_ref,
        "in_reply_to": in_reply_to,
        "case_ref": case_ref,
    }
    payload.update({k: v for k, v in optional.items() if v is not None})
    return validate_message_payload(payload)


def _signing_key(keys: NodeKeys, now: int, kid: str | None) -> KeyEntry:
    """The key we sign with: the newest valid one, or a named one if still valid."""
    if kid is None:
        return keys.current("sig", now)
    entry = keys.get(kid, "sig")
    if entry is None or not entry.is_valid_at(now):
        raise KeySelectionError(f"signing key {kid} is unknown or not valid at {now}")
    return entry


@dataclass(frozen=True)
class SealedEnvelope:
    """What :func:`seal_envelope` made: the token to send and the evidence to keep.

    ``jws`` is our signed inner token (it holds the body in clear: store it
    encrypted); ``digest`` names ``token`` in receipts.
    """

    token: str
    jws: str
    digest: str
    payload: dict[str, Any]
    signer_kid: str

    @property
    def msg_id(self) -> str:
        return str(self.payload["msg_id"])


def seal_envelope(
    *,
    msg_type: str,
    body: Mapping[str, Any],
    seq: int,
    sender_keys: NodeKeys,
    receiver_public_keys: PeerAnchor,
    now: int,
    ttl: int = DEFAULT_TTL,
    schema: int = 1,
    request_hash: str | None = None,
    msg_id: str | None = None,
    purpose: str | None = None,
    legal_basis: str | None = None,
    consent_ref: str | None = None,
    in_reply_to: str | None = None,
    case_ref: str | None = None,
    signing_kid: str | None = None,
) -> SealedEnvelope:
    """Sign a message as ``sender_keys`` and encrypt it to the receiver.

    ``from``/``to`` come from the key rings themselves so they cannot disagree
    with the keys used. Raises :class:`KeySelectionError` if no key is valid
    at ``now``, :class:`InvalidPayload` for bad fields and
    :class:`TokenTooLarge` rather than emit a token the peer would refuse.
    """
    payload = build_payload(
        sender=sender_keys.node_id,
        recipient=receiver_public_keys.node_id,
        msg_type=msg_type,
        body=body,
        seq=seq,
        now=now,
        ttl=ttl,
        schema=schema,
        request_hash=request_hash,
        msg_id=msg_id,
        purpose=purpose,
        legal_basis=legal_basis,
        consent_ref=consent_ref,
        in_reply_to=in_reply_to,
        case_ref=case_ref,
    )
    signer = _signing_key(sender_keys, now, signing_kid)
    inner = jose.sign_jws(canonical_json(payload), signer, jose.MESSAGE_TYP)
    token = jose.encrypt_jwe(inner, receiver_public_keys.current("enc", now))
    if len(token) > jose.MAX_TOKEN_BYTES:
        raise TokenTooLarge(f"sealed token is {len(token)} bytes, cap is {jose.MAX_TOKEN_BYTES}")
    return SealedEnvelope(token, inner, digest(token), payload, signer.kid)


def seal(**kwargs: Any) -> str:
    """Like :func:`seal_envelope` (same keyword arguments), returning only the compact JWE."""
    return seal_envelope(**kwargs).token


@dataclass(frozen=True)
class VerifiedMessage:
    """An opened envelope. ``jws`` is the signed inner token to archive as evidence."""

    payload: dict[str, Any]
    signer_kid: str
    digest: str
    jws: str

    @property
    def msg_id(self) -> str:
        return str(self.payload["msg_id"])

    @property
    def sender(self) -> str:
        return str(self.payload["from"])

    @property
    def seq(self) -> int:
        return int(self.payload["seq"])

    @property
    def type(self) -> str:
        return str(self.payload["type"])

    @property
    def body(self) -> dict[str, Any]:
        return dict(self.payload["body"])

    @property
    def schema(self) -> int:
        return int(self.payload["schema"])

    @property
    def in_reply_to(self) -> str | None:
        value = self.payload.get("in_reply_to")
        return None if value is None else str(value)

    @property
    def case_ref(self) -> str | None:
        value = self.payload.get("case_ref")
        return None if value is None else str(value)


@dataclass(frozen=True)
class VerifiedSignature:
    """A verified signed token (message or receipt) from the archive."""

    payload: dict[str, Any]
    signer_kid: str
    typ: str
    digest: str


def _signed_payload_json(data: bytes) -> Any:
    """Parse a verified payload; a signed non-JSON payload is a payload error."""
    try:
        return strict_json_loads(data)
    except MalformedToken as exc:
        raise InvalidPayload("signed payload is not JSON") from exc


@dataclass(frozen=True)
class SignedContent:
    """What :func:`verify_signed` established: the payload, the key and the typ."""

    payload: dict[str, Any]
    key: KeyEntry
    typ: str


def verify_signed(
    raw: bytes,
    *,
    anchor: PeerAnchor,
    typ: str | frozenset[str],
    own_keys: NodeKeys | None = None,
) -> SignedContent:
    """Verify a compact JWS using only the anchor key named by its ``kid``.

    Our own keys are checked first so a reflected message is named as such
    even if our key was (wrongly) copied into the peer's anchor. Key validity
    windows and the payload's shape are left to the caller, which knows the
    relevant time and schema.
    """
    header, kid = jose.jws_header(raw, typ)
    if own_keys is not None and any(entry.kid == kid for entry in own_keys):
        raise OwnKeySigner(f"token signed with our own key {kid}")
    key = anchor.get(kid, "sig")
    if key is None:
        raise UnknownSigner(f"kid {kid} is not a signing key of {anchor.node_id}")
    payload = _signed_payload_json(jose.verify_jws(raw, key))
    if not isinstance(payload, dict):
        raise InvalidPayload("signed payload must be a JSON object")
    return SignedContent(payload, key, header["typ"])


def check_sender(payload: dict[str, Any], anchor: PeerAnchor) -> None:
    """The signed ``from`` must name the node whose anchor verified the signature."""
    if payload.get("from") != anchor.node_id:
        raise WrongSender(f"payload from {payload.get('from')!r}, anchor is {anchor.node_id}")


@dataclass(frozen=True)
class ReceiverPolicy:
    """How fresh an incoming message must be, in seconds.

    ``max_skew``: how far the sender's clock may run ahead of ours.
    ``max_lifetime``: the longest ``exp - iat`` we accept. ``max_age``: the
    oldest ``iat`` we accept at receipt. Signing keys are judged at ``iat``,
    so these two bound how long after a key's expiry or revocation a token
    with a backdated ``iat`` could still be accepted: ``min(max_lifetime,
    max_age)``. The HTTP inbox uses tight values; bundle files, which travel
    by hand between air-gapped networks, looser ones.
    """

    max_skew: int = DEFAULT_MAX_SKEW
    max_lifetime: int = DEFAULT_TTL
    max_age: int = DEFAULT_TTL

    def __post_init__(self) -> None:
        for name in ("max_skew", "max_lifetime", "max_age"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise ValueError(f"{name} must be an int >= 0")
        if self.max_lifetime == 0 or self.max_age == 0:
            raise ValueError("max_lifetime and max_age must be positive")


def _check_times(payload: dict[str, Any], now: int, policy: ReceiverPolicy) -> None:
    if now >= payload["exp"]:
        raise Expired(f"expired at {payload['exp']}, now {now}")
    if payload["iat"] > now + policy.max_skew:
        raise NotYetValid(f"iat {payload['iat']} is beyond now {now} + skew {policy.max_skew}")
    lifetime = payload["exp"] - payload["iat"]
    if lifetime > policy.max_lifetime:
        raise LifetimeTooLong(f"lifetime {lifetime}s exceeds {policy.max_lifetime}s")
    if now - payload["iat"] > policy.max_age:
        raise TooOld(f"iat {payload['iat']} is older than {policy.max_age}s at {now}")


def pick_anchor(
    signed: bytes, typ: str, anchors: Sequence[PeerAnchor], own_keys: NodeKeys | None
) -> PeerAnchor:
    """The one anchor holding the signing kid of a compact JWS (header checked strictly)."""
    _, kid = jose.jws_header(signed, typ)
    if own_keys is not None and any(entry.kid == kid for entry in own_keys):
        raise OwnKeySigner(f"token signed with our own key {kid}")
    holders = [anchor for anchor in anchors if anchor.get(kid, "sig") is not None]
    if len(holders) != 1:
        # None: an unknown key. Several: two peers claim one key; trust neither.
        raise UnknownSigner(f"kid {kid} is not a signing key of exactly one pinned peer")
    return holders[0]


def open_envelope(
    token: str | bytes,
    *,
    receiver_keys: NodeKeys,
    sender_anchor: PeerAnchor | Sequence[PeerAnchor],
    expected_to: str,
    now: int,
    max_skew: int | None = None,
    policy: ReceiverPolicy | None = None,
) -> VerifiedMessage:
    """Decrypt, verify and validate an incoming envelope, or raise an EnvelopeError.

    ``sender_anchor`` is the expected sender's anchor, or every pinned peer's
    anchor (the signer is then picked by the inner ``kid``, which must belong
    to exactly one of them). ``policy`` sets the freshness limits; a bare
    ``max_skew`` overrides just the skew of the default policy.

    Order matters: size first (bounded work), then the outer header (before any
    key agreement), then decryption, then the inner header and signature using
    only the pinned anchor, and only then the signed claims.
    """
    if policy is None:
        policy = ReceiverPolicy()
    if max_skew is not None:
        policy = ReceiverPolicy(max_skew, policy.max_lifetime, policy.max_age)
    raw = jose.token_bytes(token)
    recipient_kid = jose.jwe_kid(raw)
    decryption_key = receiver_keys.get(recipient_kid, "enc")
    if decryption_key is None:
        raise UnknownRecipientKey(f"no encryption key {recipient_kid}")
    inner = jose.token_bytes(jose.decrypt_jwe(raw, decryption_key))
    if isinstance(sender_anchor, PeerAnchor):
        anchor = sender_anchor
    else:
        anchor = pick_anchor(inner, jose.MESSAGE_TYP, sender_anchor, receiver_keys)
    signed = verify_signed(inner, anchor=anchor, typ=jose.MESSAGE_TYP, own_keys=receiver_keys)
    payload = validate_message_payload(signed.payload)
    check_sender(payload, anchor)
    signer = signed.key
    signer.check_valid_at(payload["iat"])
    if payload["to"] != expected_to:
        raise WrongRecipient(f"message is for {payload['to']!r}, we are {expected_to!r}")
    _check_times(payload, now, policy)
    return VerifiedMessage(payload, signer.kid, digest(raw), inner.decode("ascii"))


def verify_signature_at(jws: str | bytes, anchor: PeerAnchor, at_time: int) -> VerifiedSignature:
    """Re-verify an archived inner JWS (message or receipt) as of ``at_time``.

    The key must have been valid and unrevoked at ``at_time`` (typically when
    the message was received and archived), not now: evidence signed before a
    key expired keeps verifying after it expires. No freshness checks apply.
    """
    raw = jose.token_bytes(jws)
    accepted = frozenset({jose.MESSAGE_TYP, jose.RECEIPT_TYP})
    signed = verify_signed(raw, anchor=anchor, typ=accepted)
    check_sender(signed.payload, anchor)
    signed.key.check_valid_at(at_time)
    return VerifiedSignature(signed.payload, signed.key.kid, signed.typ, digest(raw))
