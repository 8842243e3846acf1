"""A stand-in for the CN node on loopback: the outside world for the KH node under test.

It runs the real envelope core (not our Django services) behind a real HTTP server, and
can be switched off, made to refuse, or made to lose its answer after processing.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ctip.exchange.core import (
    EnvelopeError,
    NodeKeys,
    PeerAnchor,
    VerifiedMessage,
    digest,
    make_receipt,
    open_envelope,
    public_jwks,
)


class FakePeer:
    def __init__(self, keys: NodeKeys, sender_anchor: PeerAnchor) -> None:
        self.keys = keys
        self.sender_anchor = sender_anchor
        self.received: list[VerifiedMessage] = []  # processed, once each, in arrival order
        self.receipts: dict[str, str] = {}  # msg_id -> the receipt first given
        self.requests = 0
        self.refuse_with: str | None = None  # sign a negative receipt with this code
        self.lose_answer = False  # process, then drop the connection without answering
        self.forge_receipt_with: NodeKeys | None = None  # sign receipts with the wrong keys
        self.clock_offset = 0
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    # --- the inbox, as the real core would run it --------------------------------------------
    def handle(self, token: bytes) -> tuple[int, dict]:
        now = int(time.time()) + self.clock_offset
        with self.lock:
            self.requests += 1
            signer = self.forge_receipt_with or self.keys
            try:
                message = open_envelope(
                    token,
                    receiver_keys=self.keys,
                    sender_anchor=self.sender_anchor,
                    expected_to=self.keys.node_id,
                    now=now,
                )
                if self.refuse_with:
                    raise _Refusal(self.refuse_with)
            except (EnvelopeError, _Refusal) as exc:
                receipt = make_receipt(
                    envelope_digest=digest(token),
                    msg_id=None,
                    status="rejected",
                    reason_code=exc.code,
                    signer_keys=signer,
                    now=now,
                )
                return 400, {"status": "rejected", "reason_code": exc.code, "receipt": receipt}
            if message.msg_id in self.receipts:
                return 200, {"status": "duplicate", "receipt": self.receipts[message.msg_id]}
            receipt = make_receipt(
                envelope_digest=message.digest,
                msg_id=message.msg_id,
                status="accepted",
                reason_code=None,
                signer_keys=signer,
                now=now,
            )
            self.received.append(message)
            self.receipts[message.msg_id] = receipt
            return 200, {"status": "accepted", "receipt": receipt}

    # --- the server ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path != "/exchange/keys":
                    self.send_error(404)
                    return
                self._json(200, public_jwks(peer.keys.public()))

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                status, body = peer.handle(self.rfile.read(length))
                if peer.lose_answer:
                    self.close_connection = True
                    self.connection.close()
                    return
                self._json(status, body)

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def seqs(self) -> list[int]:
        return [message.seq for message in self.received]


class _Refusal(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
