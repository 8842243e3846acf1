"""``ctip form show|export|import``: the identification form for field collection."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from ctip.accounts import permissions
from ctip.accounts.models import User
from ctip.cases import formdefs, imports, xlsform
from ctip.cases.idform import language_of


class Command(BaseCommand):
    help = (
        "The common identification form: show its version and hash, export it as an XLSForm "
        "for ODK Collect / KoboToolbox, or import submissions (CSV or JSON) as screenings."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("show", help="print the current version and its SHA-256")
        export = sub.add_parser("export", help="write the form as an XLSForm (.xlsx)")
        export.add_argument("--format", default="xlsform", choices=["xlsform", "json"])
        export.add_argument("--output", required=True)
        imp = sub.add_parser("import", help="import submissions (all rows or none)")
        imp.add_argument("file")
        imp.add_argument("--user", required=True, help="username of the importing caseworker")
        imp.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
        imp.add_argument(
            "--language", default="en", help="language of the report (en, km, zh-hans)"
        )

    def handle(self, *args, **options):
        action = options["action"]
        definition = formdefs.current_definition()
        if action == "show":
            self.stdout.write(
                f"{definition.form_id} version {definition.version} sha256 {definition.sha256}"
            )
            return
        if action == "export":
            out = Path(options["output"])
            if options["format"] == "json":
                out.write_text(definition.canonical_json(), encoding="utf-8")
            else:
                workbook = xlsform.build_workbook(definition)
                xlsform.to_xform(workbook)  # refuse to write a form ODK would not accept
                out.write_bytes(workbook)
            self.stdout.write(
                f"Wrote {definition.form_id} version {definition.version} "
                f"({options['format']}, sha256 {definition.short_hash}) to {out}"
            )
            return
        self._import(options)

    def _import(self, options):
        try:
            user = User.objects.get(username=options["user"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"no active user {options['user']!r}") from None
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        lang = language_of(options["language"])
        with translation.override(lang):
            try:
                rows = imports.read_rows(path.name, content)
                report = imports.screenings_import(
                    user=user, rows=rows, lang=lang, dry_run=options["dry_run"]
                )
            except imports.ImportError_ as exc:
                raise CommandError(str(exc)) from None
            except permissions.NotFound:
                raise CommandError(f"user {user.username} may not import screenings") from None
            except imports.ImportRejected as exc:
                for line in exc.report.lines():
                    self.stderr.write(line)
                raise CommandError(
                    f"{len(exc.report.errors)} problem(s) in {exc.report.rows} row(s): "
                    "nothing was imported"
                ) from None
        verb = "would import" if options["dry_run"] else "imported"
        self.stdout.write(
            f"{report.rows} row(s): {verb} {report.imported}, "
            f"{report.duplicates} already imported (skipped)"
        )
        for reference in report.references:
            self.stdout.write(f"  {reference}")
