from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ctip.core.backup import BackupError, backup_check, backup_create, fingerprint


class Command(BaseCommand):
    help = (
        "Write a consistent, encrypted, signed backup of this node's database "
        "(--output FILE), or check one completely (--verify FILE)."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--output", type=Path, help="the backup file to write (must not exist)")
        group.add_argument(
            "--verify", type=Path, help="a backup file to check with this node's keys"
        )

    def handle(self, *args, output, verify, **options):
        try:
            if verify is not None:
                head = backup_check(path=verify)
                self._describe(head.manifest)
                self.stdout.write(
                    f"backup verified: signature {fingerprint(head.public_key)}, "
                    f"{head.footer['size']} bytes, sha256 {head.footer['sha256']}"
                )
                return
            result = backup_create(output=output)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=1) from None
        self._describe(result.manifest)
        self.stdout.write(
            f"backup written to {result.path}: {result.size} bytes of database, "
            f"sha256 {result.sha256}, signed by {fingerprint(result.public_key)}"
        )

    def _describe(self, manifest: dict) -> None:
        database = manifest.get("database") or {}
        head = manifest.get("audit_head") or {}
        rows = sum((manifest.get("tables") or {}).values())
        self.stdout.write(
            f"node {manifest.get('node')}, made {manifest.get('created_at')} by version "
            f"{manifest.get('app_version')}, {database.get('vendor')} "
            f"{database.get('server_version')}, {len(manifest.get('tables') or {})} tables, "
            f"{rows} rows, audit log at row {head.get('seq', 0)}, master keys: "
            f"{', '.join(manifest.get('master_keys') or []) or 'none'}"
        )
