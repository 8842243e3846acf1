from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ctip.accounts.models import User
from ctip.accounts.permissions import NotFound
from ctip.training import selectors
from ctip.training.importing import ImportFileError, participants_import, read_rows


class Command(BaseCommand):
    help = (
        "Import a participant list (CSV or XLSX) into a training. Every row is checked "
        "first; if one is bad nothing is imported. --dry-run checks without saving."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv (UTF-8) or .xlsx file")
        parser.add_argument("--training", required=True, help="the training's id")
        parser.add_argument("--user", required=True, help="the username of the manager who imports")
        parser.add_argument("--dry-run", action="store_true", help="check only, save nothing")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError("No active user has this username.")
        try:
            training = selectors.access_training(user, options["training"], action="change")
        except NotFound:
            raise CommandError("No training with this id that this user manages.") from None
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read the file: {exc.strerror}") from None
        try:
            rows = read_rows(data, path.name)
        except ImportFileError as exc:
            raise CommandError(f"The file was refused: {exc}") from None
        report = participants_import(
            user=user, training=training, rows=rows, dry_run=options["dry_run"]
        )
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError("Nothing was imported.")
