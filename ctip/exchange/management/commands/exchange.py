"""``ctip exchange ...``: send, relay, bundle files, link check, keys and the message log."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ctip.exchange import keystore, services
from ctip.exchange.conf import keys_file
from ctip.exchange.core import EnvelopeError, fingerprint
from ctip.exchange.errors import ExchangeError
from ctip.exchange.models import InboxMessage, LogEntry, OutboxMessage, Peer


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Command(BaseCommand):
    help = (
        "Exchange with the other node: send, relay, export/import bundle files, ping, "
        "rotate-keys, verify-log, fingerprint, keygen, status."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        send = sub.add_parser("send", help="queue a message for a peer")
        send.add_argument("--to", required=True)
        send.add_argument("--type", required=True, dest="msg_type")
        send.add_argument("--schema-version", type=int, default=1)
        send.add_argument("--body", default="{}", help="the body as JSON")
        send.add_argument("--body-file", help="read the body (JSON) from this file")
        send.add_argument("--case-ref", default="")
        send.add_argument("--purpose", default="")
        send.add_argument("--legal-basis", default="")
        send.add_argument("--consent-ref", default="")
        send.add_argument("--in-reply-to")
        send.add_argument("--now", action="store_true", help="deliver now instead of queueing")

        export = sub.add_parser("export", help="write waiting messages to a bundle file")
        export.add_argument("--to", required=True)
        export.add_argument("file")

        imp = sub.add_parser("import", help="process a bundle file (envelopes or receipts)")
        imp.add_argument("file")
        imp.add_argument("--receipts", help="where to write the receipts file")

        ping = sub.add_parser("ping", help="check the link: signed ping, signed receipt")
        ping.add_argument("--to", required=True)

        rotate = sub.add_parser("rotate-keys", help="new signing and encryption keys")
        rotate.add_argument("--overlap-days", type=float, default=14)

        sub.add_parser("verify-log", help="check the message log's chain and signatures")

        relay = sub.add_parser("relay", help="deliver waiting messages now")
        relay.add_argument("--to", help="only this peer")
        relay.add_argument("--force", action="store_true", help="ignore the backoff schedule")
        relay.add_argument(
            "--wait", type=float, default=0, help="keep trying up to this many seconds"
        )

        sub.add_parser("fingerprint", help="this node's exchange key fingerprint")
        sub.add_parser("keygen", help="create this node's exchange keys if they are missing")
        status = sub.add_parser("status", help="peers, outbox and inbox at a glance")
        status.add_argument("--json", action="store_true")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action.replace('-', '_')}")(**options)
        except ExchangeError as exc:
            raise CommandError(str(exc), returncode=1) from None
        except EnvelopeError as exc:
            raise CommandError(f"refused ({exc.code}): {exc}", returncode=1) from None

    # --- sending ------------------------------------------------------------------------------
    def do_send(self, *, to, msg_type, schema_version, body, body_file, now, **options):
        text = Path(body_file).read_text(encoding="utf-8") if body_file else body
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"the body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise CommandError("the body must be a JSON object")
        msg = services.message_send(
            actor=None,
            to=to,
            msg_type=msg_type,
            body=data,
            schema_version=schema_version,
            case_ref=options["case_ref"],
            purpose=options["purpose"],
            legal_basis=options["legal_basis"],
            consent_ref=options["consent_ref"],
            in_reply_to=options["in_reply_to"],
            enqueue=not now,
        )
        self.stdout.write(f"Queued {msg.msg_type} #{msg.seq} for {msg.peer.node_id} ({msg.id})")
        if now:
            report = services.outbox_relay(peer=msg.peer)
            self._report(report)

    def do_relay(self, *, to, force, wait, **_):
        peers = Peer.objects.exclude(url="")
        if to:
            peers = peers.filter(node_id=to.upper())
        deadline = time.monotonic() + wait
        for peer in peers:
            if force:
                services.outbox_retry_now(actor=None, peer=peer)
            while True:
                report = services.outbox_relay(peer=peer)
                self._report(report)
                if report.waiting == 0 or time.monotonic() >= deadline:
                    break
                pause = 0.5
                if report.next_due is not None:
                    pause = max(0.2, report.next_due.timestamp() - time.time())
                time.sleep(min(pause, max(0.0, deadline - time.monotonic()) + 0.01))
            if report.waiting and wait:
                raise CommandError(
                    f"{report.waiting} messages for {peer.node_id} still waiting "
                    f"({report.stopped_by or 'not due yet'})",
                    returncode=1,
                )

    def _report(self, report):
        line = f"{report.peer}: {len(report.delivered)} delivered"
        if report.failed:
            reasons = ", ".join(sorted({reason for _, reason in report.failed}))
            line += f", {len(report.failed)} refused ({reasons})"
        line += f", {report.waiting} waiting"
        if report.stopped_by:
            line += f" (stopped: {report.stopped_by})"
        self.stdout.write(line)

    def do_ping(self, *, to, **_):
        result = services.ping(actor=None, to=to)
        self.stdout.write(
            f"{result.peer} answered with a signed receipt in {result.rtt_ms:.1f} ms "
            f"(message {result.msg_id}, receipt key {result.receipt_kid[:12]}…)"
        )

    # --- bundle files -------------------------------------------------------------------------
    def do_export(self, *, to, file, **_):
        bundle = services.bundle_export(actor=None, to=to)
        write_atomically(Path(file), bundle.data)
        self.stdout.write(
            f"Wrote {bundle.count} envelopes for {to.upper()} to {file} (bundle {bundle.bundle_id})"
        )

    def do_import(self, *, file, receipts, **_):
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        result = services.bundle_import(actor=None, data=data)
        if result.kind == "envelopes":
            out = (
                Path(receipts) if receipts else Path(file).with_name(Path(file).name + ".receipts")
            )
            write_atomically(out, result.receipts.data)
            rejected = "".join(f"\n  item {i}: refused ({code})" for i, code in result.rejected)
            self.stdout.write(
                f"Bundle from {result.sender}: {result.accepted} accepted, "
                f"{result.duplicates} already had, {len(result.rejected)} refused.{rejected}\n"
                f"Receipts for {result.sender} written to {out} "
                f"(import it there with 'ctip exchange import')"
            )
        else:
            failed = "".join(f"\n  receipt {i}: {code}" for i, code in result.failed)
            self.stdout.write(
                f"Receipts from {result.sender}: {result.acknowledged} acknowledged, "
                f"{len(result.failed)} refusals, {result.unmatched} not ours or already "
                f"settled.{failed}"
            )

    # --- keys and log ---------------------------------------------------------------------------
    def do_rotate_keys(self, *, overlap_days, **_):
        keys = services.keys_rotate(actor=None, overlap=int(overlap_days * 86_400))
        peers = ", ".join(Peer.objects.values_list("node_id", flat=True)) or "none"
        self.stdout.write(
            f"New exchange keys for {keys.node_id}: fingerprint {fingerprint(keys.public())}. "
            f"The old keys stay valid {overlap_days:g} days. Announced to: {peers}."
        )

    def do_verify_log(self, **_):
        result = services.log_verify()
        if not result.ok:
            raise CommandError(
                f"message log broken at entry {result.first_bad_seq}: {result.reason} "
                f"({result.checked} entries before it are intact)",
                returncode=1,
            )
        self.stdout.write(
            f"message log intact: {result.checked} entries, {result.signatures} signatures "
            f"verified, {result.purged} with purged evidence"
        )

    def do_fingerprint(self, **_):
        keys = services.our_keys()
        self.stdout.write(f"{keys.node_id} {fingerprint(keys.public())}")

    def do_keygen(self, **_):
        path = keys_file()
        if path.exists():
            self.stdout.write(
                f"Exchange keys already exist: {keystore.describe(services.our_keys())}"
            )
            return
        try:
            keys = keystore.create_keys(path.parent, settings.CTIP_NODE)
        except keystore.KeyStoreError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Created exchange keys: {keystore.describe(keys)}")

    def do_status(self, *, json: bool, **_):  # noqa: A002 - the option's name
        import json as json_module

        state = {
            "node": settings.CTIP_NODE,
            "peers": [
                {"node": p.node_id, "url": p.url, "fingerprint": p.pinned.fingerprint}
                for p in Peer.objects.order_by("node_id")
                if p.anchors.exists()
            ],
            "outbox": [
                {
                    "msg_id": str(m.id),
                    "to": m.peer.node_id,
                    "seq": m.seq,
                    "type": m.msg_type,
                    "status": m.status,
                    "attempts": m.attempts,
                    "reason": m.last_error,
                }
                for m in OutboxMessage.objects.select_related("peer").order_by("peer", "seq")
            ],
            "inbox": [
                {
                    "msg_id": str(m.msg_id),
                    "from": m.peer.node_id,
                    "seq": m.seq,
                    "type": m.msg_type,
                    "transport": m.transport,
                }
                for m in InboxMessage.objects.select_related("peer").order_by("received_at", "seq")
            ],
            "log_entries": LogEntry.objects.count(),
        }
        if json:
            self.stdout.write(json_module.dumps(state, indent=1))
            return
        for peer in state["peers"]:
            self.stdout.write(f"peer {peer['node']} {peer['fingerprint']} {peer['url']}")
        for status in ("pending", "sent", "acknowledged", "failed", "cancelled"):
            count = sum(1 for m in state["outbox"] if m["status"] == status)
            self.stdout.write(f"outbox {status}: {count}")
        self.stdout.write(f"inbox: {len(state['inbox'])}, log entries: {state['log_entries']}")
