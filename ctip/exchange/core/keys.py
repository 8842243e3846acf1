"""Node key material: generation, validity windows, pinning and storage.

Each node holds Ed25519 signing keys and X25519 encryption keys. Keys rotate
with overlapping validity windows, so a key set is a *ring* of several keys,
each named by its RFC 7638 thumbprint. The peer's public ring, once compared
out of band by fingerprint, is the *anchor*: the only place verification keys
may come from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Self, cast

from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from .encoding import canonical_json, strict_json_loads
from .errors import EnvelopeError, KeyNotValid, KeyRevoked, KeySelectionError

__all__ = [
    "KeyEntry",
    "KeyUse",
    "NodeKeys",
    "PeerAnchor",
    "anchor_from_jwks",
    "dump_private_keys",
    "fingerprint",
    "generate_key",
    "generate_node_keys",
    "load_private_keys",
    "public_jwks",
]

KeyUse = Literal["sig", "enc"]

#: One curve and one algorithm per use: there is nothing to negotiate.
CURVE_FOR_USE: dict[str, str] = {"sig": "Ed25519", "enc": "X25519"}
ALG_FOR_USE: dict[str, str] = {"sig": "Ed25519", "enc": "ECDH-ES+A256KW"}

_PUBLIC_MEMBERS = frozenset(
    {"kty", "crv", "x", "kid", "use", "alg", "not_before", "not_after", "revoked_at"}
)
_PRIVATE_MEMBERS = _PUBLIC_MEMBERS | {"d"}
_PRIVATE_FORMAT = "ctip-node-keys/1"


def _config_json(text: str | bytes) -> Any:
    """Strictly parse a key document; problems are config errors, hence ValueError."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    try:
        return strict_json_loads(raw)
    except EnvelopeError as exc:
        raise ValueError(f"invalid key document: {exc.code}") from exc


