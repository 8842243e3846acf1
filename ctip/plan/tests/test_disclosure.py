"""The figures of a progress report leave the node through the disclosure control
(SECURITY.md DP-9, #40): periods of whole calendar months only (others refused and
audited), small counts about people withheld, no small difference between two reports
(overlapping periods, two month ends, or a later revision of the same period)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ctip.audit.models import AuditEvent
from ctip.cases.models import Person
from ctip.cases.services import PersonInput, person_create
from ctip.monitoring.release import month_end
from ctip.plan import disclosure, indicators, services
from ctip.plan.models import ProgressReport

pytestmark = pytest.mark.django_db

BLOCKED = {"action": "security", "details__event": "statistics_differencing_blocked"}
WITHHELD = {"action": "security", "details__event": "statistics_differencing_withheld"}


@pytest.fixture
def plan(me_officer, settings):
    settings.CTIP_SDC_THRESHOLD = 5  # SECURITY.md DP-9's threshold (the default is 10)
    return services.plan_load().version


def this_month() -> tuple[date, date]:
    today = timezone.localdate()
    return today.replace(day=1), month_end(today)


def figure(report: ProgressReport, code: str = "III.6-persons-recorded", country: str = "KH"):
    item = next(i for i in report.content["indicators"] if i["code"] == code)
    return item["values"][country]["value"]


def persons(user, n: int, *, on: date | None = None) -> None:
    made = [person_create(user=user, data=PersonInput(name_latin=f"TEST {i}")) for i in range(n)]
    if on is not None:
        stamp = timezone.make_aware(timezone.datetime(on.year, on.month, on.day, 12))
        Person.objects.filter(pk__in=[p.pk for p in made]).update(created_at=stamp)


def test_periods_that_differ_by_a_few_days_are_refused_and_audited(plan, me_officer, client_of):
    ok = services.report_create(
        user=me_officer,
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        language="km",
    )
    # The attack: the same month less its first two days, or less its last two.
    with pytest.raises(ValidationError) as refused:
        services.report_create(
            user=me_officer,
            period_start=date(2026, 3, 3),
            period_end=date(2026, 3, 31),
            language="km",
        )
    assert set(refused.value.message_dict) == {"period_start"}
    with pytest.raises(ValidationError) as refused:
        services.report_create(
            user=me_officer,
            period_start=date(2026, 3, 1),
            period_end=date(2026, 3, 29),
            language="km",
        )
    assert set(refused.value.message_dict) == {"period_end"}
    assert list(ProgressReport.objects.all()) == [ok]

    def blocked():
        return AuditEvent.objects.filter(**BLOCKED, object_type="plan.progressreport")

    events = list(blocked())
    assert sorted(e.details["parameter"] for e in events) == ["end", "start"]
    assert {e.details["start"] for e in events} == {"2026-03-03", "2026-03-01"}

    # From the page: a 400 naming the field, the form shown again, audited.
    response = client_of(me_officer).post(
        "/plan/reports/new/",
        {"period_start": "2026-03-02", "period_end": "2026-03-31", "language": "km"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "start on the first day of a month" in page and 'value="2026-03-02"' in page
    assert blocked().count() == 3
    assert ProgressReport.objects.count() == 1
    # An invalid period is a plain error, not a differencing attempt.
    with pytest.raises(ValidationError):
        services.report_create(
            user=me_officer,
            period_start=date(2026, 3, 1),
            period_end=date(2026, 2, 28),
            language="km",
        )
    assert blocked().count() == 3


def test_two_persons_in_a_month_are_withheld_and_not_the_officials(plan, me_officer, caseworker_a):
    start, end = this_month()
    before = indicators.compute("cases.persons_recorded", country="KH", start=start, end=end)
    assert before.value == 0
    persons(caseworker_a, 2)
    assert (
        indicators.compute("cases.persons_recorded", country="KH", start=start, end=end).value == 2
    )
    report = services.report_create(
        user=me_officer, period_start=start, period_end=end, language="km"
    )
    assert figure(report) == "<5"
    # Not about victims: the plan's own counts are shown as they are (1 report issued).
    assert figure(report, "VI.2-reports-issued") == "0"
    assert figure(report, "I.1-activities-done") == "0"


def test_a_revision_by_one_and_a_month_end_close_to_another_are_not_revealed(
    plan, me_officer, caseworker_a
):
    start, end = this_month()
    last_end = start - timedelta(days=1)
    last_start = last_end.replace(day=1)
    persons(caseworker_a, 6, on=last_start)

    def issue(first, last):
        return services.report_create(
            user=me_officer, period_start=first, period_end=last, language="km"
        )

    assert figure(issue(last_start, last_end)) == "6"
    # Two more this month: the month ends differ by 2, the people recorded this month.
    persons(caseworker_a, 2)
    assert figure(issue(start, end)) == "<5"
    # One late record for last month: the revision would show 7 against the 6 published.
    persons(caseworker_a, 1, on=last_start)
    assert figure(issue(last_start, last_end)) == "<5"
    assert AuditEvent.objects.filter(**WITHHELD).exists()
    # Enough change that neither difference is small: published again.
    persons(caseworker_a, 5, on=last_start)
    assert figure(issue(last_start, last_end)) == "12"
    # This month: 14 against 12 published for last month (a difference of 2): withheld.
    assert figure(issue(start, end)) == "<5"
    # 17 would still be close to the 14 of the withheld attempt (the release log's rule:
    # a change smaller than the threshold since any version that covered it is withheld).
    persons(caseworker_a, 5)
    assert figure(issue(start, end)) == "19"
    published = [
        int(figure(r))
        for r in ProgressReport.objects.order_by("created_at")
        if figure(r).isdigit() and int(figure(r))
    ]
    assert all(a == b or abs(a - b) >= 5 for a in published for b in published)


# --- a count over the period (screenings, messages): the monthly blocks ---------------------

MONTHS_2026 = {1: 3, 2: 12, 3: 20, 4: 15, 5: 11, 6: 14}


@pytest.fixture
def flow(plan, monkeypatch):
    """A count over the period, month by month as in MONTHS_2026 (a stand-in for the
    screenings, whose records need the whole identification form to make)."""
    counts = dict(MONTHS_2026)

    def count(*, country, start, end):
        return sum(n for month, n in counts.items() if start <= date(2026, month, 1) <= end)

    monkeypatch.setitem(indicators._REGISTRY, "test.flow", indicators._Entry(count, True))
    monkeypatch.setattr(disclosure, "FLOWS", disclosure.FLOWS | {"test.flow"})
    return counts


def periods_2026():
    for first in range(1, 13):
        for last in range(first, 13):
            yield date(2026, first, 1), month_end(date(2026, last, 1))


def protected(start, end, user):
    return disclosure.protect("test.flow", country="KH", start=start, end=end, k=5, user=user)


def recomputable(published: list[tuple[date, date]], month: int) -> bool:
    """Whether an attacker holding the figures of these periods gets ``month`` exactly:
    its unit vector is in the span of the periods' month vectors."""
    if not published:
        return False
    rows = np.array(
        [[1.0 if s.month <= m <= e.month else 0.0 for m in range(1, 13)] for s, e in published]
    )
    unit = np.eye(12)[month - 1]
    return np.linalg.matrix_rank(np.vstack([rows, unit])) == np.linalg.matrix_rank(rows)


