from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from ctip.directory.demo import load_demo


class Command(BaseCommand):
    help = (
        "Load the demo directory (services, shelters and assessments, focal persons); idempotent."
    )

    def handle(self, *args, **options):
        added = load_demo(settings.CTIP_NODE)
        self.stdout.write(
            f"Directory demo of {settings.CTIP_NODE}: added {added['services']} services, "
            f"{added['focal_persons']} focal persons, {added['assessments']} assessments."
        )
