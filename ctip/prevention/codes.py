"""Signed verification codes of singleness and marriage certificates (no Django import).

A code is short enough for a QR code and checks offline: anyone holding the issuing node's
public signing key (the other node has it pinned from the exchange) verifies it without
asking the issuing node. Layout (version 1), then RFC 4648 base32 without padding, so the
code is upper-case letters and digits only (QR alphanumeric mode, and safe in a URL)::

    version     1 byte   (1)
    issuer      2 bytes  country of the issuing node, ASCII ("KH", "CN")
    key         8 bytes  first 8 bytes of the signing key's RFC 7638 thumbprint
    serial     10 bytes  random; names the certificate on its issuing node
    doc type    1 byte   1 singleness, 2 marriage
    signed at   4 bytes  Unix seconds, big-endian
    issued on   2 bytes  days since 2000-01-01
    valid until 2 bytes  days since 2000-01-01, 0 for no end
    authority   1 byte length + that many ASCII bytes (the agency's code)
    initials    1 byte length + that many UTF-8 bytes
    signature  64 bytes  Ed25519 over DOMAIN + everything above

The signature covers a domain-separation prefix so no other signed object of the node
(exchange envelopes, receipts) can be presented as a certificate code, or the other way
round. Every field is parsed strictly: a truncated, extended or re-encoded code is refused
as malformed before any key is looked at.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "DOC_TYPES",
    "CodeError",
    "Claims",
    "decode",
    "encode",
    "kid_prefix",
    "normalise",
    "verify_signature",
]

VERSION = 1
DOMAIN = b"ctip-civil-certificate/1\x00"
EPOCH = dt.date(2000, 1, 1)
SIGNATURE_BYTES = 64
KID_PREFIX_BYTES = 8
SERIAL_BYTES = 10
MAX_AUTHORITY = 40
MAX_INITIALS = 24
#: The longest code a valid layout can give, in base32 characters (checked before decoding).
MAX_CODE_CHARS = 400
DOC_TYPES = {1: "singleness", 2: "marriage"}
_DOC_TYPE_BYTE = {name: number for number, name in DOC_TYPES.items()}
_HEAD = struct.Struct(">B2s8s10sBIHH")
_BASE32 = re.compile(r"[A-Z2-7]+")
_AUTHORITY = re.compile(r"[a-z0-9][a-z0-9_-]*")


class CodeError(ValueError):
    """A code that is not valid; ``reason`` is one short machine word."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


@dataclass(frozen=True)
class Claims:
    """What a code says. ``serial`` and ``key`` are hex."""

    issuer: str
    key: str
    serial: str
    doc_type: str
    signed_at: int
    issued_on: dt.date
    valid_until: dt.date | None
    authority: str
    initials: str


def _days(day: dt.date) -> int:
    days = (day - EPOCH).days
    if not 1 <= days <= 0xFFFF:
        raise ValueError(f"date {day} is outside what a code can carry")
    return days


def kid_prefix(kid: str) -> str:
    """The hex of the first 8 bytes of a JWK thumbprint (base64url) as put in a code."""
    raw = base64.urlsafe_b64decode(kid + "=" * (-len(kid) % 4))
    return raw[:KID_PREFIX_BYTES].hex()


def _payload(claims: Claims) -> bytes:
    if claims.doc_type not in _DOC_TYPE_BYTE:
        raise ValueError(f"unknown document type {claims.doc_type!r}")
    if len(claims.issuer) != 2 or not claims.issuer.isascii() or not claims.issuer.isupper():
        raise ValueError("issuer must be a two-letter country code")
    if not _AUTHORITY.fullmatch(claims.authority) or len(claims.authority) > MAX_AUTHORITY:
        raise ValueError("authority must be an agency code")
    initials = claims.initials.encode("utf-8")
    if len(initials) > MAX_INITIALS:
        raise ValueError("initials are too long")
    if not 0 <= claims.signed_at <= 0xFFFFFFFF:
        raise ValueError("signed_at is outside what a code can carry")
    head = _HEAD.pack(
        VERSION,
        claims.issuer.encode("ascii"),
        bytes.fromhex(claims.key),
        bytes.fromhex(claims.serial),
        _DOC_TYPE_BYTE[claims.doc_type],
        claims.signed_at,
        _days(claims.issued_on),
        _days(claims.valid_until) if claims.valid_until else 0,
    )
    authority = claims.authority.encode("ascii")
    return head + bytes([len(authority)]) + authority + bytes([len(initials)]) + initials