def test_overlapping_periods_do_not_subtract_to_a_small_month(flow, me_officer):
    # The attack on the bare counts: January–June less February–June is January's 3.
    raw = {
        (s, e): indicators.compute("test.flow", country="KH", start=s, end=e).value
        for s, e in ((date(2026, 1, 1), date(2026, 6, 30)), (date(2026, 2, 1), date(2026, 6, 30)))
    }
    assert (
        raw[(date(2026, 1, 1), date(2026, 6, 30))] - raw[(date(2026, 2, 1), date(2026, 6, 30))] == 3
    )
    assert recomputable(list(raw), 1)

    # Through the control, every period of whole months of the year.
    figures = {(s, e): protected(s, e, me_officer) for s, e in periods_2026()}
    shown = [p for p, f in figures.items() if not f.withheld]
    assert figures[(date(2026, 1, 1), date(2026, 6, 30))].withheld
    assert figures[(date(2026, 2, 1), date(2026, 4, 30))].value == 47
    # The year total is shown, so another month is withheld with January (complementary
    # suppression of the year block: the smallest non-zero month, May), and with it
    # every period holding May: the year less February–June is not January.
    assert figures[(date(2026, 5, 1), date(2026, 5, 31))].withheld
    assert figures[(date(2026, 2, 1), date(2026, 6, 30))].withheld
    assert figures[(date(2026, 1, 1), date(2026, 12, 31))].value == 75  # the year total
    for month, n in MONTHS_2026.items():
        if 0 < n < 5:
            assert not recomputable(shown, month)
    # Two published periods, one inside the other, never differ by a small count.
    for outer in shown:
        for inner in shown:
            if outer[0] <= inner[0] and inner[1] <= outer[1]:
                difference = figures[outer].value - figures[inner].value
                assert difference == 0 or difference >= 5, (outer, inner)
    # Asking again gives the same figures (one block per year, deterministic).
    assert protected(date(2026, 3, 1), date(2026, 4, 30), me_officer).value == 35


def test_a_late_record_does_not_show_as_a_change_of_one(flow, me_officer):
    march_april = (date(2026, 3, 1), date(2026, 4, 30))
    assert protected(*march_april, me_officer).value == 35
    flow[3] += 1  # a screening entered late for March
    again = protected(*march_april, me_officer)
    assert again.withheld and again.value is None
    assert protected(date(2026, 3, 1), date(2026, 3, 31), me_officer).withheld
    assert AuditEvent.objects.filter(**WITHHELD, object_id="plan:test.flow").exists()
    flow[3] += 5  # now 26 against the 20 published: a change of 6 may show
    assert protected(*march_april, me_officer).value == 41


def test_an_old_unprotected_report_is_not_sent(plan, me_officer, caseworker_a):
    start, end = this_month()
    report = services.report_create(
        user=me_officer, period_start=start, period_end=end, language="km"
    )
    item = next(i for i in report.content["indicators"] if i["code"] == "III.6-persons-recorded")
    item["values"]["KH"]["value"] = "2"  # as a report issued before the control said
    report.save()
    with pytest.raises(services.PlanError, match="small counts about people"):
        services.report_send(user=me_officer, report=report)
    ProgressReport.objects.filter(pk=report.pk).update(period_end=end - timedelta(days=1))
    report.refresh_from_db()
    with pytest.raises(services.PlanError, match="whole calendar months"):
        services.report_send(user=me_officer, report=report)
