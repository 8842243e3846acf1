"""The timeline (server-rendered SVG, filtered), progress reports (printable page, DOCX in
two languages), the REST API, and the demo loader."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from django.test import Client
from django.utils import timezone
from docx import Document
from docx.oxml.ns import qn

from ctip.accounts.models import Role
from ctip.audit.models import AuditEvent
from ctip.monitoring.release import month_end
from ctip.plan import services
from ctip.plan.demo import load_demo
from ctip.plan.models import Activity, PlanVersion, ProgressReport, StatusUpdate
from ctip.testing import personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(me_officer):
    version = services.plan_load().version
    today = timezone.localdate()
    for number, country, status in (
        ("III.4", "KH", "in_progress"),
        ("III.4", "CN", "done"),
        ("V.2", "KH", "blocked"),
    ):
        services.status_update_record(
            user=me_officer,
            activity=Activity.objects.get(number=number),
            country=country,
            data=services.StatusInput(status=status, as_of=today, next_step=f"next for {number}"),
        )
    return version


def bars(html: str) -> list[str]:
    return re.findall(r'<rect [^>]*class="bar"><title>([^<]*)</title>', html)


def test_timeline_draws_years_areas_and_status_colours(plan, caseworker_b, client_of):
    # Everyone signed in may see the plan, also a caseworker of another agency.
    html = client_of(caseworker_b).get("/plan/timeline/").content.decode()
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    for year in ("2017", "2018", "2019"):
        assert f">{year}</text>" in svg
    assert "III. Protection" in svg and "VI. Monitoring and Evaluation" in svg
    titles = bars(html)
    assert "III.4 · 2017 · Cambodia: In progress" in " ".join(titles)
    assert any(t.startswith("III.4 · 2017 · China: Done") for t in titles)
    assert 'fill="#1d7b46"' in svg and 'fill="#0b5cad"' in svg and 'fill="#b42318"' in svg
    # Cells the draft left uncertain are dashed, and say so.
    assert any("uncertain in the draft" in t and t.startswith("V.2 · 2018") for t in titles)
    assert 'stroke-dasharray="4 3"' in svg
    assert 'role="img"' in svg and "<desc" in svg
    assert " style=" not in svg  # the CSP allows no inline styles


def test_timeline_filters(plan, me_officer, client_of):
    client = client_of(me_officer)
    by_area = bars(client.get("/plan/timeline/?area=V").content.decode())
    assert by_area and all(t.startswith("V.") for t in by_area)
    blocked = client.get("/plan/timeline/?status=blocked&country=KH").content.decode()
    table = blocked.split('id="timeline-table"')[1]
    assert "V.2" in table and "III.4" not in table
    assert all(": Blocked" in t for t in bars(blocked))
    china = bars(client.get("/plan/timeline/?country=CN").content.decode())
    assert china and all(" · China: " in t for t in china)
    agency = client.get("/plan/timeline/?agency=china-mps").content.decode()
    assert re.findall(
        r'<a href="/plan/activities/([^/]+)/">', agency.split('id="timeline-table"')[1]
    ) == ["III.4"]
    # Unknown filter values are ignored rather than failing.
    assert client.get("/plan/timeline/?area=XX&status=nope").status_code == 200
    assert Client().get("/plan/timeline/").status_code == 302


def test_progress_report_in_english_and_khmer_with_docx(plan, me_officer, cn_focal, client_of):
    client = client_of(me_officer)
    today = timezone.localdate()
    response = client.post(
        "/plan/reports/new/",
        {
            "period_start": date(today.year, 1, 1).isoformat(),
            "period_end": month_end(today).isoformat(),
            "language": "km",
        },
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get()
    content = report.content
    assert content["language"] == "km" and content["translation_draft"] is True
    iii = next(a for a in content["areas"] if a["code"] == "III")
    iii4 = next(a for a in iii["activities"] if a["number"] == "III.4")
    assert (
        iii4["status"]["KH"]["status"] == "in_progress" and iii4["status"]["CN"]["status"] == "done"
    )
    assert "ស្ថានទូតកម្ពុជា" in iii4["text"]["second"]
    assert {q["key"] for q in content["open_questions"]} >= {"III.4-agencies", "V.2-timeframe-2018"}
    assert {n["activity"] for n in content["next_steps"]} == {"III.4", "V.2"}  # not the done one
    codes = {i["code"]: i for i in content["indicators"]}
    assert codes["I.1-activities-done"]["values"]["CN"]["value"] == "1"

    page = client.get(f"/plan/reports/{report.pk}/").content.decode()
    assert '<span class="second" lang="km">' in page and "ស្ថានទូតកម្ពុជា" in page
    assert "vendor/fonts/fonts.css" in page

    docx = client.get(f"/plan/reports/{report.pk}/report.docx")
    assert docx.status_code == 200 and docx["Content-Disposition"].startswith("attachment;")
    document = Document(io.BytesIO(docx.content))
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    assert "ស្ថានទូតកម្ពុជា" in text
    assert "Focal persons published who speak Khmer and Chinese" in text
    khmer_runs = [
        run
        for table in document.tables
        for row in table.rows
        for cell in row.cells
        for paragraph in cell.paragraphs
        for run in paragraph.runs
        if any("\u1780" <= ch <= "\u17ff" for ch in run.text)
    ]
    assert khmer_runs
    for run in khmer_runs:
        fonts = run._element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:cs")) == "Noto Sans Khmer"
        assert run._element.rPr.find(qn("w:lang")).get(qn("w:bidi")) == "km-KH"
    assert AuditEvent.objects.filter(object_type="plan.progressreport", action="export").exists()

    # The other country's officer reads reports, but cannot issue one.
    other = client_of(cn_focal)
    assert other.get(f"/plan/reports/{report.pk}/").status_code == 200
    other.post(
        "/plan/reports/new/",
        {"period_start": "2018-01-01", "period_end": "2018-06-30", "language": "zh-hans"},
    )
    assert ProgressReport.objects.count() == 1
    assert client.get("/plan/reports/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_report_in_chinese_names_the_chinese_font(plan, me_officer):
    report = services.report_create(
        user=me_officer,
        period_start=date(2018, 1, 1),
        period_end=date(2020, 12, 31),
        language="zh-hans",
    )
    from ctip.plan.docx_report import render_docx
    from ctip.plan.views import report_labels

    document = Document(io.BytesIO(render_docx(report, report_labels("zh-hans"))))
    runs = [
        run
        for table in document.tables
        for row in table.rows
        for cell in row.cells
        for paragraph in cell.paragraphs
        for run in paragraph.runs
        if "联络人" in run.text
    ]
    assert runs
    assert runs[0]._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "Noto Sans SC"


def test_api_plan_activities_and_status(plan, me_officer, caseworker_a, client_of):
    client = client_of(me_officer)
    body = client.get("/api/v1/plan").json()
    assert body["version"]["number"] == 1 and len(body["activities"]) == 23
    iii4 = next(a for a in body["activities"] if a["number"] == "III.4")
    assert iii4["status"]["CN"]["status"] == "done"
    rows = client.get("/api/v1/plan/activities?area=III").json()
    assert [r["number"] for r in rows][:2] == ["III.1", "III.2"] and len(rows) == 8
    response = client.post(
        "/api/v1/plan/activities/IV.5/status",
        {"country": "KH", "status": "in_progress", "as_of": "2018-05-01", "next_step": "x"},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["activity"] == "IV.5"
    bad = client.post(
        "/api/v1/plan/activities/IV.5/status",
        {
            "country": "KH",
            "status": "in_progress",
            "as_of": "2018-05-01",
            "evidence_url": "http://x",
        },
        content_type="application/json",
    )
    assert bad.status_code == 400 and "evidence_url" in bad.json()["error"]["fields"]
    # A caseworker reads the plan but may not report status; an unknown number is 404.
    other = client_of(caseworker_a)
    assert other.get("/api/v1/plan").status_code == 200
    denied = other.post(
        "/api/v1/plan/activities/IV.5/status",
        {"country": "KH", "status": "done", "as_of": "2018-05-01"},
        content_type="application/json",
    )
    assert denied.status_code == 404
    assert (
        client.post(
            "/api/v1/plan/activities/IX.1/status",
            {"country": "KH", "status": "done", "as_of": "2018-05-01"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert StatusUpdate.objects.filter(activity__number="IV.5").count() == 1
    assert Client().get("/api/v1/plan").status_code in (401, 403)


def test_demo_loads_realistic_statuses_once(db):
    agency = personas.agency("kh-ncct")
    personas.make_user("kh_me_officer", agency, Role.ME_OFFICER)
    assert load_demo("KH") is True
    counts = (
        PlanVersion.objects.count(),
        StatusUpdate.objects.count(),
        ProgressReport.objects.count(),
    )
    assert counts[0] == 2 and PlanVersion.objects.get(number=2).is_agreed
    assert counts[1] > 30 and counts[2] == 1
    assert set(StatusUpdate.objects.values_list("status", flat=True)) >= {
        "done",
        "in_progress",
        "blocked",
    }
    load_demo("KH")
    assert counts == (
        PlanVersion.objects.count(),
        StatusUpdate.objects.count(),
        ProgressReport.objects.count(),
    )


def test_dashboard_and_timeline_queries_do_not_grow_with_status_updates(
    plan, me_officer, client_of
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of(me_officer)
    pages = ("/plan/", "/plan/timeline/", "/plan/indicators/", "/plan/questions/")

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.get("/plan/")  # session and first-request work out of the way
    client.get("/plan/indicators/")  # its first view records its figures in the release log
    before = {url: queries(url) for url in pages}
    today = timezone.localdate()
    for activity in Activity.objects.all():
        for country in ("KH", "CN"):
            services.status_update_record(
                user=me_officer,
                activity=activity,
                country=country,
                data=services.StatusInput(status="in_progress", as_of=today, next_step="go on"),
            )
    assert {url: queries(url) for url in pages} == before
