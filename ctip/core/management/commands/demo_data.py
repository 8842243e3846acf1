from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from ctip.core.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo agencies, users (one per role) and fictional persons; idempotent."

    def handle(self, *args, **options):
        credentials = load_demo(settings.CTIP_NODE)
        if not credentials:
            self.stdout.write(f"Demo data for {settings.CTIP_NODE} is already loaded.")
            return
        lines = [
            f"Demo users of node {settings.CTIP_NODE} (shown once; also kept in credentials.txt "
            "in this demo home, readable only by you):",
            f"{'username':<34} {'password':<20} {'two-factor secret (TOTP, base32)':<34} role",
        ]
        for c in credentials:
            lines.append(f"{c.username:<34} {c.password:<20} {(c.totp_secret or '-'):<34} {c.role}")
        text = "\n".join(lines) + "\n"
        self.stdout.write(text)
        if settings.CTIP_HOME:
            path = Path(settings.CTIP_HOME) / "credentials.txt"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
