from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from ctip.training.demo import load_demo


class Command(BaseCommand):
    help = "Load the training demo (manual, joint trainings, participants); idempotent."

    def handle(self, *args, **options):
        created = load_demo(settings.CTIP_NODE)
        if not any(created.values()):
            self.stdout.write(f"The training demo of {settings.CTIP_NODE} is already loaded.")
            return
        summary = ", ".join(f"{n} {what}" for what, n in created.items())
        self.stdout.write(f"Training demo of {settings.CTIP_NODE}: created {summary}.")
