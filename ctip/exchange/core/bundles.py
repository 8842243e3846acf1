"""Bundle files: envelopes (or receipts) carried by hand between air-gapped networks.

A bundle is one JSON document::

    {"format": "ctip-bundle/1", "manifest": "<compact JWS>", "items": ["<token>", ...]}

The manifest is signed by the sending node and lists, in order, the SHA-256 of
every item, so a file that was cut short, edited, reordered, or had items added
or removed is refused *as a whole* before any item is processed. Each item is
still an envelope (or receipt) that is checked on its own as usual.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from . import jose
from .encoding import _refuse_constant, _refuse_duplicates, canonical_json, digest
from .envelope import check_sender, pick_anchor, verify_signed
from .errors import (
    BundleItemAltered,
    BundleItemExtra,
    BundleItemMissing,
    BundleMalformed,
    BundleTruncated,
    InvalidPayload,
    KeySelectionError,
    TokenTooLarge,
    WrongRecipient,
)
from .keys import NodeKeys, PeerAnchor

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_KINDS",
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_ITEMS",
    "BundleKind",
    "VerifiedBundle",
    "make_bundle",
    "open_bundle",
]

BUNDLE_FORMAT = "ctip-bundle/1"
BundleKind = Literal["envelopes", "receipts"]
BUNDLE_KINDS: frozenset[str] = frozenset({"envelopes", "receipts"})
MAX_BUNDLE_ITEMS = 10_000
#: Room for many full-size envelopes, yet a bound on what one file may make us parse.
MAX_BUNDLE_BYTES = 256 * 1024 * 1024

_MANIFEST_FIELDS = frozenset({"bundle_id", "kind", "from", "to", "iat", "count", "digests"})
_DOCUMENT_FIELDS = frozenset({"format", "manifest", "items"})
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidPayload(f"bundle manifest: {message}")


def _validate_manifest(payload: Any) -> dict[str, Any]:
    _require(isinstance(payload, dict), "must be a JSON object")
    _require(payload.keys() == _MANIFEST_FIELDS, f"fields must be {sorted(_MANIFEST_FIELDS)}")
    _require(payload["kind"] in BUNDLE_KINDS, "kind must be envelopes or receipts")
    for name in ("from", "to", "bundle_id"):
        _require(isinstance(payload[name], str) and bool(payload[name]), f"{name} must be text")
    for name in ("iat", "count"):
        value = payload[name]
        _require(isinstance(value, int) and not isinstance(value, bool) and value >= 0, name)
    digests = payload["digests"]
    _require(isinstance(digests, list) and len(digests) == payload["count"], "digests/count")
    _require(payload["count"] <= MAX_BUNDLE_ITEMS, f"at most {MAX_BUNDLE_ITEMS} items")
    _require(
        all(isinstance(d, str) and _SHA256_HEX.fullmatch(d) for d in digests),
        "digests must be lower-case sha256 hex",
    )
    return cast(dict[str, Any], payload)


def make_bundle(
    *,
    kind: BundleKind,
    items: Sequence[str],
    signer_keys: NodeKeys,
    recipient: str,
    now: int,
    bundle_id: str | None = None,
    signing_kid: str | None = None,
) -> bytes:
    """Write a bundle of ``items`` for ``recipient``, with a manifest signed by us."""
    if len(items) > MAX_BUNDLE_ITEMS:
        raise ValueError(f"a bundle holds at most {MAX_BUNDLE_ITEMS} items")
    manifest = _validate_manifest(
        {
            "bundle_id": bundle_id or str(uuid.uuid4()),
            "kind": kind,
            "from": signer_keys.node_id,
            "to": recipient,
            "iat": now,
            "count": len(items),
            "digests": [digest(item) for item in items],
        }
    )
    if signing_kid is None:
        key = signer_keys.current("sig", now)
    else:
        named = signer_keys.get(signing_kid, "sig")
        if named is None or not named.is_valid_at(now):
            raise KeySelectionError(f"signing key {signing_kid} is unknown or not valid at {now}")
        key = named
    signed = jose.sign_jws(canonical_json(manifest), key, jose.BUNDLE_TYP)
    document = {"format": BUNDLE_FORMAT, "manifest": signed, "items": list(items)}
    # One item per line: easy to eyeball, and a cut anywhere breaks the JSON.
    return json.dumps(document, indent=1).encode("ascii") + b"\n"


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose manifest signature and item list checked out."""

    bundle_id: str
    kind: str
    sender: str
    iat: int
    items: tuple[str, ...]
    signer_kid: str
    manifest_digest: str