def _is_int(value: Any) -> bool:
    """True for real integers; ``bool`` is an ``int`` subclass but never a timestamp."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class KeyEntry:
    """One key plus the window in which it may be used.

    Windows are half-open: valid when ``not_before <= t < not_after`` and not
    revoked (``t < revoked_at``). Revocation is judged at the time a message
    claims to have been signed, so traffic signed before a compromise stays
    verifiable in the archive.
    """

    kid: str
    use: KeyUse
    key: OKPKey = field(repr=False, compare=False)
    not_before: int
    not_after: int
    revoked_at: int | None = None

    def __post_init__(self) -> None:
        if self.use not in CURVE_FOR_USE:
            raise ValueError(f"unknown key use {self.use!r}")
        if self.key.curve_name != CURVE_FOR_USE[self.use]:
            raise ValueError(f"{self.use} key must be {CURVE_FOR_USE[self.use]}")
        if self.kid != self.key.thumbprint():
            raise ValueError("kid must be the RFC 7638 thumbprint of the key")
        if not (_is_int(self.not_before) and _is_int(self.not_after)):
            raise ValueError("not_before and not_after must be integers")
        if self.not_before >= self.not_after:
            raise ValueError("not_before must be earlier than not_after")
        if self.revoked_at is not None and not _is_int(self.revoked_at):
            raise ValueError("revoked_at must be an integer or None")

    @property
    def is_private(self) -> bool:
        return self.key.is_private

    def check_valid_at(self, when: int) -> None:
        """Raise :class:`KeyRevoked` or :class:`KeyNotValid` unless usable at ``when``."""
        if self.revoked_at is not None and when >= self.revoked_at:
            raise KeyRevoked(f"key {self.kid} revoked at {self.revoked_at}")
        if not self.not_before <= when < self.not_after:
            raise KeyNotValid(
                f"key {self.kid} valid [{self.not_before}, {self.not_after}), not at {when}"
            )

    def is_valid_at(self, when: int) -> bool:
        try:
            self.check_valid_at(when)
        except EnvelopeError:
            return False
        return True

    def public(self) -> KeyEntry:
        """The same entry without its private part."""
        if not self.is_private:
            return self
        return replace(self, key=OKPKey.import_key(self.key.as_dict(private=False)))

    def to_jwk(self, *, private: bool = False) -> dict[str, Any]:
        """JWK with our metadata members; private part only when asked for."""
        data: dict[str, Any] = dict(self.key.as_dict(private=private))
        data.update(
            kid=self.kid,
            use=self.use,
            alg=ALG_FOR_USE[self.use],
            not_before=self.not_before,
            not_after=self.not_after,
        )
        if self.revoked_at is not None:
            data["revoked_at"] = self.revoked_at
        return data

    @classmethod
    def from_jwk(cls, data: Mapping[str, Any], *, private: bool) -> KeyEntry:
        """Import a JWK written by :meth:`to_jwk`, refusing anything unexpected.

        The kid is recomputed rather than trusted, and private JWKs are refused
        where a public one is expected so secrets never end up in an anchor.
        """
        if private != ("d" in data):
            raise ValueError("private key expected" if private else "public key expected")
        allowed = _PRIVATE_MEMBERS if private else _PUBLIC_MEMBERS
        extra = set(data) - allowed
        if extra:
            raise ValueError(f"unexpected JWK members: {sorted(extra)}")
        use = data.get("use")
        if not isinstance(use, str) or use not in CURVE_FOR_USE:
            raise ValueError("JWK use must be sig or enc")
        if data.get("alg") != ALG_FOR_USE[use]:
            raise ValueError(f"JWK alg for {use} must be {ALG_FOR_USE[use]}")
        material = {k: data[k] for k in ("kty", "crv", "x", "d") if k in data}
        if material.get("kty") != "OKP":
            raise ValueError("only OKP keys are supported")
        try:
            key = OKPKey.import_key(material)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"invalid key material: {exc}") from exc
        return cls(
            kid=data.get("kid", ""),
            use=cast(KeyUse, use),
            key=key,
            not_before=data.get("not_before"),  # type: ignore[arg-type]  # checked in post_init
            not_after=data.get("not_after"),  # type: ignore[arg-type]
            revoked_at=data.get("revoked_at"),
        )


@dataclass(frozen=True)
class _KeyRing:
    """A node id plus its keys; shared behaviour of our keys and a peer anchor."""

    node_id: str
    keys: tuple[KeyEntry, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(self.keys))
        if not all(isinstance(entry, KeyEntry) for entry in self.keys):
            raise TypeError("key ring holds KeyEntry objects only")
        if not isinstance(self.node_id, str) or not self.node_id:
            raise ValueError("node_id must be a non-empty string")
        kids = [entry.kid for entry in self.keys]
        if len(kids) != len(set(kids)):
            raise ValueError("duplicate kid in key ring")

    def __iter__(self) -> Iterator[KeyEntry]:
        return iter(self.keys)

    def get(self, kid: str, use: KeyUse) -> KeyEntry | None:
        """The key with this kid *and* use, or None: a signing kid never decrypts."""
        for entry in self.keys:
            if entry.kid == kid and entry.use == use:
                return entry
        return None

    def by_use(self, use: KeyUse) -> tuple[KeyEntry, ...]:
        return tuple(entry for entry in self.keys if entry.use == use)

    def current(self, use: KeyUse, now: int) -> KeyEntry:
        """Newest key of ``use`` valid at ``now``; during overlap this prefers the new key."""
        usable = [entry for entry in self.by_use(use) if entry.is_valid_at(now)]
        if not usable:
            raise KeySelectionError(f"{self.node_id} has no {use} key valid at {now}")
        return max(usable, key=lambda entry: (entry.not_before, entry.kid))

    def with_key(self, entry: KeyEntry) -> Self:
        """A copy with one more key, e.g. the next key during rotation."""
        return replace(self, keys=(*self.keys, entry))

    def with_revocation(self, kid: str, revoked_at: int) -> Self:
        """A copy in which ``kid`` is revoked from ``revoked_at`` on."""
        if not any(entry.kid == kid for entry in self.keys):
            raise KeyError(kid)
        keys = tuple(
            replace(entry, revoked_at=revoked_at) if entry.kid == kid else entry
            for entry in self.keys
        )
        return replace(self, keys=keys)


@dataclass(frozen=True)
class NodeKeys(_KeyRing):
    """Our own node's private keys. Never leaves the node except via :func:`dump_private_keys`."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not all(entry.is_private for entry in self.keys):
            raise ValueError("NodeKeys holds private keys only")

    def public(self) -> PeerAnchor:
        """What a peer pins for us."""
        return PeerAnchor(self.node_id, tuple(entry.public() for entry in self.keys))


