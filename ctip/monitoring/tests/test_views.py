"""The pages: the dashboard (charts with tables), downloads through the disclosure control,
statistics side by side, received progress reports, the annual review pack (page and DOCX
with Khmer and Chinese), the HTCDS download; and who may not see them."""

from __future__ import annotations

import datetime as dt
import io
import uuid
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ctip.audit.models import AuditEvent
from ctip.monitoring import catalogue
from ctip.monitoring.models import MonthlyStatistics, ReviewNote

pytestmark = pytest.mark.django_db


def test_dashboard_shows_charts_with_their_tables(client_of, me_officer, victims):
    client = client_of(me_officer)
    response = client.get(reverse("monitoring:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == len(catalogue.PANELS)
    assert html.count("<table") == len(catalogue.PANELS)
    assert 'id="victims_identified-sex"' in html
    assert "Female · 7 persons" in html  # a bar's title
    assert "TEST PERSON" not in html and "KH-P-" not in html


def test_dashboard_queries_do_not_grow_with_the_records(
    client_of, me_officer, victims, caseworker_a
):
    from ctip.monitoring.tests.conftest import identify

    client = client_of(me_officer)
    client.get(reverse("monitoring:index"))  # facts read once
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("monitoring:index") + "?refresh=1")
    for _ in range(3):
        identify(caseworker_a, sex="male", age=33)
    client.get(reverse("monitoring:index") + "?refresh=1")  # their facts read once
    with CaptureQueriesContext(connection) as second:
        client.get(reverse("monitoring:index") + "?refresh=1")
    assert len(second) == len(first)


def test_download_withholds_small_counts(client_of, me_officer, victims):
    client = client_of(me_officer)
    response = client.get(reverse("monitoring:panel_csv", args=[catalogue.VICTIMS, "sex"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert "<10" in text
    assert ",7," not in text and ",5," not in text
    assert "Total" in text
    assert AuditEvent.objects.filter(action="export", object_id=catalogue.VICTIMS).exists()
    missing = client.get(reverse("monitoring:panel_csv", args=["monitoring.nothing", "sex"]))
    assert missing.status_code == 404


@pytest.mark.parametrize("persona", ["caseworker_a", "cn_focal", "node_admin"])
def test_others_do_not_see_the_monitoring_pages(client_of, persona, request):
    client = client_of(request.getfixturevalue(persona))
    for name in (
        "monitoring:index",
        "monitoring:statistics",
        "monitoring:review",
        "monitoring:htcds",
    ):
        assert client.get(reverse(name)).status_code == 404


def test_supervisor_views_but_does_not_export_or_record(client_of, supervisor_a):
    client = client_of(supervisor_a)
    assert client.get(reverse("monitoring:index")).status_code == 200
    assert client.get(reverse("monitoring:htcds")).status_code == 404
    response = client.post(reverse("monitoring:statistics_record"), {"month": "2026-01"})
    assert response.status_code == 404
    assert not MonthlyStatistics.objects.exists()


def test_record_figures_and_see_them_beside_the_other_nodes(client_of, me_officer, victims):
    client = client_of(me_officer)
    month = timezone.localdate().strftime("%Y-%m")
    response = client.post(
        reverse("monitoring:statistics_record"),
        {
            "month": month,
            "border_crossings": "1500",
            "deportations": "",
            "returns": "",
            "from_records": "on",
        },
    )
    assert response.status_code == 302
    row = MonthlyStatistics.objects.get(country="KH")
    assert row.victims["total"] == 12 and row.border_crossings == 1500
    MonthlyStatistics.objects.create(
        country="CN",
        month=row.month,
        source="received",
        received_from="CN",
        received_at=timezone.now(),
        border_crossings=4200,
    )
    html = client.get(reverse("monitoring:statistics")).content.decode()
    assert "1500" in html and "4200" in html and "received from CN" in html
    bad = client.post(reverse("monitoring:statistics_record"), {"month": "soon"})
    assert bad.status_code == 400


def test_csv_import_page_reports_problems(client_of, me_officer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_of(me_officer)
    upload = SimpleUploadedFile("stats.csv", b"month,returns\n2026-01,x\n", content_type="text/csv")
    response = client.post(reverse("monitoring:statistics_import"), {"file": upload})
    assert response.status_code == 400
    assert "line 2, column returns: not a whole number of 0 or more" in response.content.decode()


def test_received_progress_reports_are_listed(client_of, me_officer):
    from ctip.plan.models import ProgressReport

    report = ProgressReport.objects.create(
        id=uuid.uuid4(),
        period_start="2026-01-01",
        period_end="2026-06-30",
        country="CN",
        language="zh-hans",
        content={},
        received_from="CN",
        received_at=timezone.now(),
    )
    html = client_of(me_officer).get(reverse("monitoring:reports")).content.decode()
    assert reverse("plan:report", args=[report.pk]) in html and "2026-06-30" in html


def test_review_pack_in_two_languages(client_of, me_officer, victims):
    from ctip.plan import services as plan_services

    plan_services.plan_load()
    client = client_of(me_officer)
    year = timezone.localdate().year
    response = client.post(
        reverse("monitoring:note_add") + f"?year={year}",
        {
            "country": "KH",
            "kind": "lesson",
            "text_en": "Interpreters at every interview.",
            "text_second": "អ្នកបកប្រែគ្រប់ការសម្ភាសន៍។",
        },
    )
    assert response.status_code == 302 and ReviewNote.objects.count() == 1
    page = client.get(reverse("monitoring:review_pack") + f"?year={year}&lang=km").content.decode()
    assert "Annual review of the Joint Plan of Action" in page
    assert "អ្នកបកប្រែគ្រប់ការសម្ភាសន៍។" in page and 'lang="km"' in page
    assert "<svg" in page and "&lt;10" in page  # small counts withheld in the shared pack
    docx = client.get(reverse("monitoring:review_docx") + f"?year={year}&lang=zh-hans")
    assert docx.status_code == 200
    xml = zipfile.ZipFile(io.BytesIO(docx.content)).read("word/document.xml").decode()
    assert "Interpreters at every interview." in xml
    assert 'w:eastAsia="Noto Sans SC"' in xml and "已识别的受害人" in xml
    km = client.get(reverse("monitoring:review_docx") + f"?year={year}&lang=km")
    xml = zipfile.ZipFile(io.BytesIO(km.content)).read("word/document.xml").decode()
    assert "អ្នកបកប្រែគ្រប់ការសម្ភាសន៍។" in xml and 'w:cs="Noto Sans Khmer"' in xml


def test_htcds_download_for_the_me_officer(client_of, me_officer, victims):
    response = client_of(me_officer).get(reverse("monitoring:htcds"))
    assert response.status_code == 200
    assert response.content.decode().splitlines()[0].startswith("prs_Gender,")
    assert "rows written: 0" in response["X-CTIP-Export-Report"]
    assert AuditEvent.objects.filter(action="export", object_type="monitoring.htcds").exists()


def test_api_gives_protected_tables_only(client_of, me_officer, caseworker_a, victims):
    client = client_of(me_officer)
    listed = client.get("/api/v1/monitoring/indicators").json()
    assert {i["code"] for i in listed} >= {catalogue.VICTIMS, catalogue.STAGE_DAYS}
    # Totals over the months come with a whole calendar year only.
    partial = client.get(f"/api/v1/monitoring/indicators/{catalogue.VICTIMS}?by=sex").json()
    assert partial["total"] is None and partial["col_totals"] is None
    assert sum(v or 0 for v in partial["row_totals"]) == 12
    year = (timezone.localdate() - dt.timedelta(days=3)).year  # the interviews' year
    table = client.get(
        f"/api/v1/monitoring/indicators/{catalogue.VICTIMS}"
        f"?by=sex&start={year}-01-01&end={year}-12-31"
    ).json()
    assert table["threshold"] == 10 and table["total"] == 12
    flat = [v for line in table["cells"] for v in line] + table["col_totals"] + table["row_totals"]
    assert 7 not in flat and 5 not in flat
    assert all(v is None or v == 0 or v >= 10 for v in flat)
    assert (
        client.get(f"/api/v1/monitoring/indicators/{catalogue.VICTIMS}?by=name").status_code == 404
    )
    bad = client.get(
        f"/api/v1/monitoring/indicators/{catalogue.VICTIMS}?by=sex&start=2026-05-01&end=2026-01-01"
    )
    assert bad.status_code == 400 and list(bad.json()["error"]["fields"]) == ["end"]
    assert client.get("/api/v1/monitoring/statistics").json() == []
    other = client_of(caseworker_a)
    assert other.get("/api/v1/monitoring/indicators").status_code in (403, 404)
    assert other.get("/api/v1/monitoring/statistics").status_code in (403, 404)
