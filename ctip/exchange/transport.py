"""HTTP to the peer node: POST an envelope to its inbox, GET its public keys.

Peers are contacted directly: proxies from the environment are ignored and redirects are
not followed, so an envelope goes where the operator pinned it and nowhere else. TLS is
configured in deployment (the demo uses loopback HTTP); the envelope is secure either way.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ctip.exchange.core import MAX_TOKEN_BYTES

INBOX_PATH = "/exchange/inbox"
KEYS_PATH = "/exchange/keys"
MAX_RESPONSE_BYTES = 64 * 1024  # a receipt or a JWKS is a few kilobytes
CONTENT_TYPE = "application/jose"


class TransportError(Exception):
    """The peer could not be reached or answered nonsense. ``code`` is a short reason."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        return None


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def check_url(url: str) -> str:
    """A peer's base URL: http(s), a host, no query or fragment. Returns it without '/'."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"peer address {url!r} must be an http:// or https:// URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("peer address must not carry credentials, a query or a fragment")
    return url.rstrip("/")


@dataclass(frozen=True)
class InboxAnswer:
    http_status: int
    status: str
    reason_code: str | None
    receipt: str | None


def _read_json(response: Any) -> dict[str, Any]:
    raw = response.read(MAX_RESPONSE_BYTES + 1)
    if len(raw) > MAX_RESPONSE_BYTES:
        raise TransportError("bad_answer", "the answer is too large")
    try:
        data = json.loads(raw)
    except ValueError:
        raise TransportError("bad_answer", "the answer is not JSON") from None
    if not isinstance(data, dict):
        raise TransportError("bad_answer", "the answer is not a JSON object")
    return data


def post_envelope(base_url: str, token: str, *, timeout: float) -> InboxAnswer:
    """Deliver one token. Raises TransportError when there is no usable answer."""
    url = check_url(base_url) + INBOX_PATH
    if len(token) > MAX_TOKEN_BYTES:
        raise TransportError("too_large", "the token exceeds the size cap")
    request = urllib.request.Request(  # noqa: S310 - scheme checked in check_url
        url, data=token.encode("ascii"), method="POST", headers={"Content-Type": CONTENT_TYPE}
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            status, data = response.status, _read_json(response)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code in {404, 405, 408, 429}:
            raise TransportError("peer_error", f"HTTP {exc.code} from {url}") from None
        status, data = exc.code, _read_json(exc)
    except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransportError("link_down", f"cannot reach {url} ({reason})") from None
    receipt = data.get("receipt")
    answer = InboxAnswer(
        http_status=status,
        status=str(data.get("status", "")),
        reason_code=data.get("reason_code") if isinstance(data.get("reason_code"), str) else None,
        receipt=receipt if isinstance(receipt, str) else None,
    )
    if answer.receipt is None and answer.reason_code is None:
        raise TransportError("bad_answer", f"HTTP {status} without a receipt from {url}")
    return answer


def fetch_jwks(base_url: str, *, timeout: float = 10) -> dict[str, Any]:
    """The peer's published public keys (compared by fingerprint before anything trusts them)."""
    url = check_url(base_url) + KEYS_PATH
    request = urllib.request.Request(url, method="GET")  # noqa: S310 - scheme checked
    try:
        with _opener.open(request, timeout=timeout) as response:
            return _read_json(response)
    except urllib.error.HTTPError as exc:
        raise TransportError("peer_error", f"HTTP {exc.code} from {url}") from None
    except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransportError("link_down", f"cannot reach {url} ({reason})") from None
