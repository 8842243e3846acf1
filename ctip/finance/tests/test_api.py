"""The finance API: the same rules and field errors as the pages, amounts as decimal strings,
and the other users cannot see it."""

from __future__ import annotations

import datetime as dt

import pytest

from ctip.audit.models import Action, AuditEvent
from ctip.finance import services as s
from ctip.finance.models import CostItem, Meeting

from .conftest import add_cost

pytestmark = pytest.mark.django_db

MEETING = {
    "title": "Joint taskforce meeting",
    "kind": "meeting",
    "plan_activity": "IV.6",
    "host_country": "KH",
    "place": "Phnom Penh",
    "starts_on": "2019-06-04",
    "ends_on": "2019-06-05",
    "reporting_currency": "USD",
}


def test_record_a_meeting_delegation_and_costs_through_the_api(client_of, me_officer):
    client = client_of(me_officer)
    created = client.post("/api/v1/finance/meetings", MEETING, content_type="application/json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["parties"] == ["KH"] and created.json()["ruleset"] == "jpa-draft-1"
    delegation = client.post(
        f"/api/v1/finance/meetings/{pk}/delegations",
        {"country": "CN", "members": [{"name": "ZHANG Wei", "role": "head", "contact": "x@y.z"}]},
        content_type="application/json",
    )
    assert delegation.status_code == 201
    assert delegation.json()["visiting"] is True
    assert delegation.json()["members"][0] == {
        "id": delegation.json()["members"][0]["id"],
        "name": "ZHANG Wei",
        "position": "",
        "organisation": "",
        "role": "head",
    }  # no contact details in the API
    item = client.post(
        f"/api/v1/finance/meetings/{pk}/cost-items",
        {
            "category": "international_travel",
            "amount": "2380.00",
            "currency": "usd",
            "incurred_by": "CN",
            "for_party": "CN",
            "description": "Air tickets",
        },
        content_type="application/json",
    )
    assert item.status_code == 201, item.json()
    body = item.json()
    assert body["amount"] == {"amount": "2380.00", "currency": "USD"}
    assert body["allocation"]["decided_by"] == "FN-1"
    assert body["allocation"]["shares"] == [
        {
            "bearer": "CN",
            "amount": {"amount": "2380.00", "currency": "USD"},
            "reporting": {"amount": "2380.00", "currency": "USD"},
            "basis": "FN-1",
        }
    ]
    detail = client.get(f"/api/v1/finance/meetings/{pk}").json()
    assert detail["total"] == {"amount": "2380.00", "currency": "USD"}
    assert {t["bearer"] for t in detail["totals"]} == {"KH", "CN"}
    statement = client.get(f"/api/v1/finance/meetings/{pk}/statement?party=CN").json()
    assert statement["languages"] == ["en", "zh-hans"]
    assert statement["borne"] == {"amount": "2380.00", "currency": "USD"}
    assert statement["rules_applied"][0]["code"] == "FN-1"
    assert "来访" in statement["rules_applied"][0]["zh-hans"]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"amount": "-1"}, {"amount": ["An amount cannot be negative."]}),
        ({"currency": "EUR"}, {"currency": ["Unknown currency: use USD, KHR or CNY."]}),
        ({"currency": "KHR", "amount": "1000"}, {"rate": None}),
        ({"incurred_by": "CN"}, {"incurred_by": None}),
    ],
)
def test_bad_cost_items_answer_400_with_field_errors(client_of, me_officer, fields, errors):
    meeting = s.meeting_create(
        user=me_officer,
        data=s.MeetingInput(
            title="x",
            kind="meeting",
            host_country="KH",
            place="x",
            starts_on=dt.date(2019, 1, 1),
            ends_on=dt.date(2019, 1, 1),
        ),
    )
    data = {"category": "meals", "amount": "10.00", "currency": "USD", "incurred_by": "KH"}
    data.update(fields)
    response = client_of(me_officer).post(
        f"/api/v1/finance/meetings/{meeting.pk}/cost-items", data, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and set(error["fields"]) == set(errors)
    for field, messages in errors.items():
        if messages:
            assert error["fields"][field] == messages
    assert not CostItem.objects.exists()


def test_budgets_through_the_api(client_of, me_officer):
    client = client_of(me_officer)
    created = client.post(
        "/api/v1/finance/budgets",
        {
            "country": "KH",
            "year": 2019,
            "amount": "100000.00",
            "currency": "USD",
            "alert_below": "0.2",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    entry = client.post(
        f"/api/v1/finance/budgets/{pk}/entries",
        {
            "kind": "spending",
            "case_reference": "KH-C-0000ABCD",
            "support": "shelter",
            "amount": "85000.00",
            "currency": "USD",
            "entry_date": "2019-03-01",
        },
        content_type="application/json",
    )
    assert entry.status_code == 201 and entry.json()["level"] == "low"
    status = client.get(f"/api/v1/finance/budgets/{pk}").json()
    assert status["remaining"] == {"amount": "15000.00", "currency": "USD"}
    assert status["remaining_percent"] == "15.0" and status["level"] == "low"
    assert status["cases"][0]["case"] == "KH-C-0000ABCD"
    missing_rate = client.post(
        f"/api/v1/finance/budgets/{pk}/entries",
        {
            "kind": "spending",
            "case_reference": "KH-C-0000ABCD",
            "support": "shelter",
            "amount": "10.00",
            "currency": "CNY",
            "entry_date": "2019-03-01",
        },
        content_type="application/json",
    )
    assert missing_rate.status_code == 400
    assert set(missing_rate.json()["error"]["fields"]) == {"rate"}


def test_the_other_users_cannot_see_or_change_it(
    client_of, me_officer, caseworker_a, cn_focal, supervisor_a, kunming
):
    add_cost(me_officer, kunming, "meals", "10.00", "USD", "CN", "")
    for user in (caseworker_a, cn_focal):
        client = client_of(user)
        for url in (
            "/api/v1/finance/meetings",
            f"/api/v1/finance/meetings/{kunming.pk}",
            f"/api/v1/finance/meetings/{kunming.pk}/statement?party=KH",
            "/api/v1/finance/budgets",
            "/api/v1/finance/donors",
        ):
            assert client.get(url).status_code == 404, (user.username, url)
        assert AuditEvent.objects.filter(
            action=Action.SECURITY, actor_id=user.pk, object_id=str(kunming.pk)
        ).exists()
    viewer = client_of(supervisor_a)
    assert viewer.get(f"/api/v1/finance/meetings/{kunming.pk}").status_code == 200
    refused = viewer.post(
        f"/api/v1/finance/meetings/{kunming.pk}/cost-items",
        {"category": "meals", "amount": "1", "currency": "USD", "incurred_by": "KH"},
        content_type="application/json",
    )
    assert refused.status_code == 404
    assert (
        viewer.post(
            "/api/v1/finance/meetings", MEETING, content_type="application/json"
        ).status_code
        == 404
    )
    assert CostItem.objects.count() == 1 and Meeting.objects.count() == 1
    assert client_of(me_officer).get("/api/v1/finance/meetings").json()[0]["id"] == str(kunming.pk)


def test_the_schema_lists_the_finance_routes_with_their_errors():
    import yaml
    from django.test import Client

    schema = yaml.safe_load(Client().get("/api/schema/").content)
    for route in (
        "/api/v1/finance/meetings",
        "/api/v1/finance/meetings/{id}/cost-items",
        "/api/v1/finance/meetings/{id}/statement",
        "/api/v1/finance/budgets/{id}/entries",
    ):
        for operation in schema["paths"][route].values():
            assert {"400", "401", "403", "404"} <= set(operation["responses"]), route
