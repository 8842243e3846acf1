"""Hash-chain arithmetic, shared by the audit log and (later) the exchange message log."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

GENESIS = "0" * 64


def canonical(value: object) -> bytes:
    def default(obj: object) -> str:
        if isinstance(obj, datetime):
            return obj.isoformat()
        raise TypeError(f"cannot put {type(obj).__name__} into a chained row")

    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=default
    ).encode()


def link(key: bytes, prev_hash: str, content: dict) -> str:
    return hmac.new(
        key, prev_hash.encode() + b"\n" + canonical(content), hashlib.sha256
    ).hexdigest()
