"""Two real nodes on loopback (``ctip init`` + ``ctip serve``, each with its own
SQLite database and keys), peered by fingerprint, exchanging messages both ways over HTTP and
by bundle file; the link going down, the sender killed with SIGKILL mid-delivery, and twenty
copies of one envelope at once (matrix #12, #13, #14, #15)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ctip.exchange.core import anchor_from_jwks, seal
from ctip.exchange.core.tests.forge import flip_byte
from ctip.exchange.keystore import keys_path, read_keys
from ctip.testing.nodes import (
    ctip,
    exchange_fingerprint,
    launch_node,
    node_env,
    peer_nodes,
    restart_node,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fingerprints(nodes) -> dict[str, str]:
    return {name: exchange_fingerprint(node.home) for name, node in nodes.items()}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("two-nodes")
    kh = launch_node(base, "KH")
    try:
        cn = launch_node(base, "CN")
    except BaseException:
        kh.stop()
        raise
    running = {"KH": kh, "CN": cn}
    try:
        peer_nodes(kh, cn)
        yield running
    finally:
        for node in running.values():
            node.stop()


def query(node, sql: str, params=()) -> list[tuple]:
    """Read a node's database directly (read-only): cheaper than a command per check."""
    uri = f"file:{node.home / 'db.sqlite3'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
        return db.execute(sql, params).fetchall()


def inbox_from(node, sender: str) -> list[tuple[int, str]]:
    """(seq, msg_id) of what ``node`` accepted from ``sender``, in the order it arrived."""
    rows = query(
        node,
        "SELECT i.seq, i.msg_id FROM exchange_inboxmessage i JOIN exchange_peer p "
        "ON p.id = i.peer_id WHERE p.node_id = ? ORDER BY i.received_at, i.rowid",
        (sender,),
    )
    return [(seq, str(uuid.UUID(msg_id))) for seq, msg_id in rows]


def outbox_status(node, msg_id: str) -> str:
    ((value,),) = query(
        node, "SELECT status FROM exchange_outboxmessage WHERE id = ?", (uuid.UUID(msg_id).hex,)
    )
    return value


def send(node, to: str, nonce: str) -> str:
    out = ctip(
        "exchange",
        "send",
        "--home",
        str(node.home),
        "--to",
        to,
        "--type",
        "ping",
        "--body",
        json.dumps({"nonce": nonce}),
    ).stdout
    return out.rsplit("(", 1)[1].rstrip(")\n")


def post(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - loopback test node
        f"{url}/exchange/inbox", data=token.encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def seal_as(sender, receiver, seq: int) -> str:
    """An envelope genuinely from ``sender`` (its keys read from its home) to ``receiver``."""
    keys = read_keys(keys_path(sender.home), sender.node)
    with urllib.request.urlopen(f"{receiver.url}/exchange/keys", timeout=10) as response:  # noqa: S310
        anchor = anchor_from_jwks(json.loads(response.read()))
    return seal(
        msg_type="ping",
        body={"nonce": f"{seq:016x}"},
        seq=seq,
        sender_keys=keys,
        receiver_public_keys=anchor,
        now=int(time.time()),
    )


def test_pinning_refuses_a_wrong_fingerprint(nodes, fingerprints):
    kh, cn = nodes["KH"], nodes["CN"]
    wrong = fingerprints["KH"]  # KH's own, not CN's
    result = ctip(
        "peer", "add", "--home", str(kh.home), "--url", cn.url, "--fingerprint", wrong, check=False
    )
    assert result.returncode == 1 and "fingerprint mismatch" in result.stderr
    state = json.loads(ctip("exchange", "status", "--json", "--home", str(kh.home)).stdout)
    assert state["peers"] == [{"node": "CN", "url": cn.url, "fingerprint": fingerprints["CN"]}]


def test_http_both_ways_with_ping_and_relay(nodes):
    kh, cn = nodes["KH"], nodes["CN"]
    for here, there in (("KH", "CN"), ("CN", "KH")):
        result = ctip("exchange", "ping", "--home", str(nodes[here].home), "--to", there)
        assert f"{there} answered with a signed receipt in" in result.stdout
    first = send(kh, "CN", "aaaa000000000001")
    second = send(kh, "CN", "aaaa000000000002")
    relayed = ctip("exchange", "relay", "--home", str(kh.home)).stdout
    assert "CN: 2 delivered" in relayed
    received = [msg_id for _, msg_id in inbox_from(cn, "KH")]
    assert received[-2:] == [first, second]
    assert outbox_status(kh, second) == "acknowledged"
    back = send(cn, "KH", "bbbb000000000001")
    ctip("exchange", "relay", "--home", str(cn.home))
    assert back in [msg_id for _, msg_id in inbox_from(kh, "CN")]
    for node in (kh, cn):
        assert (
            "message log intact" in ctip("exchange", "verify-log", "--home", str(node.home)).stdout
        )


def test_bundle_files_both_ways_and_a_truncated_one(nodes, tmp_path):
    kh, cn = nodes["KH"], nodes["CN"]
    for sender, receiver, count in ((kh, cn, 2), (cn, kh, 1)):
        ids = [send(sender, receiver.node, f"cccc{n:012x}") for n in range(count)]
        bundle, receipts = tmp_path / f"{sender.node}.bundle", tmp_path / f"{sender.node}.rcpt"
        out = ctip(
            "exchange", "export", "--home", str(sender.home), "--to", receiver.node, str(bundle)
        )
        assert f"Wrote {count} envelopes for {receiver.node}" in out.stdout
        if sender is kh:
            before = inbox_from(receiver, sender.node)
            cut = tmp_path / "cut.bundle"
            cut.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
            refused = ctip(
                "exchange", "import", "--home", str(receiver.home), str(cut), check=False
            )
            assert refused.returncode == 1 and "bundle_truncated" in refused.stderr
            assert inbox_from(receiver, sender.node) == before
        imported = ctip(
            "exchange",
            "import",
            "--home",
            str(receiver.home),
            str(bundle),
            "--receipts",
            str(receipts),
        )
        assert f"{count} accepted" in imported.stdout
        back = ctip("exchange", "import", "--home", str(sender.home), str(receipts))
        assert f"{count} acknowledged" in back.stdout
        assert [outbox_status(sender, msg_id) for msg_id in ids] == ["acknowledged"] * count
        assert set(ids) <= {msg_id for _, msg_id in inbox_from(receiver, sender.node)}
    again = ctip("exchange", "import", "--home", str(cn.home), str(tmp_path / "KH.bundle"))
    assert "0 accepted, 2 already had" in again.stdout


def test_tampered_envelope_and_twenty_copies_at_once_over_http(nodes):
    kh, cn = nodes["KH"], nodes["CN"]
    before = len(inbox_from(cn, "KH"))
    token = seal_as(kh, cn, seq=900)
    code, body = post(cn.url, flip_byte(token, 3, 3))
    assert code == 400 and body["reason_code"] == "decrypt_failed" and body["receipt"]
    assert len(inbox_from(cn, "KH")) == before
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: post(cn.url, token), range(20)))
    assert all(code == 200 for code, _ in answers), answers
    assert sorted(body["status"] for _, body in answers) == ["accepted"] + ["duplicate"] * 19
    assert len({body["receipt"] for _, body in answers}) == 1  # the original receipt, 20 times
    assert len(inbox_from(cn, "KH")) == before + 1


