from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ctip.audit.services import audit_verify


class Command(BaseCommand):
    help = "Audit log: 'audit verify' checks the hash chain and names the first bad row."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        result = audit_verify()
        if not result.ok:
            raise CommandError(
                f"audit log broken at row {result.first_bad_seq}: {result.reason} "
                f"({result.checked} rows before it are intact)",
                returncode=1,
            )
        self.stdout.write(f"audit log intact: {result.checked} rows verified")
