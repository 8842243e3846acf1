from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ctip.core.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup into this home's new, empty database, then verify the audit log "
        "(and the exchange message log). Needs the node's key ring from key custody."
    )

    def add_arguments(self, parser):
        parser.add_argument("--input", type=Path, required=True, help="the backup file")
        parser.add_argument(
            "--allow-shredded",
            action="store_true",
            help="restore even when the key ring no longer holds some of the backup's master "
            "keys: the records under them stay unreadable (crypto-shredded)",
        )

    def handle(self, *args, input, allow_shredded, **options):  # noqa: A002 - the option's name
        try:
            result = backup_restore(path=input, allow_shredded=allow_shredded)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=1) from None
        manifest = result.manifest
        self.stdout.write(
            f"restored the backup of node {manifest['node']} made {manifest['created_at']} "
            f"({sum(manifest['tables'].values())} rows in {len(manifest['tables'])} tables)"
        )
        if result.migrations_applied:
            self.stdout.write(f"migrations applied since: {', '.join(result.migrations_applied)}")
        for name, outcome in result.chains.items():
            self.stdout.write(f"{name}: {outcome}")
        if result.shredded:
            self.stdout.write(
                f"{result.shredded} data keys had no master key in this key ring and are now "
                "recorded as shredded"
            )
