from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from ctip.finance.demo import load_demo


class Command(BaseCommand):
    help = "Load the finance demo (meetings, costs, a donor, the reintegration budget); idempotent."

    def handle(self, *args, **options):
        if load_demo(settings.CTIP_NODE):
            self.stdout.write(f"Finance demo loaded on node {settings.CTIP_NODE}.")
        else:
            self.stdout.write(
                "Finance demo already loaded, or no M&E officer yet (run demo_data first)."
            )
