"""Search latency for persons across scripts, on 100,000 persons (issue 5).

What is measured: the person search a caseworker runs (``cases.selectors.person_list``:
keyed tokens of every name part across Khmer, Chinese and Latin, matched in the
``search_tokens`` column, within the user's agency scope), fetching the first page of 25
and decrypting the names shown, as the person list does. The baseline is the same query
on a plain indexed column: the same name words stored in clear in an indexed table, looked
up by equality (the same spellings of each word), fetching the same page without
decryption. Both run in the same process on the
same database, so the ratio compares machines fairly.

Settings (environment): ``BENCH_SEARCH_PERSONS`` (100000), ``BENCH_SEARCH_QUERIES`` (100
per kind). The database is a fresh SQLite file in a temporary node home, unless
``BENCH_SEARCH_DATABASE_URL`` names a PostgreSQL database that may be emptied. Results go
to ``bench/results/cases_search.json``. A benchmark, not a test: nothing here fails the build.

Seeding shortcut: the synthetic persons share one data key and are written with
``bulk_create`` (names encrypted by the model fields, search tokens computed by the same
function the service uses), because 100,000 calls of ``person_create`` with one audit row
each would take longer than the measurement and does not change what is measured.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "cases_search.json"

KHMER_GIVEN = ["សុខា", "ស្រីល័ក្ខ", "ដារា", "ពិសិដ្ឋ", "សុភា", "ចាន់ធី", "វណ្ណា", "ស្រីនាង", "បុប្ផា", "រតនា"]
KHMER_FAMILY = ["ចាន់", "ម៉ៅ", "សុខ", "ហេង", "ខៀវ", "ឡុង", "សៅ", "ឈឹម", "គឹម", "ពៅ"]
LATIN_GIVEN = ["SOKHA", "SREYLEAK", "DARA", "PISETH", "SOPHEA", "CHANTHY", "VANNA", "SREYNEANG"]
LATIN_FAMILY = ["CHAN", "MAO", "SOK", "HENG", "KHIEU", "LONG", "SAO", "CHHIM", "KIM", "POV"]
HAN_FAMILY = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"]
HAN_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "小明", "志强", "浩然"]

# (label, what the user types)
QUERIES = [
    ("latin finds khmer", "Sokha"),
    ("pinyin finds hanzi", "wang"),
    ("two words", "Chan Sokha"),
    ("khmer script", "ដារា"),
    ("no match", "Zzyzx"),
]


def _setup_django() -> str:
    url = os.environ.get("BENCH_SEARCH_DATABASE_URL", "")
    from ctip.home import create_home

    folder = tempfile.mkdtemp(prefix="ctip-bench-search-")
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


def _person_data(rng: random.Random) -> dict:
    kind = rng.random()
    if kind < 0.45:  # Cambodian, Khmer script and passport spelling
        i, j = rng.randrange(len(KHMER_GIVEN)), rng.randrange(len(KHMER_FAMILY))
        data = {"name_km": f"{KHMER_GIVEN[i]} {KHMER_FAMILY[j]}"}
        if rng.random() < 0.6:
            given = LATIN_GIVEN[i % len(LATIN_GIVEN)]
            data["name_latin"] = f"{LATIN_FAMILY[j]} {given}"
        return data
    if kind < 0.8:  # Chinese
        return {"name_zh": rng.choice(HAN_FAMILY) + rng.choice(HAN_GIVEN)}
    return {"name_latin": f"{rng.choice(LATIN_FAMILY)} {rng.choice(LATIN_GIVEN)}"}


def _seed(count: int, rng: random.Random):
    from django.db import connection, transaction

    from ctip.accounts.services import AgencyInput, agency_upsert, user_create
    from ctip.cases.models import Person
    from ctip.cases.search import _words, name_keys
    from ctip.cases.services import person_search_tokens
    from ctip.core.models import DataKey

    agency = agency_upsert(
        actor=None, data=AgencyInput("kh-bench-search", "Bench agency", "ngo", "KH")
    )
    other = agency_upsert(actor=None, data=AgencyInput("kh-bench-other", "Other", "ngo", "KH"))
    user = user_create(
        actor=None, username="bench_search", agency=agency, roles=["caseworker"]
    ).user
    key = DataKey.issue()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_plain_name (person_id char(32), word varchar(100))")
        cursor.execute("CREATE INDEX bench_plain_name_word ON bench_plain_name (word)")
    started = time.perf_counter()
    batch, plain = [], []
    for n in range(count):
        data = _person_data(rng)
        person = Person(
            reference=f"KH-P-B{n:07d}",
            owner_agency=agency if n % 10 else other,  # a tenth belongs to another agency
            created_by=user,
            data_key=key,
            sex=rng.choice(["female", "male"]),
            **data,
        )
        person.search_tokens = person_search_tokens(person)
        batch.append(person)
        words = set()
        for value in data.values():
            words.update(_words(value))
            for keys in name_keys(value):
                words.update(keys)
        plain.extend((person.pk.hex, w) for w in words)
        if len(batch) == 2000:
            _flush(batch, plain)
            batch, plain = [], []
    _flush(batch, plain)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return user, time.perf_counter() - started


def _flush(batch, plain) -> None:
    from django.db import connection, transaction

    from ctip.cases.models import Person

    if not batch:
        return
    with transaction.atomic():
        Person.objects.bulk_create(batch)
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_plain_name (person_id, word) VALUES (%s, %s)", plain
            )


def _ours(user, query: str) -> list:
    from ctip.cases.selectors import person_list

    page = list(person_list(user=user, query=query)[:25])
    for person in page:  # the list page shows the names: decrypt them
        _ = (person.name_km, person.name_zh, person.name_latin)
    return page


def _plain_alternatives(query: str) -> list[set[str]]:
    """What ``cases.search.query_alternatives`` computes, without the keyed hash."""
    from ctip.cases.search import _words
    from ctip.core.crypto import normalise_for_index
    from ctip.matching.core import parse_name

    out = []
    for word in _words(query):
        parts = parse_name(word).tokens
        if len(parts) <= 1:
            out.append({word} | set(parts[0].keys if parts else ()))
        else:
            out.extend({normalise_for_index(p.text), *p.keys} for p in parts)
    return out


def _baseline(user, query: str) -> list:
    """The same lookup on a plain indexed column (names in clear): any spelling of each
    word typed, all words, the user's agency, the first page; nothing to decrypt."""
    from django.db import connection

    clauses, params = [], []
    for alternatives in _plain_alternatives(query):
        marks = ", ".join(["%s"] * len(alternatives))
        clauses.append(
            f"id IN (SELECT person_id FROM bench_plain_name WHERE word IN ({marks}))"  # noqa: S608
        )
        params.extend(sorted(alternatives))
    # Placeholders only: the clauses are fixed text.
    where = " AND ".join(["owner_agency_id = %s", "sealed = %s", *clauses])
    sql = f"SELECT id, reference, sex FROM cases_person WHERE {where}"  # noqa: S608
    sql += " ORDER BY created_at DESC LIMIT 25"
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.agency_id, False, *params])
        return cursor.fetchall()


