"""This node's exchange identity: its private keys, read from the key file and re-read
when the file changes (rotation)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ctip.exchange import keystore
from ctip.exchange.conf import keys_file
from ctip.exchange.core import NodeKeys, fingerprint
from ctip.exchange.errors import KeysUnavailable

_keys_cache: dict[str, Any] = {}


def our_keys() -> NodeKeys:
    """This node's private exchange keys, re-read when the file changes (rotation)."""
    try:
        path = keys_file()
        stat = path.stat()
    except keystore.KeyStoreError as exc:
        raise KeysUnavailable(str(exc)) from None
    except FileNotFoundError:
        raise KeysUnavailable(
            f"{keys_file()} is missing: create the exchange keys with "
            "'ctip exchange keygen --home DIR'"
        ) from None
    stamp = (str(path), stat.st_mtime_ns, stat.st_size)
    if _keys_cache.get("stamp") != stamp:
        try:
            keys = keystore.read_keys(path, settings.CTIP_NODE)
        except keystore.KeyStoreError as exc:
            raise KeysUnavailable(str(exc)) from None
        _keys_cache.update(stamp=stamp, keys=keys)
    return _keys_cache["keys"]


def own_fingerprint() -> str:
    return fingerprint(our_keys().public())


def valid_kid(keys: NodeKeys, kid: str, now: int) -> str | None:
    """``kid`` if it names one of our signing keys valid at ``now``, else None (newest)."""
    if not kid:
        return None
    entry = keys.get(kid, "sig")
    return kid if entry is not None and entry.is_valid_at(now) else None
