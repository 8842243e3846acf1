from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ctip.enforcement import sync


class Command(BaseCommand):
    help = (
        "Queue this country's taskforce members, the meetings this node records and its "
        "exchanged SOP versions for the other node (after peering, or a long outage). Send "
        "the directory first ('ctip directory_sync'): members are directory focal persons. "
        "The other node ignores what it already holds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", help="only this peer (default: every peer)")

    def handle(self, *args, to=None, **options):
        if not (to or sync.peers()):
            raise CommandError("no peer is pinned yet: run 'ctip peer add' first", returncode=2)
        count = sync.resend_all(actor=None, to=to)
        self.stdout.write(
            f"Queued {count} law-enforcement messages from {settings.CTIP_NODE}; "
            "'ctip exchange relay' delivers them now."
        )
