"""Send the shared strategy documents and the whole certificate revocation list to the
other node again (for a node peered after they were made). The receiver ignores what it
already holds."""

from django.core.management.base import BaseCommand

from ctip.prevention import sync


class Command(BaseCommand):
    help = "Queue the strategy documents and the revocation list for the other node."

    def add_arguments(self, parser):
        parser.add_argument("--to", default=None, help="Only this peer (KH or CN).")

    def handle(self, *args, to=None, **options):
        sent = sync.resend_all(to=to.upper() if to else None)
        self.stdout.write(f"Queued {sent} prevention messages.")
