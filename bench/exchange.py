"""Exchange benchmark: envelopes per second between two real nodes, as a ratio of the raw
JOSE rate on the same machine in the same run.

Baseline: joserfc alone signs (JWS, Ed25519), encrypts (JWE, ECDH-ES+A256KW over X25519,
A256GCM), decrypts and verifies one message of the same size in a loop: round trips/s.
Our envelope core (the same four operations plus every header, claim and key-window check)
is measured the same way, to show what the checks cost.

End to end: two nodes (``ctip init`` + ``serve``, SQLite, loopback HTTP, peered by
fingerprint). KH queues N messages (each sealed and logged), then the relay delivers them
in order to CN, which decrypts, verifies, deduplicates, stores, logs and signs a receipt,
which KH verifies and records. The same N messages then travel again as a bundle file
(export, import with receipts, receipts imported back). Each figure: envelopes/s, and the
ratio to the raw joserfc round-trip rate.

Settings (environment): ``BENCH_EXCHANGE_MESSAGES`` (200), ``BENCH_EXCHANGE_SECONDS`` (time
for each in-process loop, 3). Results: ``bench/results/exchange.json``. A benchmark, not a
test: it asserts nothing about speed.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "exchange.json"
BODY = {"nonce": "0" * 16, "padding": "x" * 900}  # about one kilobyte, like a case summary


def _rate(step, seconds: float) -> tuple[float, int]:
    """Run ``step`` back to back for ``seconds``; return (per second, count)."""
    step()  # warm-up
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        step()
        count += 1
    return count / (time.perf_counter() - started), count


def raw_joserfc_rate(seconds: float) -> tuple[float, int]:
    from joserfc import jwe, jws
    from joserfc.jwe import JWERegistry
    from joserfc.jwk import OKPKey
    from joserfc.jws import JWSRegistry

    sig, enc = OKPKey.generate_key("Ed25519"), OKPKey.generate_key("X25519")
    sig_public = OKPKey.import_key(sig.as_dict(private=False))
    enc_public = OKPKey.import_key(enc.as_dict(private=False))
    jws_registry = JWSRegistry(algorithms=["Ed25519"])
    jwe_registry = JWERegistry(algorithms=["ECDH-ES+A256KW", "A256GCM"])
    payload = json.dumps(BODY).encode()

    def step() -> None:
        signed = jws.serialize_compact({"alg": "Ed25519"}, payload, sig, registry=jws_registry)
        token = jwe.encrypt_compact(
            {"alg": "ECDH-ES+A256KW", "enc": "A256GCM"}, signed, enc_public, registry=jwe_registry
        )
        inner = jwe.decrypt_compact(token, enc, registry=jwe_registry).plaintext
        assert jws.deserialize_compact(inner, sig_public, registry=jws_registry).payload == payload

    return _rate(step, seconds)


def core_rate(seconds: float) -> tuple[float, int]:
    from ctip.exchange.core import generate_node_keys, open_envelope, seal

    now = int(time.time())
    kh = generate_node_keys("KH", not_before=now - 60, not_after=now + 86_400)
    cn = generate_node_keys("CN", not_before=now - 60, not_after=now + 86_400)
    cn_public, kh_public = cn.public(), kh.public()

    def step() -> None:
        token = seal(
            msg_type="ping",
            body=BODY,
            seq=1,
            sender_keys=kh,
            receiver_public_keys=cn_public,
            now=now,
        )
        open_envelope(token, receiver_keys=cn, sender_anchor=kh_public, expected_to="CN", now=now)

    return _rate(step, seconds)


# --- Two real nodes -------------------------------------------------------------------------

QUEUE = """
import json, time
from ctip.exchange import services
t = time.perf_counter()
for i in range({n}):
    services.message_send(actor=None, to="CN", msg_type="bench.load",
                          body={{"nonce": "%016x" % i, "padding": "x" * 900}}, enqueue=False)
print(json.dumps({{"seconds": time.perf_counter() - t}}))
"""
RELAY = """
import json, time
from ctip.exchange import services
from ctip.exchange.models import Peer
t = time.perf_counter()
report = services.outbox_relay(peer=Peer.objects.get(node_id="CN"), limit={n} + 10)
print(json.dumps({{"seconds": time.perf_counter() - t, "delivered": len(report.delivered),
                  "waiting": report.waiting, "stopped_by": report.stopped_by}}))
"""
EXPORT = """
import json, time
from pathlib import Path
from ctip.exchange import services
t = time.perf_counter()
out = services.bundle_export(actor=None, to="CN")
Path({path!r}).write_bytes(out.data)
print(json.dumps({{"seconds": time.perf_counter() - t, "count": out.count}}))
"""
IMPORT = """
import json, time
from pathlib import Path
from ctip.exchange import services
data = Path({path!r}).read_bytes()
t = time.perf_counter()
result = services.bundle_import(actor=None, data=data)
if result.receipts is not None:
    Path({receipts!r}).write_bytes(result.receipts.data)
print(json.dumps({{"seconds": time.perf_counter() - t, "accepted": result.accepted,
                  "duplicates": result.duplicates, "acknowledged": result.acknowledged}}))
