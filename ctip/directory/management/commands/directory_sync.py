from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ctip.directory import sync


class Command(BaseCommand):
    help = (
        "Queue the current state of every directory entry of this node for the other node "
        "(after peering, or a long outage). The other node ignores what it already holds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", help="only this peer (default: every peer)")

    def handle(self, *args, to=None, **options):
        if not (to or sync.peers()):
            raise CommandError("no peer is pinned yet: run 'ctip peer add' first", returncode=2)
        count = sync.resend_all(actor=None, to=to)
        self.stdout.write(
            f"Queued {count} directory messages from {settings.CTIP_NODE}; "
            "'ctip exchange relay' delivers them now."
        )