def encode(claims: Claims, private_key: Ed25519PrivateKey) -> str:
    """The code for ``claims``, signed with ``private_key`` (whose kid prefix is ``key``)."""
    if len(bytes.fromhex(claims.key)) != KID_PREFIX_BYTES:
        raise ValueError("key must be 8 bytes of hex")
    if len(bytes.fromhex(claims.serial)) != SERIAL_BYTES:
        raise ValueError("serial must be 10 bytes of hex")
    payload = _payload(claims)
    signature = private_key.sign(DOMAIN + payload)
    return base64.b32encode(payload + signature).decode("ascii").rstrip("=")


def normalise(text: str) -> str:
    """Take a code as typed or scanned: a bare code, or a verification URL holding it in
    ``c=``; spaces, dashes and case do not matter. Returns the bare upper-case code."""
    text = (text or "").strip()
    if "c=" in text:
        text = text.rsplit("c=", 1)[1].split("&", 1)[0]
    return re.sub(r"[\s-]+", "", text).upper()


def decode(code: str) -> tuple[Claims, bytes, bytes]:
    """Parse a code into its claims, the signed bytes and the signature. Raises
    :class:`CodeError` with reason ``malformed`` or ``unsupported_version``; the signature
    is not checked here (see :func:`verify_signature`)."""
    code = normalise(code)
    if not code or len(code) > MAX_CODE_CHARS or not _BASE32.fullmatch(code):
        raise CodeError("malformed", "not a certificate code")
    try:
        raw = base64.b32decode(code + "=" * (-len(code) % 8))
    except (binascii.Error, ValueError):
        raise CodeError("malformed", "not base32") from None
    # Re-encoding must give the same text: no alternative spellings of one code.
    if base64.b32encode(raw).decode("ascii").rstrip("=") != code:
        raise CodeError("malformed", "non-canonical encoding")
    if len(raw) < _HEAD.size + 2 + SIGNATURE_BYTES:
        raise CodeError("malformed", "too short")
    if raw[0] != VERSION:
        raise CodeError("unsupported_version", f"version {raw[0]}")
    version, issuer, key, serial, doc_type, signed_at, issued, until = _HEAD.unpack_from(raw)
    at = _HEAD.size
    length = raw[at]
    authority_bytes = raw[at + 1 : at + 1 + length]
    at += 1 + length
    if len(authority_bytes) != length or at >= len(raw):
        raise CodeError("malformed", "truncated")
    length = raw[at]
    initials_bytes = raw[at + 1 : at + 1 + length]
    at += 1 + length
    if len(initials_bytes) != length or len(raw) != at + SIGNATURE_BYTES:
        raise CodeError("malformed", "truncated or extended")
    try:
        issuer_text = issuer.decode("ascii")
        authority = authority_bytes.decode("ascii")
        initials = initials_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise CodeError("malformed", "bad text") from None
    if (
        doc_type not in DOC_TYPES
        or not issuer_text.isalpha()
        or not issuer_text.isupper()
        or not _AUTHORITY.fullmatch(authority)
        or len(initials_bytes) > MAX_INITIALS
        or issued == 0
    ):
        raise CodeError("malformed", "bad field")
    claims = Claims(
        issuer=issuer_text,
        key=key.hex(),
        serial=serial.hex(),
        doc_type=DOC_TYPES[doc_type],
        signed_at=signed_at,
        issued_on=EPOCH + dt.timedelta(days=issued),
        valid_until=EPOCH + dt.timedelta(days=until) if until else None,
        authority=authority,
        initials=initials,
    )
    return claims, raw[:at], raw[at:]


def verify_signature(public_key: Ed25519PublicKey, signed: bytes, signature: bytes) -> bool:
    try:
        public_key.verify(signature, DOMAIN + signed)
    except InvalidSignature:
        return False
    return True
