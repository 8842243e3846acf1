"""Finance pages: who sees and records what, field errors in the forms, bilingual statements,
CSV and XLSX exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from ctip.audit.models import Action, AuditEvent
from ctip.finance import services as s
from ctip.finance.models import CostItem, Meeting, WrittenException

from .conftest import add_cost

pytestmark = pytest.mark.django_db


def denied_logged(user, object_id="") -> bool:
    events = AuditEvent.objects.filter(
        action=Action.SECURITY, actor_id=user.pk, details__event="access_denied"
    )
    return events.filter(object_id=str(object_id)).exists() if object_id else events.exists()


@pytest.fixture
def costed(kunming, me_officer):
    add_cost(
        me_officer,
        kunming,
        "international_travel",
        "1860.00",
        "USD",
        "KH",
        "KH",
        description="Air tickets PNH-KMG",
    )
    add_cost(
        me_officer,
        kunming,
        "accommodation",
        "5400.00",
        "CNY",
        "CN",
        "KH",
        description="Hotel, 3 delegates",
    )
    return kunming


def test_the_secretariat_records_a_meeting_and_its_costs(client_of, me_officer):
    client = client_of(me_officer)
    assert client.get("/finance/").status_code == 200
    response = client.post(
        "/finance/meetings/new/",
        {
            "title": "Joint taskforce meeting",
            "kind": "meeting",
            "plan_activity": "iv.6",
            "host_country": "KH",
            "place": "Phnom Penh",
            "starts_on": "2019-06-04",
            "ends_on": "2019-06-05",
            "reporting_currency": "USD",
        },
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"{meeting.pk}/")
    assert meeting.plan_activity == "IV.6" and meeting.created_by == me_officer
    client.post(f"/finance/meetings/{meeting.pk}/delegations/", {"country": "CN"})
    response = client.post(
        f"/finance/meetings/{meeting.pk}/costs/",
        {
            "category": "accommodation",
            "description": "Hotel for the Chinese delegation",
            "amount": "3240000",
            "currency": "KHR",
            "incurred_by": "KH",
            "for_party": "CN",
            "rate": "4050",
            "rate_base": "USD",
            "rate_date": "2019-06-01",
        },
    )
    assert response.status_code == 302
    item = CostItem.objects.get()
    assert (item.amount, item.rate_display) == (Decimal("3240000.00"), "1 USD = 4050 KHR")
    page = client.get(f"/finance/meetings/{meeting.pk}/").content.decode()
    assert "FN-2" in page and "800.00" in page  # the host bears it: 3,240,000 KHR = 800 USD
    assert AuditEvent.objects.filter(action=Action.CREATE, object_id=str(item.pk)).exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "-10"}, "amount", "An amount cannot be negative."),
        ({"currency": "EUR"}, "currency", "Unknown currency: use USD, KHR or CNY."),
        ({"currency": "CNY"}, "rate", "give the exchange rate and its date"),
        ({"incurred_by": "CN", "for_party": "CN"}, "incurred_by", "This Party is not in the"),
    ],
)
def test_bad_cost_input_is_shown_beside_the_field(
    client_of, me_officer, kunming, fields, field, message
):
    # Kunming without a Chinese delegation is hosted by China, so move the host away to
    # make "a Party not in the meeting" possible: a meeting in Phnom Penh, Cambodia alone.
    meeting = kunming
    if field == "incurred_by":
        meeting = s.meeting_create(
            user=me_officer,
            data=s.MeetingInput(
                title="National meeting",
                kind="meeting",
                host_country="KH",
                place="Siem Reap",
                starts_on=dt.date(2019, 2, 1),
                ends_on=dt.date(2019, 2, 1),
            ),
        )
    data = {"category": "meals", "amount": "10.00", "currency": "USD", "incurred_by": "KH"}
    data.update(fields)
    response = client_of(me_officer).post(f"/finance/meetings/{meeting.pk}/costs/", data)
    assert response.status_code == 400
    form = response.context["cost_form"]
    assert any(message in e for e in form.errors[field]), form.errors
    assert message.split(":")[0] in response.content.decode()
    assert not CostItem.objects.exists()


def test_an_exception_is_recorded_with_its_reason_from_the_page(client_of, me_officer, costed):
    client = client_of(me_officer)
    url = f"/finance/meetings/{costed.pk}/exceptions/"
    bad = client.post(url, {"share_kh": "50", "share_cn": "50", "agreed_on": "2019-11-12"})
    assert bad.status_code == 400
    assert set(bad.context["exception_form"].errors) == {"reason", "agreed_by"}
    ok = client.post(
        url,
        {
            "category": "accommodation",
            "share_kh": "50",
            "share_cn": "50",
            "reason": "Cambodia extended its stay by one night at its own request.",
            "agreed_by": "Heads of both delegations",
            "agreed_on": "2019-11-12",
        },
    )
    assert ok.status_code == 302
    exception = WrittenException.objects.get()
    page = client.get(f"/finance/meetings/{costed.pk}/").content.decode()
    assert "extended its stay" in page and "instead of FN-2" in page
    statement = client.get(f"/finance/meetings/{costed.pk}/statement/KH/").content.decode()
    assert "extended its stay" in statement and "Heads of both delegations" in statement
    assert str(exception.agreed_on) in statement


def test_statements_are_bilingual_per_party(client_of, supervisor_a, costed):
    client = client_of(supervisor_a)  # supervisors may look
    kh = client.get(f"/finance/meetings/{costed.pk}/statement/KH/")
    assert kh.status_code == 200
    text = kh.content.decode()
    assert "Cost-sharing statement" in text and "របាយការណ៍ចែករំលែកការចំណាយ" in text
    assert "ការធ្វើដំណើរអន្តរជាតិ" in text  # international travel, in Khmer
    assert "សិក្ខាសាលាពិនិត្យឡើងវិញប្រចាំឆ្នាំ" in text  # the meeting's Khmer title
    assert "费用分摊表" not in text  # Cambodia's copy: English and Khmer only
    assert "FN-1" in text and "1,860.00 USD" in text
    cn = client.get(f"/finance/meetings/{costed.pk}/statement/CN/").content.decode()
    assert "费用分摊表" in cn and "住宿" in cn and "年度审议研讨会" in cn
    assert "របាយការណ៍" not in cn
    assert "771.43" in cn  # China bears the Cambodian delegation's hotel (5400 CNY / 7)
    # A Party that is not in the meeting has no statement; nor does an unknown code.
    assert client.get(f"/finance/meetings/{costed.pk}/statement/VN/").status_code == 404


def test_statement_exports_csv_and_xlsx_with_an_audit_row(client_of, supervisor_a, costed):
    client = client_of(supervisor_a)
    response = client.get(f"/finance/meetings/{costed.pk}/statement/KH.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith('-KH.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("Cost-sharing statement / របាយការណ៍")
    assert rows[1][0] == "Category / ប្រភេទ"
    travel = next(r for r in rows if r and r[0].startswith("International travel"))
    assert travel[4] == "1860.00" and travel[-1] == "FN-1"

    xlsx = client.get(f"/finance/meetings/{costed.pk}/statement/CN.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][0] == "Category / 类别"
    hotel = next(r for r in values if r[1] == "Hotel, 3 delegates")
    assert hotel[0] == "Accommodation / 住宿" and Decimal(str(hotel[9])) == Decimal("771.43")
    exports = AuditEvent.objects.filter(action=Action.EXPORT, actor_id=supervisor_a.pk)
    assert {e.details["format"] for e in exports} == {"csv", "xlsx"}
    assert client.get(f"/finance/meetings/{costed.pk}/statement/KH.pdf").status_code == 404


def test_exports_neutralise_spreadsheet_formulas(client_of, me_officer, kunming):
    add_cost(
        me_officer,
        kunming,
        "other",
        "5.00",
        "USD",
        "KH",
        "KH",
        description='=HYPERLINK("http://evil.example","click")',
    )
    body = client_of(me_officer).get(f"/finance/meetings/{kunming.pk}/statement/KH.csv")
    assert "'=HYPERLINK" in body.content.decode("utf-8-sig")


def test_year_statement_totals_per_currency(client_of, me_officer, costed):
    client = client_of(me_officer)
    page = client.get("/finance/statements/2019/KH/").content.decode()
    assert "Annual cost-sharing statement" in page and "Annual review workshop" in page
    assert "1,860.00" in page
    rows = list(
        csv.reader(
            io.StringIO(client.get("/finance/statements/2019/CN.csv").content.decode("utf-8-sig"))
        )
    )
    total = next(r for r in rows if r and r[0].startswith("Total"))
    assert total[4] == "USD" and total[5] == "771.43"


def test_other_users_cannot_see_finance(client_of, caseworker_a, cn_focal, dpo, costed):
    for user in (caseworker_a, cn_focal, dpo):
        client = client_of(user)
        for url in (
            "/finance/",
            f"/finance/meetings/{costed.pk}/",
            f"/finance/meetings/{costed.pk}/statement/KH/",
            f"/finance/meetings/{costed.pk}/statement/KH.csv",
            "/finance/budget/",
        ):
            assert client.get(url).status_code == 404, (user.username, url)
        assert denied_logged(user)


def test_viewers_cannot_record(client_of, supervisor_a, node_admin, costed):
    for user in (supervisor_a, node_admin):
        client = client_of(user)
        assert client.get(f"/finance/meetings/{costed.pk}/").status_code == 200
        response = client.post(
            f"/finance/meetings/{costed.pk}/costs/",
            {"category": "meals", "amount": "1", "currency": "USD", "incurred_by": "KH"},
        )
        assert response.status_code == 404
        assert client.post("/finance/meetings/new/", {"title": "x"}).status_code == 404
        assert client.post("/finance/donors/", {"code": "x"}).status_code == 404
    assert CostItem.objects.count() == 2 and Meeting.objects.count() == 1
    page = client_of(supervisor_a).get(f"/finance/meetings/{costed.pk}/").content.decode()
    assert "Record a cost" not in page


def test_member_contacts_are_shown_to_editors_only_and_audited(
    client_of, me_officer, supervisor_a, kunming
):
    delegation = kunming.delegations.get()
    response = client_of(me_officer).post(
        f"/finance/delegations/{delegation.pk}/members/",
        {"member-name": "KEO Sophea", "member-role": "head", "member-contact": "+855 12 000 000"},
    )
    assert response.status_code == 302
    editor_page = client_of(me_officer).get(f"/finance/meetings/{kunming.pk}/")
    assert "+855 12 000 000" in editor_page.content.decode()
    member = delegation.members.get()
    viewed = AuditEvent.objects.filter(action=Action.VIEW, object_id=str(member.pk))
    assert viewed.filter(actor_id=me_officer.pk, fields=["contact"]).exists()
    viewer_page = client_of(supervisor_a).get(f"/finance/meetings/{kunming.pk}/").content.decode()
    assert "KEO Sophea" in viewer_page and "+855" not in viewer_page


def test_budget_pages_show_the_balance_and_alert(client_of, me_officer, supervisor_a):
    client = client_of(me_officer)
    response = client.post(
        "/finance/budget/",
        {
            "country": "KH",
            "year": "2019",
            "amount": "1000000",
            "currency": "KHR",
            "alert_below": "0.100",
        },
    )
    assert response.status_code == 302
    url = response["Location"]
    bad = client.post(
        url + "entries/",
        {
            "kind": "spending",
            "case_reference": "KH-C-1A2B3C4D",
            "support": "medical",
            "amount": "10.5",
            "currency": "KHR",
            "entry_date": "2019-05-01",
        },
    )
    assert bad.status_code == 400 and "whole riel" in bad.content.decode()
    ok = client.post(
        url + "entries/",
        {
            "kind": "spending",
            "case_reference": "KH-C-1A2B3C4D",
            "support": "medical",
            "amount": "950000",
            "currency": "KHR",
            "entry_date": "2019-05-01",
        },
        follow=True,
    )
    assert "only 5.0 % of the budget is left" in ok.content.decode()
    page = client_of(supervisor_a).get(url).content.decode()
    assert "KH-C-1A2B3C4D" in page and "50,000 KHR" in page and "Alert" in page
    assert "Record a commitment or a spending" not in page


def test_list_pages_do_not_grow_queries_with_records(client_of, me_officer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ctip.core.demo import load_demo as core_demo
    from ctip.finance.demo import load_demo

    core_demo("KH")
    load_demo("KH")
    client = client_of(me_officer)

    def count(url):
        client.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    urls = ("/finance/", "/finance/donors/", "/finance/budget/", "/finance/statements/2019/KH/")
    before = {url: count(url) for url in urls}
    for n in range(3):
        meeting = s.meeting_create(
            user=me_officer,
            data=s.MeetingInput(
                title=f"Extra {n}",
                kind="meeting",
                host_country="KH",
                place="Kampot",
                starts_on=dt.date(2019, 8, n + 1),
                ends_on=dt.date(2019, 8, n + 1),
            ),
        )
        s.delegation_add(user=me_officer, meeting=meeting, country="CN")
        add_cost(me_officer, meeting, "meals", "10.00", "USD", "KH", "")
        s.donor_create(
            user=me_officer, data=s.DonorInput(code=f"d{n}", name=f"Donor {n}", kind="ngo")
        )
        s.budget_allocation_create(
            user=me_officer,
            data=s.AllocationInput(country="KH", year=2010 + n, amount="100", currency="USD"),
        )
    after = {url: count(url) for url in urls}
    assert after == before
    assert before["/finance/"] <= 12