def _timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def _summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "n": len(ordered),
    }


def run() -> dict:
    count = int(os.environ.get("BENCH_SEARCH_PERSONS", "100000"))
    repeats = int(os.environ.get("BENCH_SEARCH_QUERIES", "100"))
    vendor = _setup_django()
    rng = random.Random(5)  # noqa: S311 - synthetic data
    user, seed_seconds = _seed(count, rng)
    rows = []
    for label, query in QUERIES:
        ours_hits = len(_ours(user, query))  # also warms the caches
        base_hits = len(_baseline(user, query))
        ours = _summary(_timed(lambda q=query: _ours(user, q), repeats))
        base = _summary(_timed(lambda q=query: _baseline(user, q), repeats))
        rows.append(
            {
                "query": label,
                "hits_on_first_page": ours_hits,
                "baseline_hits_on_first_page": base_hits,
                "search": ours,
                "baseline": base,
                "ratio_median": round(ours["median_ms"] / max(base["median_ms"], 1e-6), 1),
                "ratio_p95": round(ours["p95_ms"] / max(base["p95_ms"], 1e-6), 1),
            }
        )
    result = {
        "benchmark": "cases_search",
        "persons": count,
        "database": vendor,
        "seed_seconds": round(seed_seconds, 1),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "queries": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    out = sys.stdout.write
    out(f"cases_search: {count} persons on {vendor} (seeded in {seed_seconds:.0f} s)\n")
    head = ("query", "median ms", "p95 ms", "base med", "base p95", "x med", "x p95")
    out(f"{head[0]:<20} " + " ".join(f"{h:>9}" for h in head[1:]) + "\n")
    for row in rows:
        s, b = row["search"], row["baseline"]
        cells = (s["median_ms"], s["p95_ms"], b["median_ms"], b["p95_ms"])
        out(
            f"{row['query']:<20} "
            + " ".join(f"{c:>9.2f}" for c in cells)
            + f" {row['ratio_median']:>9} {row['ratio_p95']:>9}\n"
        )
    return result


if __name__ == "__main__":
    run()
