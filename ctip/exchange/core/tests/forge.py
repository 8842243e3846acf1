"""Attacker's toolkit for the tests: hand-built JOSE tokens with real crypto.

Everything here deliberately bypasses the checks in the core so each test can
present exactly one defect to ``open_envelope`` and see the matching error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jwe
from joserfc.jwe import JWERegistry

from ctip.exchange.core import jose
from ctip.exchange.core.encoding import b64url_decode, b64url_encode, canonical_json
from ctip.exchange.core.envelope import build_payload
from ctip.exchange.core.errors import EnvelopeError
from ctip.exchange.core.keys import KeyEntry, NodeKeys, PeerAnchor

#: A fixed "now" so every test is deterministic (2025-06-15T15:06:40Z).
T = 1_750_000_000
DAY = 86_400


def header_segment(header: dict[str, Any] | str) -> str:
    """Base64url of a header given as a dict or as raw JSON text (for duplicates)."""
    text = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
    return b64url_encode(text.encode("utf-8"))


def sign_raw(
    header: dict[str, Any] | str, payload: bytes, key: KeyEntry | None, *, alg: str = "Ed25519"
) -> str:
    """Compact JWS with any header, signed the way ``alg`` names.

    ``Ed25519``/``EdDSA``: a genuine Ed25519 signature. ``HS256``: HMAC keyed
    with the signer's *public* key bytes, the classic algorithm-confusion
    attack. ``none``: empty signature.
    """
    signing_input = f"{header_segment(header)}.{b64url_encode(payload)}".encode("ascii")
    if alg == "none" or key is None:
        signature = b""
    elif alg == "HS256":
        secret = key.key.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    else:
        signature = key.key.private_key.sign(signing_input)  # type: ignore[union-attr]
    return f"{signing_input.decode('ascii')}.{b64url_encode(signature)}"


def message_payload(sender: str, recipient: str, now: int, **overrides: Any) -> dict[str, Any]:
    """A valid payload dict to start a forgery from."""
    payload = build_payload(
        sender=sender, recipient=recipient, msg_type="test.ping", body={"n": 1}, seq=1, now=now
    )
    payload.update(overrides)
    return payload


def inner_jws(payload: dict[str, Any] | bytes, signer: KeyEntry, **header: Any) -> str:
    """Inner JWS over ``payload`` with the standard header, optionally overridden."""
    data = payload if isinstance(payload, bytes) else canonical_json(payload)
    full = {"alg": "Ed25519", "kid": signer.kid, "typ": jose.MESSAGE_TYP, **header}
    full = {k: v for k, v in full.items() if v is not None}
    return sign_raw(full, data, signer, alg=str(full.get("alg")))


def encrypt_to(inner: str, receiver: NodeKeys | PeerAnchor, now: int = T) -> str:
    """Genuinely encrypt an inner JWS to the receiver's current encryption key."""
    return jose.encrypt_jwe(inner, receiver.current("enc", now))


def encrypt_with_header(
    inner: str, receiver: NodeKeys | PeerAnchor, extra: dict[str, Any], now: int = T
) -> str:
    """Genuine JWE whose protected header carries ``extra`` members (zip, jku, ...)."""
    key = receiver.current("enc", now)
    header = {"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "kid": key.kid, "cty": jose.MESSAGE_TYP}
    header.update(extra)
    allowed = ["ECDH-ES+A256KW", "A256GCM", "DEF"]
    registry = JWERegistry(algorithms=allowed, strict_check_header=False)
    return jwe.encrypt_compact(header, inner, key.key, registry=registry)


def decrypt_inner(token: str, receiver: NodeKeys) -> str:
    """Open only the outer layer (the receiver's view) to get at the inner JWS."""
    raw = token.encode("ascii")
    return jose.decrypt_jwe(raw, receiver.get(jose.jwe_kid(raw), "enc")).decode("ascii")  # type: ignore[arg-type]


def flip_byte(token: str, segment: int, position: int = 0) -> str:
    """Flip the low bit of one decoded byte in one segment of a compact token."""
    parts = token.split(".")
    data = bytearray(b64url_decode(parts[segment]))
    data[position] ^= 0x01
    parts[segment] = b64url_encode(bytes(data))
    return ".".join(parts)


def replace_header(token: str, header: dict[str, Any] | str) -> str:
    """Swap the protected header of a compact token (breaks AAD/signature, on purpose)."""
    parts = token.split(".")
    parts[0] = header_segment(header)
    return ".".join(parts)


def decoded_header(token: str) -> dict[str, Any]:
    return json.loads(b64url_decode(token.split(".")[0]))


def fake_jwe(header: dict[str, Any]) -> str:
    """A hand-made five-segment token with arbitrary header and junk body segments."""
    junk = b64url_encode(b"\x00" * 16)
    return ".".join([header_segment(header), junk, b64url_encode(b"\x00" * 12), junk, junk])


@contextmanager
def rejected(cls: type[EnvelopeError], code: str) -> Iterator[pytest.ExceptionInfo[EnvelopeError]]:
    """Expect exactly ``cls`` (not a sibling or parent) carrying the stable ``code``."""
    with pytest.raises(EnvelopeError) as info:
        yield info
    assert type(info.value) is cls, f"expected {cls.__name__}, got {info.value!r}"
    assert info.value.code == code
