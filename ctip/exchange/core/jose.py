"""The two JOSE layers, locked down to exactly one algorithm each.

joserfc does the cryptography; this module decides what it is *allowed* to
see. Every token is pre-parsed here first (size, segment count, strict
base64url, duplicate-free JSON header, header allow-list) so that joserfc is
only ever handed a token whose header we have already judged, and is given
exactly one key that we picked from our own stores, never from the token.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag
from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwe import JWERegistry
from joserfc.jws import JWSRegistry

from .encoding import b64url_decode, strict_json_loads
from .errors import (
    BadSignature,
    DecryptionFailed,
    DisallowedAlgorithm,
    HeaderKeyForbidden,
    MalformedToken,
    TokenTooLarge,
    UnsupportedHeader,
    WrongType,
    ZipForbidden,
)
from .keys import KeyEntry

__all__ = [
    "BUNDLE_TYP",
    "JWE_ALG",
    "JWE_ENC",
    "JWS_ALG",
    "MAX_TOKEN_BYTES",
    "MESSAGE_TYP",
    "RECEIPT_TYP",
    "decrypt_jwe",
    "encrypt_jwe",
    "jwe_kid",
    "jws_header",
    "sign_jws",
    "token_bytes",
    "verify_jws",
]

#: Hard cap on any token we parse, checked before anything else.
MAX_TOKEN_BYTES = 2 * 1024 * 1024

JWS_ALG = "Ed25519"  # RFC 9864 fully-specified name; "EdDSA" is refused.
JWE_ALG = "ECDH-ES+A256KW"
JWE_ENC = "A256GCM"

#: Explicit typing (RFC 8725 section 3.11) so a signed receipt can never be
#: accepted as a signed message or the other way round.
MESSAGE_TYP = "ctip-msg+jws"
RECEIPT_TYP = "ctip-receipt+jws"
#: The signed manifest of a bundle file (the air-gapped transport).
BUNDLE_TYP = "ctip-bundle+jws"

#: Header members that would let a token choose its own verification key.
_KEY_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c"})
_JWS_HEADERS = frozenset({"alg", "kid", "typ"})
_JWE_HEADERS = frozenset({"alg", "enc", "kid", "epk", "cty"})
_EPK_MEMBERS = frozenset({"kty", "crv", "x"})

#: Everything joserfc/cryptography may raise when a JWE does not authenticate
#: (AssertionError: joserfc asserts on some malformed inputs).
_DECRYPT_FAILURES = (JoseError, InvalidTag, ValueError, TypeError, KeyError, AssertionError)


def _jws_registry() -> JWSRegistry:
    """A registry that knows only Ed25519, sized for our token cap."""
    registry = JWSRegistry(algorithms=[JWS_ALG])
    registry.max_header_length = MAX_TOKEN_BYTES
    registry.max_payload_length = MAX_TOKEN_BYTES
    return registry


def _jwe_registry() -> JWERegistry:
    """A registry that knows only ECDH-ES+A256KW / A256GCM (no zip), sized for our cap."""
    registry = JWERegistry(algorithms=[JWE_ALG, JWE_ENC])
    registry.max_ciphertext_length = MAX_TOKEN_BYTES
    return registry


def token_bytes(token: str | bytes) -> bytes:
    """Return the token as ASCII bytes, enforcing the size cap *first*.

    The length test runs before decoding or splitting so an oversized token
    costs O(1) work. For ``str`` the character count is a lower bound on the
    encoded size, so the test is sound before encoding.
    """
    if not isinstance(token, str | bytes):
        raise MalformedToken("token must be str or bytes")
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenTooLarge(f"token is {len(token)} bytes, cap is {MAX_TOKEN_BYTES}")
    if isinstance(token, bytes):
        raw = token
    else:
        try:
            raw = token.encode("ascii")
        except UnicodeEncodeError as exc:
            raise MalformedToken("token is not ASCII") from exc
    if not raw.isascii():
        raise MalformedToken("token is not ASCII")
    return raw


def _split(raw: bytes, count: int) -> list[bytes]:
    """Split a compact serialisation into ``count`` strictly base64url segments.

    Every segment is decoded here once, so malformed encodings are reported as
    such rather than surfacing later as a decryption or signature failure.
    """
    parts = raw.split(b".")
    if len(parts) != count:
        raise MalformedToken(f"expected {count} segments, got {len(parts)}")
    for part in parts:
        b64url_decode(part)
    return parts


def _decode_header(segment: bytes) -> dict[str, Any]:
    """Decode a protected header strictly (duplicate members are refused)."""
    header = strict_json_loads(b64url_decode(segment))
    if not isinstance(header, dict):
        raise MalformedToken("protected header is not a JSON object")
    return header


def _check_common(header: dict[str, Any]) -> None:
    """Checks shared by both layers, most specific first so codes are precise."""
    if "zip" in header:
        raise ZipForbidden("zip header is forbidden")
    supplied = _KEY_HEADERS & header.keys()
    if supplied:
        raise HeaderKeyForbidden(f"header supplies key material: {sorted(supplied)}")


def _check_allowed_members(header: dict[str, Any], allowed: frozenset[str]) -> None:
    unexpected = header.keys() - allowed
    if unexpected:
        raise UnsupportedHeader(f"unsupported header members: {sorted(unexpected)}")


def _require_kid(header: dict[str, Any]) -> str:
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedToken("header has no kid")
    return kid


def jws_header(raw: bytes, typ: str | frozenset[str]) -> tuple[dict[str, Any], str]:
    """Validate a compact JWS header; return it with the signing kid.

    ``typ`` is the one expected type, or a set of acceptable types (archive).
    """
    parts = _split(raw, 3)
    header = _decode_header(parts[0])
    _check_common(header)
    if header.get("alg") != JWS_ALG:
        raise DisallowedAlgorithm(f"JWS alg {header.get('alg')!r} not allowed")
    _check_allowed_members(header, _JWS_HEADERS)
    accepted = frozenset({typ}) if isinstance(typ, str) else typ
    if header.get("typ") not in accepted:
        raise WrongType(f"JWS typ {header.get('typ')!r} not accepted")
    if not parts[1] or not parts[2]:
        # Detached payloads (RFC 7515 appendix F) and empty signatures are never ours.
        raise MalformedToken("JWS payload and signature must not be empty")
    return header, _require_kid(header)


def jwe_kid(raw: bytes) -> str:
    """Validate a compact JWE header; return the recipient key id it names."""
    parts = _split(raw, 5)
    header = _decode_header(parts[0])
    _check_common(header)
    if header.get("alg") != JWE_ALG:
        raise DisallowedAlgorithm(f"JWE alg {header.get('alg')!r} not allowed")
    if header.get("enc") != JWE_ENC:
        raise DisallowedAlgorithm(f"JWE enc {header.get('enc')!r} not allowed")
    _check_allowed_members(header, _JWE_HEADERS)
    if header.get("cty") != MESSAGE_TYP:
        raise WrongType(f"JWE cty {header.get('cty')!r} not accepted")
    _check_epk(header.get("epk"))
    return _require_kid(header)


def _check_epk(epk: Any) -> None:
    """The ephemeral key is required by ECDH-ES and must be a bare public X25519 key."""
    if not isinstance(epk, dict) or set(epk) != _EPK_MEMBERS:
        raise MalformedToken("epk must be a public JWK with exactly kty, crv and x")
    if epk["kty"] != "OKP" or epk["crv"] != "X25519" or not isinstance(epk["x"], str):
        raise DisallowedAlgorithm("epk must be an X25519 OKP key")


def sign_jws(payload: bytes, key: KeyEntry, typ: str) -> str:
    """Sign ``payload`` with a private Ed25519 entry. No key validity checks here."""
    header = {"alg": JWS_ALG, "kid": key.kid, "typ": typ}
    return jws.serialize_compact(header, payload, key.key, registry=_jws_registry())


def verify_jws(raw: bytes, key: KeyEntry) -> bytes:
    """Verify a pre-checked compact JWS under exactly ``key``; return the payload bytes."""
    try:
        obj = jws.deserialize_compact(raw, key.key, registry=_jws_registry())
    except (JoseError, ValueError, TypeError) as exc:
        raise BadSignature(f"signature check failed: {type(exc).__name__}") from exc
    return obj.payload


def encrypt_jwe(plaintext: str, key: KeyEntry) -> str:
    """Encrypt an inner JWS to the recipient's public X25519 entry."""
    header = {"alg": JWE_ALG, "enc": JWE_ENC, "kid": key.kid, "cty": MESSAGE_TYP}
    return jwe.encrypt_compact(header, plaintext, key.key, registry=_jwe_registry())


def decrypt_jwe(raw: bytes, key: KeyEntry) -> bytes:
    """Decrypt a pre-checked compact JWE with our private X25519 entry."""
    try:
        obj = jwe.decrypt_compact(raw, key.key, registry=_jwe_registry())
    except _DECRYPT_FAILURES as exc:
        raise DecryptionFailed(f"decryption failed: {type(exc).__name__}") from exc
    if obj.plaintext is None:
        raise DecryptionFailed("decryption produced no plaintext")
    return obj.plaintext
