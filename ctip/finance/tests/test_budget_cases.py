"""The reintegration budget taken from the cases: a commitment for a referral, a spending
for a service received (paying that referral's commitment), the year's referrals and
services not yet in the budget, and what the finance pages may and may not show of a case."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ctip.accounts.permissions import NotFound
from ctip.audit.models import Action, AuditEvent
from ctip.cases import services as cases
from ctip.cases.models import Case
from ctip.cases.tests.conftest import VICTIM_ANSWERS
from ctip.directory.models import Service
from ctip.finance import selectors
from ctip.finance import services as s
from ctip.testing import personas

pytestmark = pytest.mark.django_db

CANARY = "Canaryreintegration Qzvx"
TODAY = timezone.localdate()


def open_case(caseworker, name: str) -> Case:
    person = cases.person_create(
        user=caseworker, data=cases.PersonInput(name_latin=name, sex="female")
    )
    screening = cases.screening_start(user=caseworker, person=person)
    screening = cases.screening_submit(
        user=caseworker, screening=screening, raw=dict(VICTIM_ANSWERS)
    )
    return cases.case_open(user=caseworker, person=person, screening=screening, track="in_country")


def local_service(agency, kind: str) -> Service:
    return Service.objects.create(
        country="KH",
        service_type=kind,
        sector="government",
        provider=agency,
        name_en=f"{kind} (test)",
        city="Phnom Penh",
        phone="+85512345678",
    )


@pytest.fixture
def world(caseworker_a, agency_a, me_officer):
    case = open_case(caseworker_a, "Sok Chanthy")
    shelter = local_service(agency_a, "shelter")
    referral = cases.referral_create(
        user=caseworker_a, case=case, service=shelter, note=f"{CANARY} note"
    )
    stay = cases.service_record(
        user=caseworker_a,
        case=case,
        data=cases.ServiceInput(
            kind="shelter", started_on=TODAY, referral=referral, feedback=f"{CANARY} feedback"
        ),
    )
    clinic = cases.service_record(
        user=caseworker_a,
        case=case,
        data=cases.ServiceInput(kind="medical", started_on=TODAY),
    )
    allocation = s.budget_allocation_create(
        user=me_officer,
        data=s.AllocationInput(country="KH", year=TODAY.year, amount="1000.00", currency="USD"),
    )
    return {
        "case": case,
        "referral": referral,
        "stay": stay,
        "clinic": clinic,
        "allocation": allocation,
    }


def entry(user, allocation, kind, case, amount="300.00", **kw):
    return s.budget_entry_add(
        user=user,
        allocation=allocation,
        data=s.EntryInput(
            kind=kind,
            case_reference=case.reference,
            support=kw.pop("support", ""),
            amount=amount,
            currency="USD",
            entry_date=TODAY,
            **kw,
        ),
    )


def status(user, allocation):
    allocation = selectors.access_budget(user, allocation.pk)
    st = selectors.budget_status(allocation)
    return allocation, st, selectors.case_support(allocation, st)


def test_commitments_and_spending_come_from_referrals_and_services(world, me_officer):
    case, allocation = world["case"], world["allocation"]
    _, _, before = status(me_officer, allocation)
    assert [r.id for r in before.unbudgeted_referrals] == [world["referral"].pk]
    assert {r.id for r in before.unpaid_services} == {world["stay"].pk, world["clinic"].pk}

    promised = entry(me_officer, allocation, "commitment", case, referral_id=world["referral"].pk)
    assert (promised.support, promised.referral_id) == ("shelter", world["referral"].pk)
    # The stay came from that referral: its spending pays the commitment, without choosing it.
    paid = entry(me_officer, allocation, "spending", case, "200.00", service_id=world["stay"].pk)
    assert paid.against_id == promised.pk and paid.support == "shelter"
    assert paid.referral_id == world["referral"].pk
    care = entry(me_officer, allocation, "spending", case, "50.00", service_id=world["clinic"].pk)
    assert care.support == "medical" and care.against_id is None

    _, st, after = status(me_officer, allocation)
    assert after.unbudgeted_referrals == [] and after.unpaid_services == []
    [row] = after.cases
    assert row.totals.case == case.reference
    assert (row.totals.committed.amount, row.totals.spent.amount, row.totals.open.amount) == (
        Decimal("300.00"),
        Decimal("250.00"),
        Decimal("100.00"),
    )
    assert st.remaining.amount == Decimal("650.00") and not row.overspent
    event = AuditEvent.objects.filter(action=Action.CREATE, object_id=str(paid.pk)).get()
    assert event.details["source"] == "service" and CANARY not in str(event.details)


def test_a_case_spending_beyond_its_commitments_is_flagged(world, me_officer):
    case, allocation = world["case"], world["allocation"]
    entry(me_officer, allocation, "commitment", case, "100.00", referral_id=world["referral"].pk)
    entry(me_officer, allocation, "spending", case, "150.00", service_id=world["stay"].pk)
    _, _, support = status(me_officer, allocation)
    assert support.cases[0].overspent


def test_sources_that_are_not_the_cases_are_refused(world, me_officer, caseworker_a):
    case, allocation = world["case"], world["allocation"]
    other = open_case(caseworker_a, "Chea Sreyneang")
    with pytest.raises(ValidationError) as exc:  # the referral of another case
        entry(me_officer, allocation, "commitment", other, referral_id=world["referral"].pk)
    assert "referral_id" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # a service received is paid, not promised
        entry(me_officer, allocation, "commitment", case, service_id=world["stay"].pk)
    assert "kind" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # without a source, the support is needed
        entry(me_officer, allocation, "commitment", case)
    assert "support" in exc.value.message_dict
    # A sealed case is not shown to the budget, nor can its records be taken (DP-5).
    Case.objects.filter(pk=case.pk).update(sealed=True)
    with pytest.raises(ValidationError) as exc:
        entry(me_officer, allocation, "spending", case, service_id=world["stay"].pk)
    assert "service_id" in exc.value.message_dict
    allocation = selectors.access_budget(me_officer, allocation.pk)
    assert selectors.case_records(allocation, case.reference) is None
    _, _, support = status(me_officer, allocation)
    assert support.unbudgeted_referrals == [] and support.unpaid_services == []


def test_other_agencies_and_the_other_country_cannot_record(world, agency_b, agency_cn):
    case, allocation = world["case"], world["allocation"]
    for user in (
        personas.make_user("me_b", agency_b, "me_officer").user,
        personas.make_user("me_cn", agency_cn, "me_officer").user,
    ):
        with pytest.raises(NotFound):
            entry(user, allocation, "commitment", case, referral_id=world["referral"].pk)
    with pytest.raises(ValidationError) as exc:  # nor open a budget for the other country
        s.budget_allocation_create(
            user=personas.make_user("me_cn2", agency_cn, "me_officer").user,
            data=s.AllocationInput(country="KH", year=2030, amount="10.00", currency="USD"),
        )
    assert "country" in exc.value.message_dict


def test_the_budget_page_takes_entries_from_a_case_and_shows_no_notes(
    world, me_officer, supervisor_a, client_of, agency_b
):
    case, allocation = world["case"], world["allocation"]
    client = client_of(me_officer)
    url = f"/finance/budget/{allocation.pk}/"
    page = client.get(url).content.decode()
    assert 'id="unbudgeted"' in page and case.reference in page
    looked_up = client.get(url, {"case": case.reference.lower()}).content.decode()
    assert 'id="case-records"' in looked_up and f'value="{world["referral"].pk}"' in looked_up
    assert CANARY not in looked_up and "shelter (test)" not in looked_up
    posted = client.post(
        f"{url}entries/",
        {
            "kind": "commitment",
            "case_reference": case.reference,
            "referral_id": str(world["referral"].pk),
            "amount": "300.00",
            "currency": "USD",
            "entry_date": TODAY.isoformat(),
        },
    )
    assert posted.status_code == 302
    assert allocation.entries.get().referral_id == world["referral"].pk
    missing = client.get(url, {"case": "KH-C-NOPE0000"}).content.decode()
    assert "No open case with this reference" in missing
    # Viewers see the lists but get no forms; another agency's editor neither.
    for user in (supervisor_a, personas.make_user("me_b", agency_b, "me_officer").user):
        seen = client_of(user).get(url, {"case": case.reference}).content.decode()
        assert 'id="case-records"' in seen and f"{url}entries/" not in seen


def test_the_api_shows_what_is_not_yet_budgeted_and_takes_a_service(world, me_officer, client_of):
    case, allocation = world["case"], world["allocation"]
    client = client_of(me_officer)
    api = f"/api/v1/finance/budgets/{allocation.pk}"
    data = client.get(api).json()
    assert {r["source"] for r in data["unpaid_services"]} == {"service"}
    assert data["unbudgeted_referrals"][0]["case"] == case.reference
    assert CANARY not in str(data)
    created = client.post(
        f"{api}/entries",
        {
            "kind": "spending",
            "case_reference": case.reference,
            "service_id": str(world["clinic"].pk),
            "amount": "40.00",
            "currency": "USD",
            "entry_date": TODAY.isoformat(),
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["support"] == "medical"
    assert created.json()["service_id"] == str(world["clinic"].pk)
    assert len(client.get(api).json()["unpaid_services"]) == 1
    wrong = client.post(
        f"{api}/entries",
        {
            "kind": "spending",
            "case_reference": case.reference,
            "service_id": "not-a-uuid",
            "amount": "40.00",
            "currency": "USD",
            "entry_date": (TODAY - dt.timedelta(days=1)).isoformat(),
        },
        content_type="application/json",
    )
    assert wrong.status_code == 400
