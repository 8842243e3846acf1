"""A node's home folder: its configuration, secrets and (by default) its SQLite database.

Pure Python, no Django import: the command line uses it before Django is set up, so that
a missing or broken home gives one clear line instead of a traceback.

Layout of a home::

    node.json      node id, secret key, database URL (optional), created-at
    keys.json      the data-encryption key ring (master keys that wrap per-record keys)
    exchange_keys.json  the node's private exchange keys (Ed25519 signing, X25519
                   encryption), mode 0600; see ``ctip.exchange.keystore``
    db.sqlite3     the database, unless node.json names a DATABASE_URL
    static/        collected static files
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

NODES = {"KH": "Cambodia", "CN": "China"}
CONFIG_FILE = "node.json"
KEYS_FILE = "keys.json"


class HomeError(Exception):
    """A node home is missing, unreadable or inconsistent. The message is one line for people."""


@dataclass(frozen=True)
class NodeHome:
    path: Path
    node_id: str
    secret_key: str
    database_url: str | None

    @property
    def keys_path(self) -> Path:
        return self.path / KEYS_FILE

    @property
    def sqlite_path(self) -> Path:
        return self.path / "db.sqlite3"


def check_node_id(node_id: str) -> str:
    node_id = (node_id or "").strip().upper()
    if node_id not in NODES:
        raise HomeError(f"unknown node id {node_id!r}: expected one of {', '.join(sorted(NODES))}")
    return node_id


def new_master_key() -> tuple[str, str]:
    """Return (key id, base64 key) for a fresh 256-bit AES key."""
    kid = "k" + datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)
    return kid, base64.b64encode(secrets.token_bytes(32)).decode()


def create_home(path: Path, node_id: str, database_url: str | None = None) -> NodeHome:
    """Create a new home. Refuses to overwrite one that exists (keys would be lost)."""
    node_id = check_node_id(node_id)
    path = Path(path)
    if (path / CONFIG_FILE).exists():
        raise HomeError(f"a node home already exists at {path} (refusing to overwrite its keys)")
    path.mkdir(parents=True, exist_ok=True)
    (path / "static").mkdir(exist_ok=True)
    config = {
        "node_id": node_id,
        "secret_key": secrets.token_urlsafe(50),
        "database_url": database_url,
        "created_at": datetime.now(UTC).isoformat(),
    }
    kid, key = new_master_key()
    ring = {
        "active": kid,
        "keys": {kid: key},
        # Stable keys for keyed hashes: blind search indexes and the audit chain's HMAC.
        "index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "chain_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    _write_private(path / CONFIG_FILE, config)
    _write_private(path / KEYS_FILE, ring)
    return load_home(path)


def load_home(path: str | os.PathLike[str]) -> NodeHome:
    path = Path(path)
    if not path.is_dir():
        raise HomeError(f"node home {path} does not exist (create it with 'ctip init')")
    config = _read_json(path / CONFIG_FILE)
    for name in ("node_id", "secret_key"):
        if not config.get(name):
            raise HomeError(f"{path / CONFIG_FILE} has no {name!r}")
    if not (path / KEYS_FILE).exists():
        raise HomeError(f"{path / KEYS_FILE} is missing: without it no personal data can be read")
    return NodeHome(
        path=path.resolve(),
        node_id=check_node_id(config["node_id"]),
        secret_key=config["secret_key"],
        database_url=config.get("database_url") or None,
    )


def read_keyring(path: Path) -> dict:
    ring = _read_json(path)
    if not isinstance(ring.get("keys"), dict) or ring.get("active") not in ring["keys"]:
        raise HomeError(f"{path} is not a valid key ring (needs 'active' naming one of 'keys')")
    for name in ("index_key", "chain_key"):
        if not ring.get(name):
            raise HomeError(f"{path} has no {name!r}")
    return ring


def write_keyring(path: Path, ring: dict) -> None:
    """Write the ring atomically: a crash leaves the old or the new file, never half of one."""
    _write_private(path, ring)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HomeError(f"{path} is missing") from None
    except PermissionError:
        raise HomeError(f"{path} is not readable (permission denied)") from None
    except (OSError, ValueError) as exc:
        raise HomeError(f"{path} is unreadable: {exc.__class__.__name__}") from None
    if not isinstance(data, dict):
        raise HomeError(f"{path} does not hold a JSON object")
    return data


def _write_private(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
