"""``ctip peer add|list|revoke-key``: pin the other node's keys, after comparing fingerprints."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ctip.exchange import services
from ctip.exchange.errors import ExchangeError
from ctip.exchange.models import AnchorSource, Peer
from ctip.exchange.transport import TransportError, fetch_jwks


def _epoch(value: str) -> int:
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--at {value!r}: give an ISO date-time or a Unix time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


class Command(BaseCommand):
    help = (
        "Peers: 'peer add --url URL --fingerprint FP [--jwks FILE]' pins the other node's keys "
        "(refused unless the fingerprint matches), 'peer list', "
        "'peer revoke-key --peer CN --kid KID [--at TIME]'."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="pin a peer's public keys")
        add.add_argument("--url", default="", help="the peer's address, e.g. https://cn.example")
        add.add_argument("--fingerprint", required=True, help="as the peer's operator read it")
        add.add_argument(
            "--jwks", help="read the keys from this file instead of fetching them from --url"
        )
        sub.add_parser("list", help="pinned peers and their fingerprints")
        revoke = sub.add_parser("revoke-key", help="stop trusting one of a peer's keys")
        revoke.add_argument("--peer", required=True)
        revoke.add_argument(
            "--kid", required=True, help="give it as --kid=KID (it may start with -)"
        )
        revoke.add_argument("--at", default="", help="from when (default: now)")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action.replace('-', '_')}")(**options)
        except ExchangeError as exc:
            raise CommandError(str(exc), returncode=1) from None

    def do_add(self, *, url, fingerprint, jwks, **_):
        if jwks:
            try:
                document = json.loads(Path(jwks).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"--jwks {jwks}: cannot read a JSON key set ({exc})") from None
            source = AnchorSource.FILE
        elif url:
            try:
                document = fetch_jwks(url)
            except (TransportError, ValueError) as exc:
                raise CommandError(f"cannot fetch the peer's keys: {exc}", returncode=1) from None
            source = AnchorSource.URL
        else:
            raise CommandError("peer add needs --url (and/or --jwks FILE)")
        peer, changed = services.peer_pin(
            actor=None, jwks=document, expected_fingerprint=fingerprint, url=url, source=source
        )
        state = "pinned" if changed else "already pinned, nothing changed"
        self.stdout.write(
            f"Peer {peer.node_id} {state}: fingerprint {peer.pinned.fingerprint} "
            f"(version {peer.pinned.version}), address {peer.url or '(bundle files only)'}"
        )

    def do_list(self, **_):
        peers = [p for p in Peer.objects.order_by("node_id") if p.anchors.exists()]
        if not peers:
            self.stdout.write("No peers pinned.")
        for peer in peers:
            self.stdout.write(
                f"{peer.node_id}  {peer.pinned.fingerprint}  v{peer.pinned.version}  "
                f"{peer.url or '(bundle files only)'}"
            )

    def do_revoke_key(self, *, peer, kid, at, **_):
        when = _epoch(at) if at else services.now_ts()
        row = services.peer_revoke_key(actor=None, node_id=peer, kid=kid, revoked_at=when)
        self.stdout.write(
            f"Key {kid} of {row.peer.node_id} revoked from {when}; "
            f"pinned keys now have fingerprint {row.fingerprint} (version {row.version})"
        )
