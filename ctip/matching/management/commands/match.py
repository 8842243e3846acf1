"""``ctip match``: deduplicate a CSV file, sweep the node, and cross-border queries.

    ctip match file INPUT.csv --output OUT.csv [--threshold P] [--workers N] [--no-progress]
    ctip match sweep --home DIR
    ctip match key-rotate --to CN --home DIR
    ctip match query --person REF --to CN --username U --home DIR
    ctip match answers [--since DATE] [--person ID|REF] [--peer CN] [--status S]
                       [--limit N | --all] --home DIR
    ctip match identity --handle H --username U [--purpose P] --home DIR
    ctip match identities --username U --home DIR
    ctip match purge-handles --home DIR

``match file`` needs no node home and touches no database.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream, enabled: bool):
        self.stream, self.enabled, self.last = stream, enabled, 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        width = 30
        filled = int(width * done / total) if total else width
        self.stream.write(f"\r{stage:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Match person records: a CSV file, the node's persons, or the other node."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        f = sub.add_parser("file", help="deduplicate a CSV of person records")
        f.add_argument("input")
        f.add_argument("--output", required=True)
        f.add_argument("--threshold", type=float, default=None)
        f.add_argument("--no-progress", action="store_true")
        f.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes that normalise names (default: one per processor)",
        )
        f.add_argument("--pairs", help="also write the scored pairs with their evidence (CSV)")
        sub.add_parser("sweep", help="retrain the weights and offer new duplicate candidates")
        k = sub.add_parser("key-rotate", help="agree a new encoding key with the other node")
        k.add_argument("--to", required=True)
        q = sub.add_parser("query", help="ask the other node about one person (encodings only)")
        q.add_argument("--person", help="the person's reference")
        q.add_argument("--name", help="or a name: every person the user finds (at most 5)")
        q.add_argument("--to", required=True)
        q.add_argument("--username", required=True)
        a = sub.add_parser(
            "answers",
            help=f"this node's match queries with their answers, newest first (JSON; the "
            f"newest {ANSWERS_SHOWN} unless --all or --limit)",
        )
        a.add_argument(
            "--since", help="sent on or after this day (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM)"
        )
        a.add_argument("--person", help="about this person (id or reference)")
        a.add_argument("--peer", help="sent to this node (KH, CN)")
        a.add_argument("--status", choices=ANSWER_STATES, help="; ".join(ANSWER_STATES.values()))
        shown = a.add_mutually_exclusive_group()
        shown.add_argument("--limit", type=int, default=ANSWERS_SHOWN, help="at most N queries")
        shown.add_argument("--all", action="store_true", help="every query that matches")
        i = sub.add_parser("identity", help="ask the other node who is behind a handle")
        i.add_argument("--handle", required=True)
        i.add_argument("--username", required=True)
        i.add_argument("--purpose", default="nationality_verification")
        s = sub.add_parser(
            "identities", help="the identity requests the user may see, with answers (JSON)"
        )
        s.add_argument("--username", required=True)
        sub.add_parser("purge-handles", help="delete expired handles issued to the other node")

    def handle(self, *args, **opts):
        return getattr(self, "do_" + opts["action"].replace("-", "_"))(opts)

    def do_file(self, opts) -> None:
        from ctip.matching.core.csvio import CsvError, read_records, write_clusters
        from ctip.matching.core.engine import EngineConfig, default_workers, match_records

        try:
            config = EngineConfig()
            if opts["threshold"] is not None:
                config = EngineConfig(
                    match_probability=opts["threshold"],
                    review_probability=min(config.review_probability, opts["threshold"]),
                )
        except ValueError as exc:
            raise CommandError(f"--threshold: {exc}") from None
        try:
            data = read_records(opts["input"], today=date.today())  # noqa: DTZ011 - a calendar date
        except FileNotFoundError:
            raise CommandError(f"{opts['input']}: no such file") from None
        except CsvError as exc:
            raise CommandError(f"{opts['input']}: {exc}") from None
        progress = ProgressBar(sys.stderr, not opts["no_progress"] and len(data.records) >= 2000)
        started = time.monotonic()
        if opts["workers"] is not None and opts["workers"] < 1:
            raise CommandError("--workers: must be 1 or more")
        workers = default_workers() if opts["workers"] is None else opts["workers"]
        result = match_records(
            data.records, config, extras=data.extras, progress=progress, workers=workers
        )
        write_clusters(opts["output"], result.clusters, [r.id for r in data.records])
        if opts["pairs"]:
            _write_pairs(opts["pairs"], result)
        report = data.report
        persons = len(set(result.clusters.values()))
        self.stdout.write(
            f"{report.rows} records, {persons} persons, {len(result.links)} linked pairs, "
            f"{len(result.review)} pairs for review, {result.blocking.pairs} compared, "
            f"{time.monotonic() - started:.1f} s"
        )
        unknown = report.unknown_birth_dates + report.unknown_ages + report.unknown_record_dates
        if unknown:
            where = ", ".join(f"line {line} {col}" for line, col in report.examples)
            self.stdout.write(
                f"unknown (unreadable) dates: {report.unknown_birth_dates} birth_date, "
                f"{report.unknown_ages} age_at_record, {report.unknown_record_dates} "
                f"record_date (e.g. {where})"
            )
        if report.unknown_places:
            self.stdout.write(
                f"{report.unknown_places} origin_place values name no reference place "
                "(not compared)"
            )
        if result.blocking.skipped_blocks:
            self.stdout.write(
                f"{result.blocking.skipped_blocks} blocking keys too common to use "
                f"(over {config.max_block_size} records each)"
            )

    def do_sweep(self, opts) -> None:
        from ctip.matching.services import matching_sweep

        report = matching_sweep()
        self.stdout.write(
            f"{report['records']} persons, {report['pairs']} pairs compared, "
            f"{report['candidates']} new candidates"
        )

    def do_key_rotate(self, opts) -> None:
        from ctip.matching.xborder import key_rotate

        key = key_rotate(actor=None, peer=opts["to"])
        self.stdout.write(f"Queued key {key.key_id} for {key.peer}")

    def do_query(self, opts) -> None:
        from ctip.accounts.models import User
        from ctip.cases.models import Person
        from ctip.cases.selectors import person_list
        from ctip.matching.xborder import QueryRefused, query_send

        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError("no such user")
        if opts["name"]:
            persons = list(person_list(user=user, query=opts["name"])[:5])
        else:
            persons = list(Person.objects.filter(reference=opts["person"] or ""))
        if not persons:
            raise CommandError("no such person")
        for person in persons:
            try:
                query = query_send(user=user, person=person, to=opts["to"])
            except QueryRefused as exc:
                raise CommandError("; ".join(exc.messages)) from None
            self.stdout.write(f"Queued query {query.query_id} for {person.reference}")

    def do_answers(self, opts) -> None:
        """The sent queries, newest first: references, handles, scores and refusal codes,
        no personal data (as ``GET /api/v1/matching/queries``). A note on stderr says when
        more queries match than were printed, so stdout stays one JSON list."""
        from ctip.matching.models import MatchQuery, QueryDirection

        qs = MatchQuery.objects.filter(direction=QueryDirection.OUT)
        if opts["since"]:
            qs = qs.filter(created_at__gte=_since(opts["since"]))
        if opts["person"]:
            qs = qs.filter(person=_person(opts["person"]))
        if opts["peer"]:
            qs = qs.filter(peer=opts["peer"].upper())
        if opts["status"]:
            qs = qs.filter(_answer_state(opts["status"]))
        qs = qs.select_related("person", "asked_by").order_by("-created_at", "-pk")
        if not opts["all"] and opts["limit"] < 1:
            raise CommandError("--limit: must be 1 or more")
        queries = list(qs if opts["all"] else qs[: opts["limit"] + 1])
        if not opts["all"] and len(queries) > opts["limit"]:
            queries = queries[: opts["limit"]]
            self.stderr.write(
                f"The newest {opts['limit']} of {qs.count()} queries; --all for every one."
            )
        rows = [
            {
                "query_id": q.query_id,
                "peer": q.peer,
                "person": q.person.reference if q.person else None,
                "asked_by": q.asked_by.username if q.asked_by else None,
                "sent_at": q.created_at.isoformat(),
                "status": _state_of(q),
                "answered": q.answered_at is not None,
                "answered_at": q.answered_at.isoformat() if q.answered_at else None,
                "refused": q.refused,
                "candidates": q.answer,
            }
            for q in queries
        ]
        self.stdout.write(json.dumps(rows, indent=1))

    def do_identity(self, opts) -> None:
        from ctip.accounts.permissions import NotFound
        from ctip.matching.xborder import QueryRefused, identity_request_send

        user = _user(opts["username"])
        try:
            asked = identity_request_send(user=user, handle=opts["handle"], purpose=opts["purpose"])
        except NotFound:
            raise CommandError("no such handle") from None
        except QueryRefused as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"Queued identity request {asked.request_id} to {asked.peer} "
            f"for {asked.person.reference}"
        )

    def do_identities(self, opts) -> None:
        from ctip.accounts import permissions
        from ctip.audit.services import audit_view
        from ctip.matching.xborder import identity_of, identity_requests

        user = _user(opts["username"])
        rows = identity_requests(user=user)
        shown = [r for r in rows if r.identity] if permissions.sees_pii(user) else []
        audit_view(actor=user, objects=shown, fields=["identity"])
        self.stdout.write(
            json.dumps(
                [
                    {
                        "request_id": r.request_id,
                        "peer": r.peer,
                        "handle": r.handle,
                        "person": r.person.reference if r.person else None,
                        "purpose": r.purpose,
                        "outcome": r.outcome,
                        "refused": r.refused,
                        "identity": identity_of(r) if r in shown else None,
                    }
                    for r in rows
                ],
                indent=1,
                ensure_ascii=False,
            )
        )

    def do_purge_handles(self, opts) -> None:
        from ctip.matching.xborder import handles_purge

        self.stdout.write(f"Deleted {handles_purge()} expired match handles")


# The states of a sent match query (``--status`` of ``match answers``).
ANSWER_STATES = {
    "waiting": "waiting: not answered yet",
    "refused": "refused: the peer did not answer (rate limit, unknown key)",
    "no-match": "no-match: answered, no one similar enough",
    "matched": "matched: answered with candidates",
}
ANSWERS_SHOWN = 50


def _answer_state(state: str):
    from django.db.models import Q

    answered = Q(answered_at__isnull=False)
    return {
        "waiting": Q(answered_at__isnull=True),
        "refused": answered & ~Q(refused=""),
        "no-match": answered & Q(refused="", answer=[]),
        "matched": answered & Q(refused="") & ~Q(answer=[]),
    }[state]


def _state_of(query) -> str:
    if query.answered_at is None:
        return "waiting"
    if query.refused:
        return "refused"
    return "matched" if query.answer else "no-match"


def _since(text: str):
    """A day (from its midnight, in the node's time zone) or a time (naive: the node's)."""
    from django.utils import timezone
    from django.utils.dateparse import parse_date, parse_datetime

    try:
        when = parse_datetime(text)
        if when is None and (day := parse_date(text)) is not None:
            when = datetime.combine(day, datetime.min.time())
    except ValueError:
        when = None
    if when is None:
        raise CommandError(
            f"--since: {text!r} is not a day (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM)"
        )
    return when if timezone.is_aware(when) else timezone.make_aware(when)


def _person(ref: str):
    """A person by id or by reference (the node operator sees every person)."""
    import uuid

    from ctip.cases.models import Person

    try:
        lookup = {"pk": uuid.UUID(ref)}
    except ValueError:
        lookup = {"reference": ref}
    person = Person.objects.filter(**lookup).first()
    if person is None:
        raise CommandError("--person: no such person")
    return person


def _user(username: str):
    from ctip.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError("no such user")
    return user


def _write_pairs(path: str, result) -> None:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["left_id", "right_id", "probability", "evidence"])
        for pair in result.pairs:
            evidence = "; ".join(f"{f}: {label} ({w:+.1f})" for f, label, w in result.explain(pair))
            writer.writerow([pair.left_id, pair.right_id, f"{pair.probability:.4f}", evidence])
