"""Status per activity and country with evidence; indicators computed from the system's
own data (and the registry that finds other apps' models), or entered with evidence."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ctip.accounts.permissions import NotFound
from ctip.audit.models import AuditEvent
from ctip.cases.services import PersonInput, person_create
from ctip.monitoring.release import month_end
from ctip.plan import indicators, services
from ctip.plan.models import Activity, Indicator, IndicatorValue, StatusUpdate

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def plan():
    return services.plan_load().version


def test_status_page_records_dated_status_with_evidence(plan, supervisor_a, client_of):
    client = client_of(supervisor_a)
    today = timezone.localdate()
    response = client.post(
        "/plan/activities/III.4/status/",
        {
            "country": "KH",
            "step": "",
            "status": "in_progress",
            "as_of": today.isoformat(),
            "note": "Two consulates have named their focal persons",
            "next_step": "Publish the list",
            "next_step_due": (today + timedelta(days=30)).isoformat(),
            "evidence_url": "/directory/",
            "evidence_file": io.BytesIO(PDF),
        },
    )
    assert response.status_code == 302
    update = StatusUpdate.objects.get(activity__number="III.4")
    assert (update.country, update.status, update.recorded_by) == (
        "KH",
        "in_progress",
        supervisor_a,
    )
    assert update.evidence.extension == "pdf" and bytes(update.evidence.data) == PDF
    page = client.get("/plan/activities/III.4/").content.decode()
    assert "Publish the list" in page and f"/plan/evidence/{update.evidence.pk}/" in page
    download = client.get(f"/plan/evidence/{update.evidence.pk}/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Content-Type"] == "application/pdf"
    audit = AuditEvent.objects.filter(object_type="plan.statusupdate").get()
    assert audit.details["activity"] == "III.4" and audit.actor_id == supervisor_a.pk
    # The dashboard shows it.
    assert "Publish the list" in client.get("/plan/").content.decode()


def test_a_step_has_its_own_status(plan, me_officer):
    activity = Activity.objects.get(number="I.1")
    services.status_update_record(
        user=me_officer,
        activity=activity,
        country="KH",
        data=services.StatusInput(status="done", as_of=date(2017, 6, 1), step_position=0),
    )
    from ctip.plan.selectors import latest_statuses, step_statuses

    assert step_statuses(activity)[(0, "KH")].status == "done"
    assert (activity.pk, "KH") not in latest_statuses()  # the activity itself is unreported


def test_users_who_may_not_change_status_cannot(plan, caseworker_a, cn_focal, client_of):
    for user in (caseworker_a, cn_focal):
        response = client_of(user).post(
            "/plan/activities/III.4/status/",
            {"country": "KH", "status": "done", "as_of": "2018-01-01"},
        )
        assert response.status_code == 404
        # ... while they may read the plan.
        assert client_of(user).get("/plan/activities/III.4/").status_code == 200
    assert not StatusUpdate.objects.exists()
    assert client_of(caseworker_a).get("/plan/activities/IX.9/").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"as_of": timezone.localdate() + timedelta(days=3)}, "as_of"),
        ({"evidence_url": "https://elsewhere.example/x"}, "evidence_url"),
        ({"evidence_url": "//elsewhere.example/x"}, "evidence_url"),
    ],
)
def test_future_dates_and_outside_links_are_refused(plan, me_officer, change, field):
    data = {"status": "done", "as_of": date(2018, 1, 1), **change}
    with pytest.raises(ValidationError) as caught:
        services.status_update_record(
            user=me_officer,
            activity=Activity.objects.get(number="III.1"),
            country="KH",
            data=services.StatusInput(**data),
        )
    assert field in caught.value.message_dict
    assert not StatusUpdate.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [b"<html><script>alert(1)</script></html>", b"GIF89a....", b"PK\x03\x04broken zip", b""],
)
def test_evidence_must_be_a_real_document(plan, me_officer, payload):
    with pytest.raises(ValidationError):
        services.evidence_store(user=me_officer, data=payload)


def test_a_computed_indicator_follows_the_data(plan, caseworker_a, me_officer, client_of):
    start, end = date(2000, 1, 1), timezone.localdate()
    before = indicators.compute("cases.persons_recorded", country="KH", start=start, end=end)
    assert before.available and before.value == 0
    person_create(user=caseworker_a, data=PersonInput(name_latin="TEST ONE"))
    person_create(user=caseworker_a, data=PersonInput(name_latin="TEST TWO"))
    after = indicators.compute("cases.persons_recorded", country="KH", start=start, end=end)
    assert after.value == 2
    # As of a day before anyone was recorded, the stock was zero.
    earlier = indicators.compute(
        "cases.persons_recorded", country="KH", start=start, end=date(2001, 1, 1)
    )
    assert earlier.value == 0
    # This node knows only its own country's data.
    assert not indicators.compute(
        "cases.persons_recorded", country="CN", start=start, end=end
    ).available
    # The indicator page shows it through the disclosure control (whole months, two
    # persons withheld as "<10"; aggregates only: no names).
    month = f"start={end.replace(day=1)}&end={month_end(end)}"
    page = client_of(me_officer).get(f"/plan/indicators/?{month}").content.decode()
    row = page.split('id="ind-III.6-persons-recorded"')[1].split("</tr>")[0]
    assert '"withheld"' in row and "&lt;10</strong>" in row and "<strong>2</strong>" not in row
    assert "TEST ONE" not in page


def test_plan_indicators_count_the_plans_own_data(plan, me_officer):
    end = timezone.localdate()
    done = indicators.compute("plan.activities_done", country="CN", start=end, end=end)
    assert done.value == 0
    services.status_update_record(
        user=me_officer,
        activity=Activity.objects.get(number="IV.1"),
        country="CN",
        data=services.StatusInput(status="done", as_of=end),
    )
    assert indicators.compute("plan.activities_done", country="CN", start=end, end=end).value == 1
    assert indicators.compute("plan.activities_done", country="KH", start=end, end=end).value == 0


def test_the_registry_guards_missing_models_and_answers_for_this_node_only(settings):
    calls = []

    def missing_app(*, country, start, end):
        model = indicators.model_or_none("nosuchapp.Thing")
        return None if model is None else model.objects.count()

    def agencies(*, country, start, end):
        calls.append(country)
        model = indicators.model_or_none("accounts.Agency")
        return model.objects.filter(country=country).count()

    indicators.register("test.missing", missing_app)
    indicators.register("test.agencies")(agencies)
    try:
        day = date(2020, 1, 1)
        assert indicators.compute("test.missing", country="KH", start=day, end=day) == (
            indicators.Measure(None, False, "the data is not in this system yet")
        )
        assert indicators.compute("test.agencies", country="KH", start=day, end=day).value == 0
        assert not indicators.compute("test.agencies", country="CN", start=day, end=day).available
        assert calls == ["KH"]
        assert not indicators.compute("no.such", country="KH", start=day, end=day).available
        # The built-in indicators over apps being built answer "not available" or a count,
        # and never fail, whichever of those models exist yet.
        for code in indicators.registered():
            result = indicators.compute(code, country=settings.CTIP_NODE, start=day, end=day)
            assert result.available in (True, False)
    finally:
        indicators._REGISTRY.pop("test.missing")
        indicators._REGISTRY.pop("test.agencies")


def test_manual_values_need_evidence_and_computed_ones_are_not_typed_in(plan, me_officer):
    manual = Indicator.objects.get(code="III.3-satisfied")
    with pytest.raises(ValidationError):
        services.indicator_value_record(
            user=me_officer,
            indicator=manual,
            data=services.IndicatorInput(country="KH", as_of=date(2018, 6, 30), value=Decimal(80)),
        )
    services.indicator_value_record(
        user=me_officer,
        indicator=manual,
        data=services.IndicatorInput(
            country="KH", as_of=date(2018, 6, 30), value=Decimal(80), evidence_url="/plan/"
        ),
    )
    assert IndicatorValue.objects.get().value == Decimal(80)
    computed = Indicator.objects.get(code="III.6-persons-recorded")
    with pytest.raises(services.PlanError, match="computed"):
        services.indicator_value_record(
            user=me_officer,
            indicator=computed,
            data=services.IndicatorInput(
                country="KH", as_of=date(2018, 6, 30), value=Decimal(3), evidence_url="/plan/"
            ),
        )


def test_indicator_value_page_and_other_users(plan, me_officer, caseworker_a, client_of):
    response = client_of(me_officer).post(
        "/plan/indicators/VI.1-workshops/value/",
        {"country": "CN", "as_of": "2018-12-01", "value": "1", "evidence_file": io.BytesIO(PDF)},
    )
    assert response.status_code == 302
    value = IndicatorValue.objects.get()
    assert value.country == "CN" and value.evidence.extension == "pdf"
    response = client_of(caseworker_a).post(
        "/plan/indicators/VI.1-workshops/value/",
        {"country": "CN", "as_of": "2018-12-01", "value": "9", "evidence_url": "/plan/"},
    )
    assert response.status_code == 404 and IndicatorValue.objects.count() == 1
    with pytest.raises(NotFound):
        services.indicator_value_record(
            user=caseworker_a,
            indicator=value.indicator,
            data=services.IndicatorInput(
                country="CN", as_of=date(2018, 1, 1), value=Decimal(1), evidence_url="/plan/"
            ),
        )


def test_a_step_dropped_by_an_amendment_keeps_its_history(plan, me_officer):
    i1 = Activity.objects.get(number="I.1")
    services.status_update_record(
        user=me_officer,
        activity=i1,
        country="KH",
        data=services.StatusInput(status="done", as_of=date(2017, 9, 1), step_position=2),
    )
    text = (services.DEFAULT_FILE).read_text(encoding="utf-8")
    step = (
        '      - text: {en: "Meet to finalize draft POA", km: "ប្រជុំដើម្បីបញ្ចប់សេចក្តីព្រាងផែនការសកម្មភាព", '
        'zh: "召开会议敲定行动计划草案"}\n        agencies: [cambodia, china]\n'
    )
    assert step in text
    services.plan_load(text=text.replace(step, ""), reason="finalising meeting folded into review")
    kept = StatusUpdate.objects.get(activity=i1)
    assert kept.step is not None and kept.step.withdrawn
    from ctip.plan.selectors import latest_statuses

    assert (i1.pk, "KH") not in latest_statuses()  # still a step's status, not the activity's
