"""JSON and base64url helpers shared by every layer of the envelope.

Kept separate because both sides of the exchange must agree byte-for-byte on
how JSON is produced (for fingerprints and signatures) and must be *stricter*
than the standard library when reading JSON that came off the wire.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any, NoReturn

from .errors import DuplicateKey, MalformedToken

__all__ = ["b64url_decode", "b64url_encode", "canonical_json", "digest", "strict_json_loads"]

_B64URL = re.compile(rb"[A-Za-z0-9_-]*")


def canonical_json(obj: Any) -> bytes:
    """Serialise ``obj`` as compact UTF-8 JSON with sorted keys.

    Deterministic output lets two nodes compute the same fingerprint over the
    same key set. NaN/Infinity are refused because they are not JSON and other
    parsers would reject (or misread) them. This is not full RFC 8785 (JCS):
    floats use Python's repr; our fingerprinted structures contain no floats,
    and signatures are computed over the bytes as sent, never re-serialised.
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(token: str | bytes) -> str:
    """Return the SHA-256 hex digest of a token exactly as transmitted.

    Used as the envelope identity in receipts and in ``request_hash``; hashing
    the wire form (not a decoded form) means both peers name the same bytes.
    """
    data = token.encode("utf-8") if isinstance(token, str) else token
    return hashlib.sha256(data).hexdigest()


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` that refuses repeated member names.

    RFC 7515/7516 say such headers MUST be rejected or parsed last-wins; since
    other implementations pick first-wins, accepting them invites confusion
    between what was checked and what is used.
    """
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(f"duplicate JSON member {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> NoReturn:
    """``parse_constant`` hook: NaN and Infinity are not JSON."""
    raise MalformedToken(f"non-JSON constant {name}")


def strict_json_loads(data: bytes) -> Any:
    """Parse UTF-8 JSON, refusing duplicate member names and NaN/Infinity."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedToken("JSON is not valid UTF-8") from exc
    try:
        return json.loads(
            text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant
        )
    except (ValueError, RecursionError) as exc:
        raise MalformedToken("invalid JSON") from exc


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url, as used by every JOSE compact segment."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: bytes | str) -> bytes:
    """Strict unpadded base64url decode.

    The standard library silently skips characters outside the alphabet; we
    refuse them (and padding) so one token has exactly one decoding.
    """
    raw = segment.encode("ascii", "replace") if isinstance(segment, str) else segment
    if not _B64URL.fullmatch(raw) or len(raw) % 4 == 1:
        raise MalformedToken("invalid base64url segment")
    try:
        return base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedToken("invalid base64url segment") from exc
