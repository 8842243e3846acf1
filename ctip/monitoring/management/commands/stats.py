"""``ctip stats export --home DIR --format htcds --output FILE.csv [--k 10]``: the
de-identified case export (HTCDS), with a report of what was withheld; and
``ctip stats import FILE.csv --user NAME [--dry-run]``: monthly migration statistics from a
CSV file, every line checked first."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ctip.monitoring import htcds


class Command(BaseCommand):
    help = "Statistics: the de-identified HTCDS export; import of monthly migration statistics."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write the de-identified case export")
        export.add_argument("--format", required=True, choices=["htcds"])
        export.add_argument("--output", required=True, help="the CSV file to write")
        export.add_argument(
            "--k",
            type=int,
            default=htcds.DEFAULT_K,
            help="every quasi-identifier combination is shared by at least k rows (default 10)",
        )
        send = sub.add_parser("send", help="send this node's figures for a month to the peer")
        send.add_argument("--month", required=True, help="YYYY-MM")
        send.add_argument("--user", required=True, help="the M&E officer who sends")
        show = sub.add_parser("show", help="print the figures held for a month (both countries)")
        show.add_argument("--month", required=True, help="YYYY-MM")
        imp = sub.add_parser("import", help="import monthly migration statistics (CSV)")
        imp.add_argument("file")
        imp.add_argument("--user", required=True, help="the M&E officer who imports")
        imp.add_argument("--dry-run", action="store_true", help="check only, save nothing")

    def handle(self, *args, **options):
        if options["action"] == "export":
            return self.export(options)
        if options["action"] == "send":
            return self.send(options)
        if options["action"] == "show":
            return self.show(options)
        return self.import_(options)

    def _officer(self, username):
        from ctip.accounts import permissions
        from ctip.accounts.models import User

        user = User.objects.filter(username=username, is_active=True).first()
        if user is None or not permissions.can(user, "monitoring", permissions.CHANGE):
            raise CommandError("No active M&E officer has this username.")
        return user

    def _month(self, value):
        import datetime as dt

        try:
            year, month = (int(x) for x in value.split("-"))
            return dt.date(year, month, 1)
        except ValueError:
            raise CommandError("give the month as YYYY-MM") from None

    def send(self, options):
        from django.conf import settings
        from django.core.exceptions import ValidationError

        from ctip.monitoring.models import MonthlyStatistics
        from ctip.monitoring.services import statistics_send

        user = self._officer(options["user"])
        month = self._month(options["month"])
        row = MonthlyStatistics.objects.filter(country=settings.CTIP_NODE, month=month).first()
        if row is None:
            raise CommandError("this node has no figures for that month")
        try:
            sent = statistics_send(user=user, row=row)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Queued {len(sent)} message(s) for {month:%Y-%m}")

    def show(self, options):
        import json

        from ctip.monitoring.models import MonthlyStatistics

        month = self._month(options["month"])
        for row in MonthlyStatistics.objects.filter(month=month).order_by("country"):
            data = {
                "country": row.country,
                "source": row.source,
                "revision": row.revision,
                "border_crossings": row.border_crossings,
                "deportations": row.deportations,
                "returns": row.returns,
                "victims": row.victims,
                "received_from": row.received_from,
            }
            self.stdout.write(json.dumps(data, sort_keys=True))

    def export(self, options):
        if options["k"] < 2:
            raise CommandError("--k must be at least 2")
        text, report = htcds.export_audited(actor=None, k=options["k"], via="command")
        output = Path(options["output"])
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {output.name}: {exc.strerror}") from None
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(f"written to {output}")

    def import_(self, options):
        from ctip.monitoring.importing import ImportError_, statistics_import

        user = self._officer(options["user"])
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read the file: {exc.strerror}") from None
        try:
            rows = statistics_import(user=user, data=data, dry_run=options["dry_run"])
        except ImportError_ as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(exc.problems)} problem(s); nothing was imported") from None
        verb = "checked" if options["dry_run"] else "imported"
        self.stdout.write(f"{len(rows)} month(s) {verb}")
