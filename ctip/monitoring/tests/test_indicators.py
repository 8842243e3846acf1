"""Indicator values on known data: the victims fixture, counted by every disaggregation;
the plan's registry answers the same; the cache; a registered indicator of another app."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ctip.monitoring import catalogue, htcds
from ctip.monitoring import indicators as m
from ctip.monitoring.models import ScreeningFact
from ctip.monitoring.services import facts_refresh

pytestmark = pytest.mark.django_db


def period():
    today = timezone.localdate()
    return today - dt.timedelta(days=60), today


def column(table, code):
    j = table.cols.index(code)
    return sum(line[j] for line in table.cells)


def test_victims_identified_by_every_disaggregation(victims):
    start, end = period()
    by_sex = m.compute(catalogue.VICTIMS, start=start, end=end, by="sex")
    assert by_sex.total == 12
    assert column(by_sex, "female") == 7 and column(by_sex, "male") == 5
    assert by_sex.cols[:4] == ("female", "male", "other", "unknown")  # fixed order, zeros too
    month = f"{victims[0][1].interview_date:%Y-%m}"
    assert by_sex.cells[by_sex.rows.index(month)][0] == 7

    by_nat = m.compute(catalogue.VICTIMS, start=start, end=end, by="nationality")
    assert column(by_nat, "KH") == 10 and column(by_nat, "CN") == 2

    by_form = m.compute(catalogue.VICTIMS, start=start, end=end, by="exploitation")
    assert column(by_form, "forced_marriage") == 7
    assert column(by_form, "forced_criminality") == 5
    assert column(by_form, "begging") == 0

    by_province = m.compute(catalogue.VICTIMS, start=start, end=end, by="province")
    assert (
        column(by_province, "KH-14") + column(by_province, "KH-03") + column(by_province, "unknown")
        == 12
    )
    assert column(by_province, "unknown") == 2

    by_age = m.compute(catalogue.VICTIMS, start=start, end=end, by="age")
    # Women aged 19..25 estimated when recorded (today): 18-20 ×2, 21-23 ×3, 24-26 ×2.
    assert column(by_age, "18-20") == 2 and column(by_age, "21-23") == 3
    assert column(by_age, "24-26") == 2 and column(by_age, "30-38") == 5


def test_facts_are_read_once_and_audited(victims):
    from ctip.audit.models import AuditEvent

    assert facts_refresh() == 12  # each submitted screening read once
    assert ScreeningFact.objects.count() == 12
    assert facts_refresh() == 0
    rows = AuditEvent.objects.filter(object_type="cases.screening", action="view")
    assert rows.filter(details__purpose="statistics").exists()


def test_plan_registry_answers_with_the_same_count(victims):
    from ctip.monitoring.release import whole_months
    from ctip.plan import indicators as plan_indicators

    start, end = whole_months(*period())
    measure = plan_indicators.compute(catalogue.VICTIMS, country="KH", start=start, end=end)
    assert measure.available and measure.value == 12
    # Progress reports travel: a period off the month grid gives no figure.
    short = end - dt.timedelta(days=1)
    off = plan_indicators.compute(catalogue.VICTIMS, country="KH", start=start, end=short)
    assert not off.available and off.value is None


def test_cached_until_recomputed(victims, caseworker_a):
    from ctip.monitoring.tests.conftest import identify

    start, end = period()
    assert m.compute(catalogue.VICTIMS, start=start, end=end, by="sex").total == 12
    identify(caseworker_a, sex="female", age=40)
    assert m.compute(catalogue.VICTIMS, start=start, end=end, by="sex").total == 12  # cached
    fresh = m.compute(catalogue.VICTIMS, start=start, end=end, by="sex", cached=False)
    assert fresh.total == 13


def test_median_days_per_stage_and_repatriations(caseworker_a):
    from ctip.cases import services as cases
    from ctip.cases.models import CaseEvent
    from ctip.monitoring.tests.conftest import identify

    _p, _s, case = identify(caseworker_a, sex="female", age=22, open_case=True)
    case = cases.case_advance(user=caseworker_a, case=case)  # identified → protected
    # Pretend the case was opened three days earlier.
    opened = CaseEvent.objects.get(case=case, kind="opened")
    CaseEvent.objects.filter(pk=opened.pk).update(at=opened.at - dt.timedelta(days=3))
    start, end = period()
    table = m.compute(catalogue.STAGE_DAYS, start=start, end=end)
    row = table.rows.index("identified")
    assert table.cells[row][0] == pytest.approx(3.0, abs=0.1)
    assert table.support[row] == (1,)
    assert table.kind == "value"


def test_unknown_breakdown_is_refused():
    start, end = period()
    with pytest.raises(ValueError, match="cannot be broken down"):
        m.compute(catalogue.VICTIMS, start=start, end=end, by="name")


def test_another_app_adds_an_indicator():
    rows = [{"month": "2026-01", "offence": "trafficking"}, {"month": "2026-01", "offence": "x"}]
    m.register_source(m.Source("test.records", rows=lambda s, e: rows))
    m.register(
        m.Indicator(
            code="test.records",
            name={"en": "Records", "km": "កំណត់ត្រា", "zh-hans": "记录"},
            source="test.records",
            by=("offence",),
            plan=False,
        )
    )
    table = m.compute(
        "test.records", start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 28), by="offence"
    )
    assert table.rows == ("2026-01", "2026-02") and table.total == 2
    with pytest.raises(ValueError, match="names"):
        m.register(m.Indicator(code="bad", name={"fr": "x"}, source="test.records"))


def test_age_bands():
    assert [m.age_band(a) for a in (0, 8, 9, 17, 18, 29, 47, 48, None)] == [
        "0-8",
        "0-8",
        "9-17",
        "9-17",
        "18-20",
        "27-29",
        "39-47",
        "48+",
        "unknown",
    ]
    assert htcds.DEFAULT_K == 10
