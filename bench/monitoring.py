"""Computing the monitoring dashboard on 100,000 cases (issue 11).

What is measured: every panel of the dashboard computed from scratch (the cache bypassed),
as ``monitoring.selectors.dashboard(refresh=True)`` does: identified victims by sex, age
group, nationality, form of exploitation and province (one read of the screenings, grouped
in Python), referrals, repatriations, median days per SOP stage (from the case events) and
cases handled by trained officials (training's indicator, month by month). The baseline,
in the same run on the same database: one plain ``COUNT`` of the identified victims
(``SELECT COUNT(*)`` over the same screenings table with the same filter). A cached
dashboard costs one cache look-up per panel and is not measured.

Settings (environment): ``BENCH_MONITORING_CASES`` (100000), ``BENCH_MONITORING_REPEATS``
(3). A fresh SQLite file in a temporary node home, unless ``BENCH_MONITORING_DATABASE_URL``
names a PostgreSQL database that may be emptied. Results go to
``bench/results/monitoring.json``. A benchmark, not a test: nothing here fails the build.

Seeding shortcut: persons, screenings, cases, their "opened" events and the statistics
facts are written with ``bulk_create`` under one shared data key (the facts are what the
dashboard reads; reading the encrypted answers happens once per screening, ever, and is
not part of a dashboard computation).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "monitoring.json"
KINDS = ["forced_marriage", "forced_criminality", "forced_labour", "sexual_exploitation", "begging"]
PROVINCES = ["KH-01", "KH-03", "KH-12", "KH-14", "KH-17", "KH-21"]


def _setup_django() -> str:
    url = os.environ.get("BENCH_MONITORING_DATABASE_URL", "")
    from ctip.home import create_home

    folder = tempfile.mkdtemp(prefix="ctip-bench-monitoring-")
    home = create_home(Path(folder) / "kh", "KH", url or None)
    os.environ["CTIP_HOME"] = str(home.path)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctip.settings")
    import django

    django.setup()
    from django.core.management import call_command

    if url:
        call_command("flush", "--no-input", verbosity=0)
    call_command("migrate", verbosity=0)
    from django.db import connection

    return connection.vendor


def _seed(count: int, rng: random.Random) -> float:
    from django.db import transaction
    from django.utils import timezone

    from ctip.accounts.services import AgencyInput, agency_upsert, user_create
    from ctip.cases import formdefs
    from ctip.cases.models import Case, CaseEvent, Person, Screening
    from ctip.core.models import DataKey
    from ctip.monitoring.models import ScreeningFact

    agency = agency_upsert(actor=None, data=AgencyInput("kh-bench-me", "Bench agency", "ngo", "KH"))
    user = user_create(actor=None, username="bench_me", agency=agency, roles=["caseworker"]).user
    key = DataKey.issue()
    form = formdefs.form_version_row()
    now = timezone.now()
    started = time.perf_counter()
    for offset in range(0, count, 2000):
        persons, screenings, cases, events, facts = [], [], [], [], []
        for n in range(offset, min(count, offset + 2000)):
            when = now - dt.timedelta(days=rng.randrange(0, 365), minutes=rng.randrange(1440))
            person = Person(
                reference=f"KH-P-M{n:07d}",
                owner_agency=agency,
                created_by=user,
                data_key=key,
                sex=rng.choice(["female", "female", "male", "unknown"]),
                age_estimate=rng.randrange(8, 60),
                nationality=rng.choice(["KH", "KH", "KH", "CN", "VN"]),
                origin_province=rng.choice(PROVINCES),
                created_at=when,
            )
            screening = Screening(
                reference=f"KH-S-M{n:07d}",
                data_key=key,
                owner_agency=agency,
                person=person,
                form_version=form,
                status="submitted",
                result=rng.choice(["victim", "presumed_victim", "presumed_victim", "needs_review"]),
                answers="{}",
                interview_date=when.date(),
                created_by=user,
                created_at=when,
                updated_at=when,
                submitted_at=when,
            )
            case = Case(
                reference=f"KH-C-M{n:07d}",
                data_key=key,
                owner_agency=agency,
                person=person,
                screening=screening,
                track=rng.choice(["cross_border", "in_country"]),
                stage="identified",
                stage_entered_at=when,
                sop_version="bench",
                opened_at=when,
                opened_by=user,
            )
            persons.append(person)
            screenings.append(screening)
            cases.append(case)
            events.append(
                CaseEvent(
                    case=case,
                    seq=1,
                    at=when,
                    actor=user,
                    kind="opened",
                    details={"stage": "identified"},
                )
            )
            if rng.random() < 0.3:
                later = when + dt.timedelta(days=rng.randrange(1, 30))
                events.append(
                    CaseEvent(
                        case=case,
                        seq=2,
                        at=later,
                        actor=user,
                        kind="stage",
                        details={"from": "identified", "to": "protected"},
                    )
                )
            facts.append(
                ScreeningFact(
                    screening=screening,
                    exploitation_types=",".join(sorted(rng.sample(KINDS, rng.choice([1, 1, 2])))),
                    exploitation_country=rng.choice(["KH", "CN", "TH"]),
                )
            )
        with transaction.atomic():
            Person.objects.bulk_create(persons)
            Screening.objects.bulk_create(screenings)
            Case.objects.bulk_create(cases)
            CaseEvent.objects.bulk_create(events)
            ScreeningFact.objects.bulk_create(facts)
    return time.perf_counter() - started


def _dashboard() -> int:
    from django.utils import timezone

    from ctip.monitoring import catalogue
    from ctip.monitoring import indicators as m
    from ctip.monitoring.selectors import default_period

    start, end = default_period(timezone.localdate())
    memo: dict = {}
    tables = [
        m.compute(code, start=start, end=end, by=by, cached=False, rows_memo=memo)
        for code, by in catalogue.PANELS
    ]
    return tables[0].total


def _baseline() -> int:
    from django.utils import timezone

    from ctip.cases.models import Screening
    from ctip.monitoring.selectors import default_period

    start, end = default_period(timezone.localdate())
    return Screening.objects.filter(
        status="submitted",
        result__in=("victim", "presumed_victim"),
        interview_date__gte=start,
        interview_date__lte=end,
    ).count()


def _timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def run() -> dict:
    count = int(os.environ.get("BENCH_MONITORING_CASES", "100000"))
    repeats = int(os.environ.get("BENCH_MONITORING_REPEATS", "3"))
    vendor = _setup_django()
    seed_seconds = _seed(count, random.Random(11))  # noqa: S311 - synthetic data
    victims = _dashboard()  # also warms the database's caches
    counted = _baseline()
    ours = _timed(_dashboard, repeats)
    base = _timed(_baseline, max(repeats, 10))
    result = {
        "benchmark": "monitoring",
        "cases": count,
        "database": vendor,
        "seed_seconds": round(seed_seconds, 1),
        "identified_victims_in_period": victims,
        "baseline_count": counted,
        "dashboard_median_ms": round(statistics.median(ours), 1),
        "baseline_median_ms": round(statistics.median(base), 3),
        "ratio": round(statistics.median(ours) / max(statistics.median(base), 1e-6), 1),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    out = sys.stdout.write
    out(f"monitoring: dashboard on {count} cases, {vendor} (seeded in {seed_seconds:.0f} s)\n")
    out(
        f"dashboard {result['dashboard_median_ms']} ms,"
        f" one COUNT {result['baseline_median_ms']} ms,"
        f" ratio {result['ratio']}x ({victims} identified victims in the last 12 months)\n"
    )
    return result


main = run

if __name__ == "__main__":
    run()