@dataclass(frozen=True)
class PeerAnchor(_KeyRing):
    """A peer's pinned public keys: the sole source of trust for verifying it."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if any(entry.is_private for entry in self.keys):
            raise ValueError("PeerAnchor must not contain private keys")


def generate_key(use: KeyUse, *, not_before: int, not_after: int) -> KeyEntry:
    """Generate one fresh key for ``use`` with the given validity window."""
    key = OKPKey.generate_key(CURVE_FOR_USE[use])  # type: ignore[arg-type]
    return KeyEntry(
        kid=key.thumbprint(), use=use, key=key, not_before=not_before, not_after=not_after
    )


def generate_node_keys(node_id: str, *, not_before: int, not_after: int) -> NodeKeys:
    """A new node ring: one signing and one encryption key sharing a window."""
    return NodeKeys(
        node_id,
        (
            generate_key("sig", not_before=not_before, not_after=not_after),
            generate_key("enc", not_before=not_before, not_after=not_after),
        ),
    )


def public_jwks(ring: NodeKeys | PeerAnchor) -> dict[str, Any]:
    """Public JWK Set (RFC 7517) with ``node_id`` and validity windows; no private parts.

    Keys are sorted by kid so the same ring always yields the same document.
    """
    keys = sorted((entry.to_jwk(private=False) for entry in ring.keys), key=lambda k: k["kid"])
    return {"node_id": ring.node_id, "keys": keys}


def anchor_from_jwks(jwks: Mapping[str, Any] | str | bytes) -> PeerAnchor:
    """Build a peer anchor from a published public JWKS (refuses private keys)."""
    data = _config_json(jwks) if isinstance(jwks, str | bytes) else jwks
    if not isinstance(data, Mapping) or set(data) != {"node_id", "keys"}:
        raise ValueError("JWKS must be an object with exactly node_id and keys")
    if not isinstance(data["keys"], list):
        raise ValueError("JWKS keys must be a list")
    entries = tuple(KeyEntry.from_jwk(item, private=False) for item in data["keys"])
    return PeerAnchor(data["node_id"], entries)


def fingerprint(ring: NodeKeys | PeerAnchor) -> str:
    """Short, human-comparable fingerprint of a ring's public JWKS, for pinning.

    SHA-256 over the canonical public JWKS (node id, keys, windows, revocations),
    truncated to 128 bits and grouped like ``3f2a-9c1b-...`` so two operators
    can read it aloud. Any change to the ring, including a revocation, changes
    it; that is intended, because every anchor update must be re-confirmed.
    """
    full = hashlib.sha256(canonical_json(public_jwks(ring))).hexdigest()
    short = full[:32]
    return "-".join(short[i : i + 4] for i in range(0, len(short), 4))


def dump_private_keys(keys: NodeKeys) -> str:
    """Serialise our private ring to JSON for storage (encrypt it at rest!)."""
    document = {
        "format": _PRIVATE_FORMAT,
        "node_id": keys.node_id,
        "keys": [entry.to_jwk(private=True) for entry in keys.keys],
    }
    return json.dumps(document, sort_keys=True, indent=2)


def load_private_keys(text: str | bytes) -> NodeKeys:
    """Inverse of :func:`dump_private_keys`; kids and curves are re-checked on load."""
    data = _config_json(text)
    if not isinstance(data, dict) or data.get("format") != _PRIVATE_FORMAT:
        raise ValueError(f"not a {_PRIVATE_FORMAT} document")
    if not isinstance(data.get("keys"), list):
        raise ValueError("keys must be a list")
    entries = tuple(KeyEntry.from_jwk(item, private=True) for item in data["keys"])
    return NodeKeys(data.get("node_id", ""), entries)