"""
# The benchmark's own message type, registered in the node processes it runs in (a body
# like BODY; no personal data, so no consent check).
REGISTER = """
from ctip.exchange import registry
registry.register_message_type("bench.load", 1, {"type": "object"}, lambda m: None, False)
"""


def _shell(home: Path, code: str) -> dict:
    from ctip.testing.nodes import node_env

    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "ctip", "shell", "--home", str(home), "-c", REGISTER + code],
        capture_output=True,
        text=True,
        env=node_env(),
        check=False,
        timeout=1800,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench step failed in {home.name}: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def two_nodes(messages: int) -> dict:
    from ctip.testing.nodes import launch_node, peer_nodes

    with tempfile.TemporaryDirectory(prefix="ctip-bench-exchange-") as folder:
        base = Path(folder)
        kh = launch_node(base, "KH")
        cn = None
        try:
            cn = launch_node(base, "CN")
            peer_nodes(kh, cn)
            # The receiving node must know the benchmark's message type too: serve CN with it.
            cn.stop()
            cn = _serve_with_bench_type(cn)
            queued = _shell(kh.home, QUEUE.format(n=messages))
            relayed = _shell(kh.home, RELAY.format(n=messages))
            # A second batch of N travels by bundle file (the first was acknowledged).
            queued_again = _shell(kh.home, QUEUE.format(n=messages))
            bundle, receipts = base / "kh.bundle", base / "cn.receipts"
            exported = _shell(kh.home, EXPORT.format(path=str(bundle)))
            imported = _shell(cn.home, IMPORT.format(path=str(bundle), receipts=str(receipts)))
            back = _shell(kh.home, IMPORT.format(path=str(receipts), receipts=""))
        finally:
            kh.stop()
            if cn is not None:
                cn.stop()
    if relayed["delivered"] != messages:
        raise RuntimeError(f"relay delivered {relayed['delivered']} of {messages}: {relayed}")
    if (exported["count"], imported["accepted"], back["acknowledged"]) != (messages,) * 3:
        raise RuntimeError(f"bundle round trip incomplete: {exported} {imported} {back}")
    bundle_seconds = (
        queued_again["seconds"] + exported["seconds"] + imported["seconds"] + back["seconds"]
    )
    return {
        "messages": messages,
        "queue_seconds": queued["seconds"],
        "relay_seconds": relayed["seconds"],
        "http_envelopes_per_second": messages / (queued["seconds"] + relayed["seconds"]),
        "http_delivery_only_per_second": messages / relayed["seconds"],
        "bundle_seconds": {
            "queue": queued_again["seconds"],
            "export": exported["seconds"],
            "import": imported["seconds"],
            "receipts": back["seconds"],
        },
        "bundle_envelopes_per_second": messages / bundle_seconds,
    }


def _serve_with_bench_type(node):
    """Serve a node whose process also registers the benchmark's message type."""
    from ctip.testing.nodes import RunningNode, node_env, wait_healthy

    port = node.url.rsplit(":", 1)[1]
    code = (
        REGISTER
        + "import sys\nfrom ctip.cli import main\n"
        + f"sys.exit(main(['serve', '--home', {str(node.home)!r}, '--port', '{port}']))\n"
    )
    process = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code],
        env=node_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    wait_healthy(node.url, process, timeout=90)
    return RunningNode(node.node, node.home, node.url, process, node.credentials)


def run() -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctip.settings")
    messages = int(os.environ.get("BENCH_EXCHANGE_MESSAGES", "200"))
    seconds = float(os.environ.get("BENCH_EXCHANGE_SECONDS", "3"))
    raw, raw_count = raw_joserfc_rate(seconds)
    core, core_count = core_rate(seconds)
    end_to_end = two_nodes(messages)
    # The raw rate again at the end: the machine's speed may drift during the run.
    raw_after, _ = raw_joserfc_rate(seconds)
    baseline = (raw + raw_after) / 2
    result = {
        "benchmark": "exchange",
        "run_id": secrets.token_hex(4),
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.machine(),
            "cores": os.cpu_count(),
        },
        "baseline_raw_joserfc_round_trips_per_second": baseline,
        "raw_samples": {"before": raw, "after": raw_after, "loops": raw_count},
        "core_seal_open_per_second": core,
        "core_loops": core_count,
        "ratios_to_raw": {
            "core_seal_open": core / baseline,
            "http_end_to_end": end_to_end["http_envelopes_per_second"] / baseline,
            "http_delivery_only": end_to_end["http_delivery_only_per_second"] / baseline,
            "bundle_end_to_end": end_to_end["bundle_envelopes_per_second"] / baseline,
        },
        **end_to_end,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    ratios = result["ratios_to_raw"]
    print(  # noqa: T201 - a benchmark reports on stdout
        "exchange: raw joserfc sign+encrypt+decrypt+verify "
        f"{baseline:.0f}/s (baseline = 1.00)\n"
        f"  envelope core seal+open        {core:8.0f}/s  ratio {ratios['core_seal_open']:.3f}\n"
        f"  two nodes over HTTP, end to end {end_to_end['http_envelopes_per_second']:8.1f}/s"
        f"  ratio {ratios['http_end_to_end']:.3f}  ({messages} messages, in order)\n"
        f"  two nodes by bundle file       {end_to_end['bundle_envelopes_per_second']:8.1f}/s"
        f"  ratio {ratios['bundle_end_to_end']:.3f}\n"
        f"  results: {RESULTS.relative_to(ROOT)}"
    )
    return result


if __name__ == "__main__":
    run()