def test_peer_down_then_back_everything_once_in_order(nodes):
    kh, cn = nodes["KH"], nodes["CN"]
    cn.stop()
    ids = [send(kh, "CN", f"dddd{n:012x}") for n in range(3)]
    down = ctip("exchange", "relay", "--home", str(kh.home)).stdout
    assert "stopped: link_down" in down and "3 waiting" in down
    nodes["CN"] = cn = restart_node(cn)
    ctip("exchange", "relay", "--home", str(kh.home), "--wait", "60")
    arrived = [(seq, msg_id) for seq, msg_id in inbox_from(cn, "KH") if msg_id in ids]
    assert [msg_id for _, msg_id in arrived] == ids  # once each, in order
    assert [seq for seq, _ in arrived] == sorted(seq for seq, _ in arrived)


class HoldingProxy:
    """Between KH and CN: lets the test SIGKILL the sender at a chosen point of a delivery."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.mode = "pass"  # pass | hold (before CN) | forward_hold (after CN committed)
        self.arrived = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._relay(None)

            def do_POST(self) -> None:  # noqa: N802
                self._relay(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _relay(self, data) -> None:
                mode = proxy.mode
                if mode == "hold":
                    proxy.arrived.set()
                    time.sleep(30)
                    return
                request = urllib.request.Request(  # noqa: S310 - loopback
                    proxy.target + self.path, data=data, method=self.command
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                        code, body = response.status, response.read()
                except urllib.error.HTTPError as exc:
                    code, body = exc.code, exc.read()
                if mode == "forward_hold":
                    proxy.arrived.set()
                    time.sleep(30)
                    return
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False  # held connections must not delay the teardown
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("when", ["hold", "forward_hold"])
def test_sender_killed_mid_delivery_loses_and_doubles_nothing(nodes, fingerprints, when):
    """SIGKILL while the request is in flight: before CN saw it (#13), or after CN committed
    but before the answer reached the sender (#14). After a restart: exactly one copy."""
    kh, cn = nodes["KH"], nodes["CN"]
    proxy = HoldingProxy(cn.url)
    fingerprint = fingerprints["CN"]
    try:
        ctip(
            "peer", "add", "--home", str(kh.home), "--url", proxy.url, "--fingerprint", fingerprint
        )
        proxy.mode = when
        msg_id = send(kh, "CN", "eeee000000000001" if when == "hold" else "eeee000000000002")
        relay = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "ctip", "exchange", "relay", "--home", str(kh.home)],
            env=node_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert proxy.arrived.wait(60), "the relay never sent"
        relay.send_signal(signal.SIGKILL)
        relay.wait(10)
        assert outbox_status(kh, msg_id) == "sent"  # attempt recorded before sending
        copies = [m for _, m in inbox_from(cn, "KH") if m == msg_id]
        assert len(copies) == (1 if when == "forward_hold" else 0)

        proxy.mode = "pass"
        ctip("exchange", "relay", "--home", str(kh.home), "--wait", "60")
        assert outbox_status(kh, msg_id) == "acknowledged"
        assert [m for _, m in inbox_from(cn, "KH")].count(msg_id) == 1
    finally:
        ctip("peer", "add", "--home", str(kh.home), "--url", cn.url, "--fingerprint", fingerprint)
        proxy.close()


def test_the_background_worker_delivers(nodes):
    kh, cn = nodes["KH"], nodes["CN"]
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "ctip", "run_huey", "--home", str(kh.home)],
        env=node_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        msg_id = send(kh, "CN", "ffff000000000001")
        deadline = time.monotonic() + 60
        while msg_id not in [m for _, m in inbox_from(cn, "KH")]:
            assert time.monotonic() < deadline, "the worker did not deliver"
            time.sleep(0.5)
        while outbox_status(kh, msg_id) != "acknowledged":
            assert time.monotonic() < deadline, "no receipt recorded"
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
