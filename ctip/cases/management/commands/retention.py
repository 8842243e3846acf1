"""``ctip retention``: the retention purge and legal holds (DP-7, docs/retention.md).

    ctip retention purge [--apply] --home DIR     (a dry run unless --apply)
    ctip retention holds --home DIR
    ctip retention hold (--case REF | --person REF) --reason TEXT --username U --home DIR
    ctip retention release (--case REF | --person REF) --username U --home DIR

The worker applies the purge every night (``cases.tasks.retention_purge``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ctip.accounts import permissions


def _user(username: str):
    from ctip.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError("no such user")
    return user


def _record(user, opts):
    """The case or person named by reference, fetched as the user may see it."""
    from ctip.cases.models import Case, Person
    from ctip.cases.selectors import access_case, access_person

    if bool(opts["case"]) == bool(opts["person"]):
        raise CommandError("name one record: --case REF or --person REF")
    model, access = (Case, access_case) if opts["case"] else (Person, access_person)
    reference = (opts["case"] or opts["person"]).strip().upper()
    pk = model.objects.filter(reference=reference).values_list("pk", flat=True).first()
    try:
        record = access(user, pk)
    except permissions.NotFound:
        raise CommandError(f"no such {model._meta.model_name}: {reference}") from None
    return ("case" if opts["case"] else "person"), record


def _messages(exc: ValidationError) -> str:
    return "; ".join(str(m) for m in exc.messages)


class Command(BaseCommand):
    help = "Crypto-shred records past their retention; place and release legal holds."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("purge", help="what is past retention (a dry run unless --apply)")
        p.add_argument("--apply", action="store_true", help="shred it (else only count)")
        sub.add_parser("holds", help="the legal holds in force")
        h = sub.add_parser("hold", help="keep a record from the purge")
        r = sub.add_parser("release", help="release a record's legal hold")
        for each in (h, r):
            each.add_argument("--case", help="a case reference")
            each.add_argument("--person", help="a person reference")
            each.add_argument("--username", required=True)
        h.add_argument("--reason", required=True)

    def handle(self, *args, **opts):
        return getattr(self, "do_" + opts["action"])(opts)

    def do_purge(self, opts) -> None:
        from ctip.cases.retention import current_schedule, retention_purge

        schedule = current_schedule()
        report = retention_purge(apply=opts["apply"], schedule=schedule)
        self.stdout.write(
            f"Retention: closed cases {schedule.closed_case_days} days after closure, "
            f"persons without a case {schedule.no_case_days} days after the last record"
        )
        verb = "shredded" if report.applied else "would be shredded (dry run)"
        self.stdout.write(
            f"{report.cases} closed case(s), {report.persons} person(s) with "
            f"{report.screenings} screening(s) {verb}"
        )
        self.stdout.write(
            f"kept past retention: {report.kept_on_hold} on legal hold, "
            f"{report.kept_under_review} waiting for a decision or a DPO review, "
            f"{report.kept_repatriation} with a repatriation under way"
        )
        if report.applied:
            self.stdout.write(
                f"erased: {report.records_erased} record(s) under shredded keys, "
                f"{report.search_tokens_cleared} person(s)' search tokens, "
                f"{report.person_keys_deleted} blocking-key token(s)"
            )
        else:
            self.stdout.write("Nothing was changed. Run with --apply to shred.")

    def do_holds(self, opts) -> None:
        from ctip.cases.models import LegalHold

        holds = LegalHold.objects.filter(released_at__isnull=True).select_related(
            "person", "case", "placed_by"
        )
        for hold in holds:
            record = hold.case or hold.person
            self.stdout.write(
                f"{record.reference} placed {hold.placed_at:%Y-%m-%d} by {hold.placed_by}"
            )
        self.stdout.write(f"{len(holds)} legal hold(s) in force")

    def do_hold(self, opts) -> None:
        from ctip.cases.retention import legal_hold_place

        user = _user(opts["username"])
        kind, record = _record(user, opts)
        try:
            legal_hold_place(user=user, reason=opts["reason"], **{kind: record})
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        except permissions.NotFound:
            raise CommandError("this user may not place legal holds") from None
        self.stdout.write(f"Legal hold placed on {record.reference}")

    def do_release(self, opts) -> None:
        from ctip.cases.models import LegalHold
        from ctip.cases.retention import legal_hold_release

        user = _user(opts["username"])
        kind, record = _record(user, opts)
        hold = LegalHold.objects.filter(released_at__isnull=True, **{kind: record}).first()
        if hold is None:
            raise CommandError(f"{record.reference} is not under a legal hold")
        try:
            legal_hold_release(user=user, hold=hold)
        except permissions.NotFound:
            raise CommandError("this user may not release legal holds") from None
        self.stdout.write(f"Legal hold on {record.reference} released")
