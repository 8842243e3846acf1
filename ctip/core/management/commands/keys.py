from __future__ import annotations

from django.core.management.base import BaseCommand

from ctip.core.services import keys_rotate


class Command(BaseCommand):
    help = "Keys: 'keys rotate' adds a master key and re-wraps every data key under it."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rotate"])
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, action, batch_size, **options):
        result = keys_rotate(batch_size=batch_size)
        self.stdout.write(
            f"active master key {result.active}; {result.rewrapped} data keys re-wrapped; "
            f"retired: {', '.join(result.retired) or 'none'}"
        )
