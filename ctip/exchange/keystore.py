"""The node's exchange keys in its home folder (no Django import: ``ctip init`` uses it).

``exchange_keys.json`` holds the node's private Ed25519 signing and X25519 encryption
keys (the ring format of :func:`ctip.exchange.core.dump_private_keys`), written
atomically with mode 0600, like ``keys.json``. Rotation adds keys and shortens the
old ones' windows; it never deletes a key, so archived messages keep verifying.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from ctip.exchange.core import (
    NodeKeys,
    dump_private_keys,
    fingerprint,
    generate_key,
    generate_node_keys,
    load_private_keys,
)

KEYS_FILE = "exchange_keys.json"
#: How long a new key pair may be used.
KEY_LIFETIME = 2 * 365 * 86_400
#: Back-date a new key's start a little, so a peer whose clock is behind accepts it at once.
START_SLACK = 300
#: After a rotation the old keys stay valid this long, so messages in flight still verify.
DEFAULT_OVERLAP = 14 * 86_400


class KeyStoreError(Exception):
    """The exchange key file is missing, unreadable or belongs to another node (one line)."""


def keys_path(home: str | os.PathLike[str]) -> Path:
    return Path(home) / KEYS_FILE


def write_keys(path: Path, keys: NodeKeys) -> None:
    """Write atomically with mode 0600: a crash leaves the old file or the new one."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(dump_private_keys(keys))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_keys(path: Path, node_id: str | None = None) -> NodeKeys:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyStoreError(
            f"{path} is missing: create the exchange keys with 'ctip exchange keygen --home DIR'"
        ) from None
    except OSError as exc:
        raise KeyStoreError(f"{path} is not readable ({exc.__class__.__name__})") from None
    try:
        keys = load_private_keys(text)
    except ValueError as exc:
        raise KeyStoreError(f"{path} is not a valid exchange key ring: {exc}") from None
    if node_id is not None and keys.node_id != node_id:
        raise KeyStoreError(f"{path} holds the keys of node {keys.node_id}, not {node_id}")
    return keys


def create_keys(home: str | os.PathLike[str], node_id: str, *, now: int | None = None) -> NodeKeys:
    """Make the node's first key pair. Refuses to overwrite: peers have pinned the old one."""
    path = keys_path(home)
    if path.exists():
        raise KeyStoreError(f"{path} already exists (refusing to replace pinned keys)")
    now = int(time.time()) if now is None else now
    keys = generate_node_keys(node_id, not_before=now - START_SLACK, not_after=now + KEY_LIFETIME)
    write_keys(path, keys)
    return keys


def rotated(keys: NodeKeys, *, now: int, overlap: int = DEFAULT_OVERLAP) -> NodeKeys:
    """A new signing and encryption key from now on; the current ones end after ``overlap``."""
    if overlap < 0:
        raise ValueError("overlap must be >= 0")
    ending = now + overlap
    kept = tuple(
        replace(entry, not_after=max(entry.not_before + 1, min(entry.not_after, ending)))
        for entry in keys.keys
    )
    fresh = (
        generate_key("sig", not_before=now - START_SLACK, not_after=now + KEY_LIFETIME),
        generate_key("enc", not_before=now - START_SLACK, not_after=now + KEY_LIFETIME),
    )
    return NodeKeys(keys.node_id, (*kept, *fresh))


def describe(keys: NodeKeys) -> str:
    return f"node {keys.node_id}, exchange key fingerprint {fingerprint(keys.public())}"
