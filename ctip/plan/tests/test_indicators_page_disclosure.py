"""The on-screen indicators page (``/plan/indicators/``) attacked as the progress reports
are (SECURITY.md DP-9, #40): its period is whole calendar months (any other refused with a
400 naming the field, and audited), and the indicators about people are shown only as a
report shows them ("<k" when small, or when they would reveal a small change against a
figure shown before), for every user alike. The plan's other indicators keep their true
figures. Each attack is first shown to work on the bare counts."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone, translation
from django.utils.translation import trans_real
from docx import Document

from ctip.audit.models import AuditEvent
from ctip.cases.models import Person
from ctip.cases.services import PersonInput, person_create
from ctip.monitoring.release import month_end
from ctip.plan import indicators, selectors, services
from ctip.plan.models import Activity, Indicator, ProgressReport
from ctip.testing import personas
from ctip.training.tests.conftest import certify, make_training, register

pytestmark = pytest.mark.django_db

K = 5  # SECURITY.md DP-9's threshold (the default is 10)
BLOCKED = {"action": "security", "details__event": "statistics_differencing_blocked"}
PERSONS = "III.6-persons-recorded"
SCREENINGS = "III.1-screenings-agreed-form"  # cases.screenings_agreed_form, a count over time
# month → screenings in that month of 2026; January's 3 is the secret.
MONTHS_2026 = {1: 3, 2: 12, 3: 20, 4: 15, 5: 11, 6: 14}


@pytest.fixture
def plan(me_officer, settings):
    settings.CTIP_SDC_THRESHOLD = K
    return services.plan_load().version


def this_month() -> tuple[date, date]:
    today = timezone.localdate()
    return today.replace(day=1), month_end(today)


def persons(user, n: int, *, on: date | None = None) -> None:
    made = [person_create(user=user, data=PersonInput(name_latin=f"TEST {i}")) for i in range(n)]
    if on is not None:
        stamp = timezone.make_aware(timezone.datetime(on.year, on.month, on.day, 12))
        Person.objects.filter(pk__in=[p.pk for p in made]).update(created_at=stamp)


def get_page(client, start: date | str | None = None, end: date | str | None = None, **extra):
    query = "&".join(f"{k}={v}" for k, v in (("start", start), ("end", end)) if v is not None)
    return client.get(f"/plan/indicators/?{query}" if query else "/plan/indicators/", **extra)


def cell(page: str, code: str, country: str = "KH") -> str:
    row = page.split(f'id="ind-{code}"')[1].split("</tr>")[0]
    return row.split(f'data-country="{country}">')[1].split("</td>")[0]


def figure(page: str, code: str, country: str = "KH") -> str | None:
    """The figure a user reads in a cell ("<5", "12"), None when "not available"."""
    found = re.search(r"<strong[^>]*>(.*?)</strong>", cell(page, code, country))
    return html.unescape(found.group(1)) if found else None


def raw(code: str, start: date, end: date) -> int:
    """The true count, as the page computed it before the disclosure control."""
    return indicators.compute(code, country="KH", start=start, end=end).value


# --- the period: whole calendar months, or a 400 naming the field, audited ------------------


def test_periods_a_few_days_apart_are_refused_and_audited(
    plan, me_officer, supervisor_a, caseworker_a, client_of
):
    persons(caseworker_a, 6, on=date(2026, 2, 10))
    persons(caseworker_a, 2, on=date(2026, 3, 31))
    # The attack on the bare counts: the stock on 31 March less the stock on 30 March is
    # the two persons recorded on the 31st.
    assert (
        raw("cases.persons_recorded", date(2026, 3, 1), date(2026, 3, 31))
        - raw("cases.persons_recorded", date(2026, 3, 1), date(2026, 3, 30))
        == 2
    )

    client = client_of(me_officer)
    assert get_page(client, "2026-03-01", "2026-03-31").status_code == 200

    def blocked():
        return AuditEvent.objects.filter(**BLOCKED, object_type="plan.indicator").order_by("seq")

    cut = get_page(client, "2026-03-01", "2026-03-30")
    assert cut.status_code == 400
    page = cut.content.decode()
    # The message names the field ("To", the end) and says what to do; no figure shown.
    assert "To: Periods are whole calendar months: end on the last day of a month." in page
    assert 'id="indicator-table"' not in page and 'id="ind-' not in page
    assert 'value="2026-03-30"' in page  # the form is shown again with what was asked
    shifted = get_page(client, "2026-03-03", "2026-03-31")
    assert shifted.status_code == 400
    assert "From: Periods are whole calendar months: start on the first day of a month." in (
        shifted.content.decode()
    )
    events = list(blocked())
    assert [(e.details["parameter"], e.details["channel"]) for e in events] == [
        ("end", "plan.page"),
        ("start", "plan.page"),
    ]
    assert events[0].actor_username == "me_officer" and events[0].object_id == "plan.indicators"
    assert (events[0].details["start"], events[0].details["end"]) == ("2026-03-01", "2026-03-30")
    assert (events[1].details["start"], events[1].details["end"]) == ("2026-03-03", "2026-03-31")

    # The same rule for every user: the supervisor and the caseworker are refused alike.
    for user in (supervisor_a, caseworker_a):
        refused = get_page(client_of(user), "2026-03-02", "2026-03-31")
        assert refused.status_code == 400 and 'id="ind-' not in refused.content.decode()
    assert blocked().count() == 4
    assert {e.actor_username for e in blocked()} == {"me_officer", "supervisor_a", "caseworker_a"}

    # Invalid periods are refused too, but are no differencing attempt: not audited.
    backwards = get_page(client, "2026-05-01", "2026-01-31")
    assert backwards.status_code == 400
    assert "To: The end of the period is before its start." in backwards.content.decode()
    too_long = get_page(client, "2020-01-01", "2026-12-31")
    assert too_long.status_code == 400 and "at most three years" in too_long.content.decode()
    no_date = get_page(client, "2026-02-30", "2026-03-31")
    assert no_date.status_code == 400 and 'id="ind-' not in no_date.content.decode()
    assert blocked().count() == 4
    # Nothing of the refused requests reached the release log.
    assert not AuditEvent.objects.filter(
        action="security", details__event="statistics_differencing_withheld"
    ).exists()


# --- overlapping periods on the grid ---------------------------------------------------------


@pytest.fixture
def screenings(plan, monkeypatch):
    """Screenings (a protected count over the period) month by month as in MONTHS_2026: a
    stand-in for records that need the whole identification form to make."""
    counts = dict(MONTHS_2026)

    def count(*, country, start, end):
        return sum(n for month, n in counts.items() if start <= date(2026, month, 1) <= end)

    monkeypatch.setitem(
        indicators._REGISTRY, "cases.screenings_agreed_form", indicators._Entry(count, True)
    )
    return counts


def periods_2026():
    for first in range(1, 13):
        for last in range(first, 13):
            yield date(2026, first, 1), month_end(date(2026, last, 1))


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


def test_overlapping_periods_on_the_page_do_not_subtract_to_a_small_month(
    screenings, me_officer, client_of
):
    jan_jun, feb_jun = (date(2026, 1, 1), date(2026, 6, 30)), (date(2026, 2, 1), date(2026, 6, 30))
    # The attack on the bare counts (what the page showed before): January's 3.
    assert raw("cases.screenings_agreed_form", *jan_jun) == 75
    assert (
        raw("cases.screenings_agreed_form", *jan_jun)
        - raw("cases.screenings_agreed_form", *feb_jun)
        == 3
    )
    assert recomputable([jan_jun, feb_jun], 1)

    # The page, over every period of whole months of the year.
    client = client_of(me_officer)
    shown: dict[tuple[date, date], str | None] = {}
    for start, end in periods_2026():
        response = get_page(client, start, end)
        assert response.status_code == 200
        page = response.content.decode()
        shown[(start, end)] = figure(page, SCREENINGS)
        assert figure(page, "V.3-identified-with-form") == shown[(start, end)]
    assert shown[jan_jun] == "<5"
    assert shown[(date(2026, 2, 1), date(2026, 4, 30))] == "47"
    assert shown[(date(2026, 1, 1), date(2026, 12, 31))] == "75"  # the year total
    published = {p: int(v) for p, v in shown.items() if v != "<5"}
    assert len(published) > 20  # still a useful page
    assert all(v in ("<5", str(published.get(p))) for p, v in shown.items())
    # January can't be recomputed from all the figures shown together...
    assert not recomputable(list(published), 1)
    # ...and no two nested periods shown differ by a small count.
    for outer in published:
        for inner in published:
            if outer[0] <= inner[0] and inner[1] <= outer[1]:
                difference = published[outer] - published[inner]
                assert difference == 0 or difference >= K, (outer, inner)
    # A progress report over the same periods shows the same figures (one release log).
    for period in (jan_jun, (date(2026, 2, 1), date(2026, 4, 30))):
        report = services.report_create(
            user=me_officer, period_start=period[0], period_end=period[1], language="km"
        )
        (item,) = [i for i in report.content["indicators"] if i["code"] == SCREENINGS]
        assert item["values"]["KH"]["value"] == shown[period]


def test_two_month_ends_on_the_page_do_not_subtract_to_a_small_count(
    plan, me_officer, caseworker_a, client_of
):
    persons(caseworker_a, 6, on=date(2026, 2, 10))
    persons(caseworker_a, 2, on=date(2026, 3, 10))
    feb, mar = (date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 3, 1), date(2026, 3, 31))
    # The bare stocks: March's end less February's is the two persons recorded in March.
    assert raw("cases.persons_recorded", *mar) - raw("cases.persons_recorded", *feb) == 2
    client = client_of(me_officer)
    first = figure(get_page(client, *mar).content.decode(), PERSONS)
    second = figure(get_page(client, *feb).content.decode(), PERSONS)
    assert (first, second) == ("8", "<5")  # February's 6 would be 2 from March's 8
    # Asked again, in the other order, by another user: still one of them withheld.
    other = client_of(personas.make_user("me_two", me_officer.agency, "me_officer").user)
    assert figure(get_page(other, *feb).content.decode(), PERSONS) == "<5"
    assert figure(get_page(other, *mar).content.decode(), PERSONS) == "8"
    # Half-years: January–June ends with June's stock (8, as March's): shown the same.
    assert figure(get_page(client, "2026-01-01", "2026-06-30").content.decode(), PERSONS) == "8"


# --- small counts: never on the page, in the API or in a download ---------------------------


def test_a_small_count_is_never_shown_on_the_page_in_the_api_or_a_download(
    plan, me_officer, supervisor_a, node_admin, caseworker_a, client_of
):
    persons(caseworker_a, 2)
    start, end = this_month()
    assert raw("cases.persons_recorded", start, end) == 2  # the true count (so this can fail)
    # The other country's figure entered by hand, small too.
    services.indicator_value_record(
        user=me_officer,
        indicator=Indicator.objects.get(code=PERSONS),
        data=services.IndicatorInput(
            country="CN", as_of=start, value=Decimal(3), evidence_url="/plan/"
        ),
    )

    # The page, this month and the default half-year, for every user: "<5", never 2 or 3.
    for user in (me_officer, supervisor_a, node_admin, caseworker_a):
        for period in ((start, end), (None, None)):
            response = get_page(client_of(user), *period)
            assert response.status_code == 200
            page = response.content.decode()
            assert figure(page, PERSONS) == "<5", (user, period)
            assert figure(page, PERSONS, "CN") == "<5", (user, period)
            assert 'class="withheld"' in cell(page, PERSONS)
            assert "TEST 0" not in page

    # The API: the plan's indicators are definitions only; no figure travels with them.
    client = client_of(me_officer)
    document = client.get("/api/v1/plan")
    assert document.status_code == 200
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("code") == PERSONS:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document.json())
    assert found and all(
        set(item) <= {"code", "text", "computed", "unit", "proposed"} for item in found
    )
    listed = client.get("/api/v1/plan/reports")
    assert listed.status_code == 200 and "indicators" not in listed.content.decode()

    # A download: the report over the page's period, its page and its DOCX.
    created = client.post(
        "/plan/reports/new/",
        {"period_start": str(start), "period_end": str(end), "language": "km"},
    )
    assert created.status_code == 302
    report = ProgressReport.objects.get()
    printed = client.get(f"/plan/reports/{report.pk}/").content.decode()
    row = printed.split("Persons recorded in this node")[1].split("</tr>")[0]
    assert "&lt;5" in row and ">2<" not in row and ">3<" not in row
    docx = client.get(f"/plan/reports/{report.pk}/report.docx")
    assert docx.status_code == 200
    cells = [
        [c.text for c in line.cells]
        for table in Document(io.BytesIO(docx.content)).tables
        for line in table.rows
    ]
    (line,) = [r for r in cells if any("Persons recorded in this node" in c for c in r)]
    assert sum(c.startswith("<5") for c in line) == 2
    assert not any(c.startswith(("2", "3")) for c in line)


# --- what is not about victims keeps its true figure ---------------------------------------


def test_unprotected_indicators_keep_their_true_figures(
    plan, me_officer, supervisor_a, caseworker_a, colleague_a, agency_a, client_of
):
    start, end = this_month()
    today = timezone.localdate()
    # One of each, all below the threshold: none is about victims.
    personas.make_user("kh_focal", agency_a, "police_focal")
    services.status_update_record(
        user=me_officer,
        activity=Activity.objects.get(number="IV.1"),
        country="KH",
        data=services.StatusInput(status="done", as_of=today),
    )
    services.report_create(user=me_officer, period_start=start, period_end=end, language="km")
    training = make_training(supervisor_a, days_ago=0, sessions=1)
    certify(supervisor_a, training, register(supervisor_a, training, "Sok Dara", user=colleague_a))
    services.indicator_value_record(
        user=me_officer,
        indicator=Indicator.objects.get(code="VI.1-workshops"),
        data=services.IndicatorInput(
            country="CN", as_of=start, value=Decimal(1), evidence_url="/plan/"
        ),
    )
    persons(caseworker_a, 2)  # and one that is about people, for contrast

    page = get_page(client_of(me_officer), start, end).content.decode()
    expected = {
        "I.1-activities-done": "1",
        "IV.4-focal-officers": "1",
        "VI.2-reports-issued": "1",
        "V.2-officials-trained": "1",
        "I.1-agreed-versions": "0",
    }
    assert {code: figure(page, code) for code in expected} == expected
    for code in expected:
        assert "withheld" not in cell(page, code)
    assert figure(page, "VI.1-workshops", "CN") == "1.00"  # as entered, as before
    assert figure(page, PERSONS) == "<5"


# --- the page itself -----------------------------------------------------------------------


NEW_TEXTS = (
    "A period covers whole calendar months: from the first day of a month to the last day "
    "of a month.",
    "Figures about people (persons recorded, screenings, case-information messages, messages "
    "exchanged) are shown as in the progress reports, for every user: “&lt;%(k)s” when a "
    "count is small, or when it would reveal a small change against a figure shown before.",
    "withheld: a small count or a small change about people",
)


def test_the_page_renders_with_translatable_labels(
    plan, me_officer, caseworker_a, client_of, monkeypatch
):
    persons(caseworker_a, 2)
    client = client_of(me_officer)
    response = get_page(client)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="indicator-table"' in page and "Indicators of the expected results" in page
    assert Indicator.objects.filter(withdrawn=False).count() == page.count('<tr id="ind-')
    assert "whole calendar months" in page and figure(page, PERSONS) == "<5"
    first, last = selectors.default_period()  # the half-year, pre-filled in the form
    assert f'name="start" value="{first}"' in page and f'name="end" value="{last}"' in page

    # Every new text is marked for translation: a draft Khmer catalogue entry shows up.
    catalogue = trans_real.translation("km")._catalog._catalogs[0]
    for n, msgid in enumerate(NEW_TEXTS):
        draft = f"KM-DRAFT-{n} %(k)s" if "%(k)s" in msgid else f"KM-DRAFT-{n}"
        monkeypatch.setitem(catalogue, msgid, draft)
    khmer = get_page(client, HTTP_ACCEPT_LANGUAGE="km").content.decode()
    with translation.override("km"):
        heading = translation.gettext("Indicators of the expected results")
        refusal = translation.gettext(
            "Periods are whole calendar months: start on the first day of a month."
        )
    assert heading != "Indicators of the expected results" and heading in khmer
    assert "KM-DRAFT-0" in khmer and "KM-DRAFT-1 5" in khmer and "KM-DRAFT-2" in khmer
    # The refusal comes in the user's language too.
    refused = get_page(client, "2026-03-02", "2026-03-31", HTTP_ACCEPT_LANGUAGE="km")
    assert refused.status_code == 400
    assert refusal != "Periods are whole calendar months: start on the first day of a month."
    assert html.escape(refusal) in refused.content.decode()
