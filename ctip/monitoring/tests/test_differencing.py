"""SECURITY.md #40 attacked for real: differencing two tables that left the node.

The attacker holds every table published (API answers, downloads, statistics messages) and
solves the linear equations they give over the true counts (exact rational elimination):
a count is given away when its value is fixed by them. The attack is first shown to work on
tables protected one by one over free periods (the way this app published before), then
run against what the app publishes now: periods on the grid of whole months, cut out of one
protected block per calendar year, and every new version of a block checked against the
release log.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from fractions import Fraction

import pytest
from django.core.cache import cache
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ctip.audit.models import AuditEvent
from ctip.cases import services as cases
from ctip.cases.demo import _answers
from ctip.exchange.models import OutboxMessage
from ctip.monitoring import catalogue, release, sdc, services, sync
from ctip.monitoring.models import StatisticsSource, TableRelease
from ctip.monitoring.tests.test_sdc import determined, grid_of
from ctip.monitoring.tests.test_statistics import cn_peer  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

K = 5  # DP-9's threshold, to keep the records few
YEAR = 2025
API = f"/api/v1/monitoring/indicators/{catalogue.VICTIMS}"
# month → (women, men) identified in that month of YEAR; April's two women are the secret.
SPRING = {1: (5, 5), 2: (6, 5), 3: (7, 6), 4: (2, 5)}


# --- the attacker ----------------------------------------------------------------------------


class Attacker:
    """Linear equations over unknown true counts named (version, month, column)."""

    def __init__(self):
        self.basis: list[tuple[object, dict, Fraction]] = []

    def know(self, form: dict, value) -> None:
        row, rhs = self._reduce(dict(form), Fraction(value))
        if row:
            pivot = next(iter(row))
            factor = row[pivot]
            self.basis.append(
                (pivot, {v: c / factor for v, c in row.items()}, Fraction(rhs) / factor)
            )

    def _reduce(self, form: dict, rhs: Fraction):
        form = {v: Fraction(c) for v, c in form.items() if c}
        for pivot, row, value in self.basis:
            factor = form.get(pivot)
            if factor:
                for v, c in row.items():
                    form[v] = form.get(v, 0) - factor * c
                    if not form[v]:
                        del form[v]
                rhs -= factor * value
        return form, rhs

    def value(self, form: dict):
        """The value of the linear form ``form`` if the equations fix it, else None."""
        rest, value = self._reduce(dict(form), Fraction(0))
        return None if rest else -value

    def table(self, version: str, data: dict) -> None:
        """Everything an API answer (or a statistics message's table) publishes."""
        rows, cols = data["rows"], data["cols"]
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                if data["cells"][i][j] is not None:
                    self.know({(version, r, c): 1}, data["cells"][i][j])
            if data["row_totals"] and data["row_totals"][i] is not None:
                self.know({(version, r, c): 1 for c in cols}, data["row_totals"][i])
        if data.get("col_totals"):
            for j, c in enumerate(cols):
                if data["col_totals"][j] is not None:
                    self.know({(version, r, c): 1 for r in rows}, data["col_totals"][j])
            if data["total"] is not None:
                self.know({(version, r, c): 1 for r in rows for c in cols}, data["total"])


def month(n: int) -> str:
    return f"{YEAR}-{n:02d}"


def spring_counts(cols) -> dict:
    """The true counts of YEAR by (month, column)."""
    out = {}
    for n in range(1, 13):
        women, men = SPRING.get(n, (0, 0))
        for c in cols:
            out[(month(n), c)] = {"female": women, "male": men}.get(c, 0)
    return out


# --- records -------------------------------------------------------------------------------


def identify_on(user, day: dt.date, sex: str) -> None:
    person = cases.person_create(
        user=user,
        data=cases.PersonInput(name_latin="TEST PERSON", sex=sex, age_estimate=30),
    )
    screening = cases.screening_start(user=user, person=person)
    raw = _answers("forced_marriage", age=30, country="CN")
    raw["interview_date"] = day.isoformat()
    cases.screening_submit(user=user, screening=screening, raw=raw)


@pytest.fixture
def k5(settings):
    settings.CTIP_SDC_THRESHOLD = K
    return K


@pytest.fixture
def spring(caseworker_a, k5):
    for n, (women, men) in SPRING.items():
        for i in range(women):
            identify_on(caseworker_a, dt.date(YEAR, n, 1 + i), "female")
        for i in range(men):
            identify_on(caseworker_a, dt.date(YEAR, n, 10 + i), "male")


def get_table(client, start: str, end: str, by: str = "sex"):
    return client.get(f"{API}?by={by}&start={start}&end={end}")


# --- the attack works on tables protected one by one -----------------------------------------


def test_the_attack_recovers_a_small_cell_from_two_naive_tables():
    """Jan–Mar and Jan–Apr, each protected on its own with its column totals: subtracting
    the totals gives April's two women, though each table withholds them."""
    cols = ["female", "male"]
    attacker = Attacker()
    for months in ([1, 2, 3], [1, 2, 3, 4]):
        counts = [list(SPRING[n]) for n in months]
        p = sdc.protect([month(n) for n in months], cols, counts, threshold=K)
        assert not determined(grid_of(p))  # each table alone holds
        attacker.table(
            "v",
            {
                "rows": list(p.rows),
                "cols": cols,
                "cells": [list(line) for line in p.cells],
                "row_totals": list(p.row_totals),
                "col_totals": list(p.col_totals),
                "total": p.total,
            },
        )
    assert attacker.value({("v", month(4), "female"): 1}) == 2


# --- the grid -------------------------------------------------------------------------------


def test_overlapping_periods_on_the_grid_give_nothing_away(client_of, me_officer, spring):
    client = client_of(me_officer)
    answers = [
        get_table(client, f"{YEAR}-01-01", f"{YEAR}-03-31"),
        get_table(client, f"{YEAR}-01-01", f"{YEAR}-04-30"),
        get_table(client, f"{YEAR}-02-01", f"{YEAR}-04-30"),
        get_table(client, f"{YEAR}-01-01", f"{YEAR}-12-31"),
        get_table(client, f"{YEAR}-03-01", f"{YEAR + 1}-02-28"),
    ]
    assert [a.status_code for a in answers] == [200] * 5
    tables = [a.json() for a in answers]
    # Totals over the months only with the whole year.
    assert [t["total"] is not None for t in tables] == [False, False, False, True, False]
    # The same month is shown the same way in every table.
    seen: dict = {}
    for t in tables:
        for i, r in enumerate(t["rows"]):
            line = (dict(zip(t["cols"], t["cells"][i], strict=True)), t["row_totals"][i])
            assert seen.setdefault(r, line) == line
    assert seen[month(4)][0]["female"] is None  # the secret is withheld
    attacker = Attacker()
    for t in tables[:4]:  # the last one reaches into the next year: another block
        attacker.table("v", t)
    cols = tables[3]["cols"]
    true = spring_counts(cols)
    given_away = {
        pos: value
        for pos, value in true.items()
        if 0 < value < K and attacker.value({("v", *pos): 1}) is not None
    }
    assert given_away == {}
    # The attacker does learn what is published: Jan's row, for one.
    assert attacker.value({("v", month(1), c): 1 for c in cols}) == 10


def test_a_period_off_the_grid_is_refused_and_audited(client_of, me_officer, spring):
    client = client_of(me_officer)
    assert get_table(client, f"{YEAR}-03-01", f"{YEAR}-03-31").status_code == 200
    # The same month less its first day: the difference would be that day's records.
    shifted = get_table(client, f"{YEAR}-03-02", f"{YEAR}-03-31")
    assert shifted.status_code == 400
    assert list(shifted.json()["error"]["fields"]) == ["start"]
    cut = get_table(client, f"{YEAR}-03-01", f"{YEAR}-03-30")
    assert cut.status_code == 400 and list(cut.json()["error"]["fields"]) == ["end"]
    stays = client.get(
        f"/api/v1/monitoring/indicators/{catalogue.STAGE_DAYS}?start={YEAR}-01-01&end={YEAR}-06-30"
    )
    assert stays.status_code == 400 and list(stays.json()["error"]["fields"]) == ["end"]
    # Without a period, a table published by year comes for this calendar year.
    this_year = client.get(f"/api/v1/monitoring/indicators/{catalogue.STAGE_DAYS}").json()
    assert this_year["start"].endswith("-01-01") and this_year["end"].endswith("-12-31")
    download = client.get(
        reverse("monitoring:panel_csv", args=[catalogue.VICTIMS, "sex"])
        + f"?start={YEAR}-03-02&end={YEAR}-03-31"
    )
    assert download.status_code == 400 and download.content.decode().startswith("start: ")
    blocked = AuditEvent.objects.filter(
        action="security", details__event=release.BLOCKED_EVENT
    ).order_by("seq")
    assert [(e.details["parameter"], e.details["channel"]) for e in blocked] == [
        ("start", "api"),
        ("end", "api"),
        ("end", "api"),
        ("start", "download"),
    ]
    first = blocked.first()
    assert first.actor_username == "me_officer" and first.object_id == catalogue.VICTIMS
    assert first.details["start"] == f"{YEAR}-03-02" and first.details["end"] == f"{YEAR}-03-31"
    # Nothing of the refused requests was exported.
    assert not AuditEvent.objects.filter(action="export").exists()
    # An invalid period (end before start) is refused but is no differencing attempt.
    backwards = get_table(client, f"{YEAR}-05-01", f"{YEAR}-01-31")
    assert backwards.status_code == 400 and blocked.count() == 4


def test_the_dashboard_downloads_are_on_the_grid(client_of, me_officer, spring):
    client = client_of(me_officer)
    html = client.get(reverse("monitoring:index") + "?start=2025-02-14&end=2025-05-20").content
    links = re.findall(r'href="([^"]*/panels/[^"]*)"', html.decode())
    assert len(links) == len(catalogue.PANELS)
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
    assert "start=2025-02-01&amp;end=2025-05-31" in html.decode()
    assert not AuditEvent.objects.filter(details__event=release.BLOCKED_EVENT).exists()


# --- the release log: the same table later, after a late record --------------------------


def test_a_late_record_does_not_show_as_a_difference(client_of, me_officer, caseworker_a, spring):
    client = client_of(me_officer)
    before = get_table(client, f"{YEAR}-01-01", f"{YEAR}-12-31").json()
    identify_on(caseworker_a, dt.date(YEAR, 3, 20), "female")  # entered late
    cache.clear()
    after = get_table(client, f"{YEAR}-01-01", f"{YEAR}-12-31").json()
    cols = after["cols"]
    assert before["cols"] == cols

    def entries(t):
        out = {}
        for i, r in enumerate(t["rows"]):
            out |= {(r, c): t["cells"][i][j] for j, c in enumerate(cols)}
            out[(r, "total")] = t["row_totals"][i]
        out |= {("total", c): t["col_totals"][j] for j, c in enumerate(cols)}
        out[("total", "total")] = t["total"]
        return out

    old, new = entries(before), entries(after)
    # 1. Subtracting what both publish: no change of fewer than K.
    for pos in old:
        if old[pos] is not None and new[pos] is not None:
            assert new[pos] - old[pos] == 0 or abs(new[pos] - old[pos]) >= K, pos
    # 2. Solving both, knowing which counts did not change: March's women stay unknown.
    attacker = Attacker()
    attacker.table("before", before)
    attacker.table("after", after)
    for r in after["rows"]:
        for c in cols:
            if (r, c) != (month(3), "female"):
                attacker.know({("before", r, c): 1, ("after", r, c): -1}, 0)
    change = {("after", month(3), "female"): 1, ("before", month(3), "female"): -1}
    assert attacker.value(change) is None
    # The same attack on the table protected without the release log finds the change.
    naive = Attacker()
    naive.table("before", before)
    counts = spring_counts(cols)
    counts[(month(3), "female")] += 1
    p = sdc.protect(
        [month(n) for n in range(1, 13)],
        cols,
        [[counts[(month(n), c)] for c in cols] for n in range(1, 13)],
        threshold=K,
    )
    naive.table(
        "after",
        {
            "rows": [month(n) for n in range(1, 13)],
            "cols": cols,
            "cells": [list(line) for line in p.cells],
            "row_totals": list(p.row_totals),
            "col_totals": list(p.col_totals),
            "total": p.total,
        },
    )
    for r in after["rows"]:
        for c in cols:
            if (r, c) != (month(3), "female"):
                naive.know({("before", r, c): 1, ("after", r, c): -1}, 0)
    assert naive.value(change) == 1
    # Still a useful table, and the choice is on the record.
    assert new[(month(2), "female")] == 6 and new[(month(3), "male")] == 6
    # The month totals are released as their own table too (every breakdown shows them
    # the same way): both withheld the late record's change, and said so.
    withheld = AuditEvent.objects.filter(action="security", details__event=release.WITHHELD_EVENT)
    assert {e.details["by"] for e in withheld} == {"sex", release.MARGINS}
    assert {(e.actor_username, e.details["block"]) for e in withheld} == {("me_officer", "2025")}
    versions = TableRelease.objects.filter(released_table__block=str(YEAR))
    assert versions.filter(released_table__by="sex").count() == 2
    # Asking again changes nothing and logs nothing new.
    assert get_table(client, f"{YEAR}-01-01", f"{YEAR}-12-31").json() == after
    assert withheld.count() == 2 and versions.filter(released_table__by="sex").count() == 2


def test_another_breakdown_shows_the_month_totals_the_same_way(
    client_of, me_officer, caseworker_a, spring
):
    """By sex before a late record, by age (never asked before) after it: the age table
    must not show the March total that moved by one."""
    client = client_of(me_officer)
    by_sex = get_table(client, f"{YEAR}-01-01", f"{YEAR}-12-31").json()
    identify_on(caseworker_a, dt.date(YEAR, 3, 20), "female")
    cache.clear()
    by_age = get_table(client, f"{YEAR}-01-01", f"{YEAR}-12-31", by="age").json()
    march = by_age["rows"].index(month(3))
    assert by_sex["row_totals"][march] == 13 and by_sex["total"] == 41
    assert by_age["row_totals"][march] is None and by_age["total"] is None
    for before, after in zip(by_sex["row_totals"], by_age["row_totals"], strict=True):
        assert before is None or after is None or before == after
    # Protected on its own, the age table would show March's 14 (everyone is 30-38).
    band = by_age["cols"].index("30-38")
    counts = [[0] * len(by_age["cols"]) for _ in range(12)]
    for n, (women, men) in SPRING.items():
        counts[n - 1][band] = women + men + (1 if n == 3 else 0)
    alone = sdc.protect(by_age["rows"], by_age["cols"], counts, threshold=K)
    assert alone.row_totals[march] == 14
    # The attacker, knowing that no other month changed, cannot get March's change.
    attacker = Attacker()
    attacker.table("sex", by_sex)
    attacker.table("age", by_age)
    for n in range(1, 13):
        if n != 3:
            attacker.know(
                {("sex", month(n), c): 1 for c in by_sex["cols"]}
                | {("age", month(n), c): -1 for c in by_age["cols"]},
                0,
            )
    change = {("age", month(3), c): 1 for c in by_age["cols"]} | {
        ("sex", month(3), c): -1 for c in by_sex["cols"]
    }
    assert attacker.value(change) is None


# --- the statistics message: a revision against the earlier one --------------------------------


def test_a_revised_statistics_message_shows_no_small_change(me_officer, cn_peer, k5):  # noqa: F811
    def record(women, returns):
        return services.statistics_record(
            user=me_officer,
            data=services.StatisticsInput(
                month=dt.date(YEAR, 3, 1),
                returns=returns,
                victims={"forced_marriage": {"female": women, "male": 9}, "begging": {"male": 8}},
            ),
            source=StatisticsSource.ENTERED,
        )

    services.statistics_send(user=me_officer, row=record(women=12, returns=20))
    services.statistics_send(user=me_officer, row=record(women=13, returns=40))
    first, second = (
        json.loads(m.body)
        for m in OutboxMessage.objects.filter(msg_type=sync.STATISTICS_TYPE).order_by("seq")
    )
    assert (first["revision"], second["revision"]) == (1, 2)
    married = first["victims"]["rows"].index("forced_marriage")
    assert first["victims"]["cells"][married][:2] == [12, 9] and first["returns"] == 20
    # One more woman: her cell and every total holding her are withheld; returns moved by 20.
    victims = second["victims"]
    assert victims["cells"][married][0] is None and victims["total"] is None
    assert victims["col_totals"][0] is None and victims["row_totals"][married] is None
    assert second["returns"] == 40
    attacker = Attacker()
    attacker.table("1", first["victims"])
    attacker.table("2", second["victims"])
    for r in victims["rows"]:
        for c in victims["cols"]:
            if (r, c) != ("forced_marriage", "female"):
                attacker.know({("1", r, c): 1, ("2", r, c): -1}, 0)
    change = {("2", "forced_marriage", "female"): 1, ("1", "forced_marriage", "female"): -1}
    assert attacker.value(change) is None
    assert AuditEvent.objects.filter(
        details__event=release.WITHHELD_EVENT, object_id=services.STATISTICS_TABLE
    ).exists()


# --- the pure parts --------------------------------------------------------------------------


def test_withheld_positions_are_protected_like_small_ones():
    rows, cols = ["a", "b", "c"], ["x", "y", "z"]
    counts = [[20, 30, 40], [25, 35, 45], [50, 60, 70]]
    p = sdc.protect(rows, cols, counts, threshold=K, withhold=[(1, 1)])
    assert p.cells[1][1] is None and p.primary == 0 and p.suppressed >= 4
    assert not determined(grid_of(p))
    with pytest.raises(ValueError, match="outside"):
        sdc.protect(rows, cols, counts, threshold=K, withhold=[(9, 0)])


def withheld(p) -> set[tuple[int, int]]:
    return {(i, j) for i, line in enumerate(grid_of(p)) for j, v in enumerate(line) if v is None}


def _release(rows, cols, counts, p):
    grid = tuple(tuple(line) for line in grid_of(p))
    covered = tuple(tuple(True for _ in line) for line in grid)
    return sdc.Release(tuple(rows), tuple(cols), tuple(map(tuple, counts)), grid, covered)


def test_two_complement_patterns_of_the_same_counts_are_caught():
    """Same counts, protected twice with different complementary cells: together they give
    the small cell back; ``disclosures`` says so, and the attacker confirms it."""
    rows, cols = ["a", "b", "c"], ["x", "y", "z"]
    counts = [[3, 30, 40], [25, 35, 45], [50, 60, 70]]
    one = sdc.protect(rows, cols, counts, threshold=K)
    # Force another pattern: withhold the cell the first one published in row "a".
    two = sdc.protect(rows, cols, counts, threshold=K, withhold=[(0, 2)])
    assert withheld(one) != withheld(two)
    assert not determined(grid_of(one)) and not determined(grid_of(two))
    found = sdc.disclosures(
        _release(rows, cols, counts, one), _release(rows, cols, counts, two), threshold=K
    )
    attacker = Attacker()
    for name, p in (("v", one), ("v", two)):
        attacker.table(
            name,
            {
                "rows": rows,
                "cols": cols,
                "cells": [list(line) for line in p.cells],
                "row_totals": list(p.row_totals),
                "col_totals": list(p.col_totals),
                "total": p.total,
            },
        )
    recovered = attacker.value({("v", "a", "x"): 1})
    assert (("small", ("a", "x")) in found) == (recovered == 3)
    assert recovered == 3  # the pair is a real leak, and it was reported
    same = _release(rows, cols, counts, one)
    assert sdc.disclosures(same, same, threshold=K) == set()


@hsettings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 30), min_size=3, max_size=3), min_size=3, max_size=4),
    st.sets(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=3),
)
def test_disclosures_agree_with_the_attacker(counts, withhold):
    """On random tables protected two ways, ``disclosures`` reports a small count exactly
    when the attacker, solving both together, recovers it."""
    rows = [f"r{i}" for i in range(len(counts))]
    cols = ["x", "y", "z"]
    withhold = {(i, j) for i, j in withhold if i <= len(rows)}
    one = sdc.protect(rows, cols, counts, threshold=K)
    two = sdc.protect(rows, cols, counts, threshold=K, withhold=withhold)
    found = sdc.disclosures(
        _release(rows, cols, counts, one), _release(rows, cols, counts, two), threshold=K
    )
    attacker = Attacker()
    for p in (one, two):
        attacker.table(
            "v",
            {
                "rows": rows,
                "cols": cols,
                "cells": [list(line) for line in p.cells],
                "row_totals": list(p.row_totals),
                "col_totals": list(p.col_totals),
                "total": p.total,
            },
        )
    recovered = set()
    labels_r, labels_c = [*rows, sdc.TOTAL], [*cols, sdc.TOTAL]
    for r in labels_r:
        for c in labels_c:
            in_rows = rows if r == sdc.TOTAL else [r]
            in_cols = cols if c == sdc.TOTAL else [c]
            true = sum(counts[rows.index(a)][cols.index(b)] for a in in_rows for b in in_cols)
            form = {("v", a, b): 1 for a in in_rows for b in in_cols}
            if 0 < true < K and attacker.value(form) is not None:
                recovered.add(("small", (r, c)))
    assert found == recovered
