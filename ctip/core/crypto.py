"""Encryption of personal data at rest (AES-256-GCM through ``cryptography``).

Two levels, so that a record can be crypto-shredded and the master key rotated cheaply:

* the node's **master keys** (the key ring in the node home, ``keys.json``) wrap
* **data keys**, one per person or case (``core.DataKey`` rows), which encrypt the fields.

Every ciphertext is bound to where it belongs through AES-GCM associated data (model,
field, record id, data key id), so a value copied into another row or field fails to
decrypt instead of being read as someone else's. A missing key or a wrong key raises a
clear error; nothing ever returns garbage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ctip.home import HomeError, new_master_key, read_keyring, write_keyring

NONCE_BYTES = 12


class CryptoError(Exception):
    """Base class: the message says which key or value is the problem, never the plaintext."""


class KeyMissingError(CryptoError):
    pass


class DecryptionError(CryptoError):
    pass


class ShreddedError(CryptoError):
    pass


def aes_seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def aes_open(key: bytes, blob: bytes, aad: bytes, *, what: str) -> bytes:
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError):
        raise DecryptionError(
            f"{what} does not decrypt: wrong key, or the value was altered or moved"
        ) from None


@dataclass
class Keyring:
    """The node's master keys, loaded from the key ring file."""

    path: Path | None
    active: str
    keys: dict[str, bytes]
    index_key: bytes
    chain_key: bytes

    @classmethod
    def load(cls, path: str | Path) -> Keyring:
        try:
            ring = read_keyring(Path(path))
        except HomeError as exc:
            raise KeyMissingError(str(exc)) from None
        return cls(
            path=Path(path),
            active=ring["active"],
            keys={kid: _key_bytes(path, kid, value) for kid, value in ring["keys"].items()},
            index_key=_key_bytes(path, "index_key", ring["index_key"]),
            chain_key=_key_bytes(path, "chain_key", ring["chain_key"]),
        )

    def key(self, kid: str) -> bytes:
        try:
            return self.keys[kid]
        except KeyError:
            raise KeyMissingError(
                f"master key {kid!r} is not in the key ring {self.path}: "
                "restore it from the key backup"
            ) from None

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, str]:
        blob = aes_seal(self.key(self.active), data_key, aad)
        return self.active, base64.b64encode(blob).decode()

    def unwrap(self, kid: str, wrapped: str, aad: bytes) -> bytes:
        return aes_open(self.key(kid), base64.b64decode(wrapped), aad, what=f"data key under {kid}")

    def add_key(self) -> str:
        """Add a fresh master key, make it active and save the ring (old keys stay, for now)."""
        kid, value = new_master_key()
        self.keys[kid] = base64.b64decode(value)
        self.active = kid
        self.save()
        return kid

    def retire(self, kids: list[str]) -> None:
        for kid in kids:
            if kid != self.active:
                self.keys.pop(kid, None)
        self.save()

    def save(self) -> None:
        if self.path is None:
            raise KeyMissingError("this key ring has no file to save to")
        write_keyring(
            self.path,
            {
                "active": self.active,
                "keys": {kid: base64.b64encode(k).decode() for kid, k in self.keys.items()},
                "index_key": base64.b64encode(self.index_key).decode(),
                "chain_key": base64.b64encode(self.chain_key).decode(),
            },
        )


def _key_bytes(path, name: str, value: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        raise KeyMissingError(f"key {name!r} in {path} is not valid base64") from None
    if len(key) != 32:
        raise KeyMissingError(f"key {name!r} in {path} is not a 256-bit key")
    return key


_lock = threading.Lock()
_cache: dict[str, Keyring] = {}


def get_keyring() -> Keyring:
    """The key ring named by settings, loaded once per process."""
    from django.conf import settings

    path = settings.CTIP_KEYRING_FILE
    if not path:
        raise KeyMissingError("no key ring configured (set CTIP_HOME or CTIP_KEYRING_FILE)")
    with _lock:
        if path not in _cache:
            _cache[path] = Keyring.load(path)
        return _cache[path]


def reset_keyring_cache() -> None:
    with _lock:
        _cache.clear()


def normalise_for_index(value: str) -> str:
    """Case-, width- and space-insensitive form used before keyed hashing."""
    value = unicodedata.normalize("NFKC", value or "").casefold()
    return " ".join(value.split())


def index_token(value: str, purpose: str) -> str:
    """A keyed, non-reversible token for exact-match search on an encrypted value."""
    key = get_keyring().index_key
    message = f"{purpose}\x00{normalise_for_index(value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