def _parse(data: bytes) -> dict[str, Any]:
    """Strict JSON; a document that stops early is *truncated*, anything else *malformed*."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleMalformed("bundle is not UTF-8 text") from exc
    if not text.strip():
        raise BundleTruncated("bundle file is empty")
    try:
        document = json.loads(
            text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant
        )
    except json.JSONDecodeError as exc:
        # "Unterminated string" means no closing quote before the end of the file.
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise BundleTruncated(
                f"bundle ends early at byte {len(data)}: the file was cut short"
            ) from exc
        raise BundleMalformed(f"bundle is not valid JSON ({exc.msg} at {exc.pos})") from exc
    except (ValueError, RecursionError) as exc:
        raise BundleMalformed("bundle is not valid JSON") from exc
    if not isinstance(document, dict) or document.keys() != _DOCUMENT_FIELDS:
        raise BundleMalformed(f"a bundle is an object with exactly {sorted(_DOCUMENT_FIELDS)}")
    if document["format"] != BUNDLE_FORMAT:
        raise BundleMalformed(f"unknown bundle format {str(document['format'])[:40]!r}")
    if not isinstance(document["manifest"], str):
        raise BundleMalformed("manifest must be a compact JWS string")
    items = document["items"]
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise BundleMalformed("items must be a list of strings")
    return cast(dict[str, Any], document)


def open_bundle(
    data: bytes,
    *,
    anchors: PeerAnchor | Sequence[PeerAnchor],
    expected_to: str,
    own_keys: NodeKeys | None = None,
    max_bytes: int = MAX_BUNDLE_BYTES,
) -> VerifiedBundle:
    """Check a bundle file as a whole: size, JSON, signed manifest, then every item digest.

    The signer is picked by the manifest's ``kid`` among ``anchors``. Freshness
    is not judged here: the items carry their own ``iat``/``exp``.
    """
    if len(data) > max_bytes:
        raise TokenTooLarge(f"bundle is {len(data)} bytes, cap is {max_bytes}")
    document = _parse(data)
    raw_manifest = jose.token_bytes(document["manifest"])
    candidates = [anchors] if isinstance(anchors, PeerAnchor) else list(anchors)
    anchor = pick_anchor(raw_manifest, jose.BUNDLE_TYP, candidates, own_keys)
    signed = verify_signed(raw_manifest, anchor=anchor, typ=jose.BUNDLE_TYP, own_keys=own_keys)
    manifest = _validate_manifest(signed.payload)
    check_sender(manifest, anchor)
    signed.key.check_valid_at(manifest["iat"])
    if manifest["to"] != expected_to:
        raise WrongRecipient(f"bundle is for {manifest['to']!r}, we are {expected_to!r}")
    items: list[str] = document["items"]
    listed: list[str] = manifest["digests"]
    if len(items) < len(listed):
        raise BundleItemMissing(
            f"the manifest lists {len(listed)} items, the file holds {len(items)}"
        )
    if len(items) > len(listed):
        raise BundleItemExtra(
            f"the file holds {len(items)} items, the manifest lists {len(listed)}"
        )
    for index, (item, expected) in enumerate(zip(items, listed, strict=True), start=1):
        if digest(item) != expected:
            raise BundleItemAltered(f"item {index} does not match the signed manifest")
    return VerifiedBundle(
        bundle_id=manifest["bundle_id"],
        kind=manifest["kind"],
        sender=manifest["from"],
        iat=manifest["iat"],
        items=tuple(items),
        signer_kid=signed.key.kid,
        manifest_digest=digest(raw_manifest),
    )
