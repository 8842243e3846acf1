"""The Financial Notes applied to recorded meetings, written exceptions, donor coverage, bad
input, the reintegration budget, the audit trail and the demo data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ctip.accounts.permissions import NotFound
from ctip.audit.models import Action, AuditEvent
from ctip.finance import selectors
from ctip.finance import services as s
from ctip.finance.models import CostItem, DelegationMember, Meeting

from .conftest import CNY_RATE, add_cost

pytestmark = pytest.mark.django_db


def reload(meeting):
    return selectors.access_meeting(meeting.created_by, meeting.pk)


def shares(allocation, item) -> dict[str, str]:
    result = next(r for r in allocation.items if r.line.id == str(item.pk))
    return {sh.bearer: f"{sh.reporting.amount}" for sh in result.shares}


def decided(allocation, item) -> str:
    return next(r for r in allocation.items if r.line.id == str(item.pk)).decided_by


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {f: [e.code for e in errs] for f, errs in error.error_dict.items()}


# --- Each Financial Note, on a recorded meeting --------------------------------------------


def test_each_financial_note_decides_who_pays_at_the_kunming_workshop(kunming, me_officer):
    flights = add_cost(me_officer, kunming, "international_travel", "1860.00", "USD", "KH", "KH")
    hotel = add_cost(me_officer, kunming, "accommodation", "5400.00", "CNY", "CN", "KH")
    bus = add_cost(me_officer, kunming, "domestic_travel", "700.00", "CNY", "KH", "KH")
    hall = add_cost(me_officer, kunming, "venue", "7000.00", "CNY", "CN", "")
    visa = add_cost(me_officer, kunming, "other", "90.00", "USD", "KH", "KH")

    allocation = selectors.meeting_allocation(reload(kunming))
    # Note 1: the visiting Party (Cambodia) bears its international travel.
    assert decided(allocation, flights) == "FN-1" and shares(allocation, flights) == {
        "KH": "1860.00"
    }
    # Note 2: the host (China) bears the visitors' accommodation, domestic travel (even when
    # Cambodia paid the bus itself) and the workshop's venue.
    assert decided(allocation, hotel) == "FN-2" and shares(allocation, hotel) == {"CN": "771.43"}
    assert decided(allocation, bus) == "FN-2" and shares(allocation, bus) == {"CN": "100.00"}
    assert decided(allocation, hall) == "FN-2" and shares(allocation, hall) == {"CN": "1000.00"}
    # Not in the notes: the visitors' visa fees are their own (residual rule R-1).
    assert decided(allocation, visa) == "R-1" and shares(allocation, visa) == {"KH": "90.00"}
    # China owes Cambodia the bus it paid; everything adds up.
    assert allocation.net["KH"].amount == Decimal("100.00")
    assert allocation.net["CN"].amount == Decimal("-100.00")
    assert allocation.total.amount == Decimal("3821.43")
    assert sum(m.amount for m in allocation.borne.values()) == allocation.total.amount


def test_a_written_exception_overrides_a_note_with_its_reason(kunming, me_officer):
    interp = add_cost(me_officer, kunming, "interpretation", "3000.00", "CNY", "CN", "")
    exception = s.exception_record(
        user=me_officer,
        meeting=kunming,
        data=s.ExceptionInput(
            share_kh="40",
            share_cn="60",
            category="interpretation",
            reason="Cambodia asked for a second interpreter for its delegation.",
            agreed_by="Heads of both delegations",
            agreed_on=dt.date(2019, 11, 12),
            document="Minutes, item 3",
        ),
    )
    allocation = selectors.meeting_allocation(reload(kunming))
    result = allocation.items[0]
    assert result.rule == "FN-2"  # what the note says
    assert result.decided_by == f"exception:{exception.pk}"  # what decided instead
    assert result.exception.reason.startswith("Cambodia asked")
    assert result.exception.agreed_by == "Heads of both delegations"
    assert shares(allocation, interp) == {"KH": "171.43", "CN": "257.14"}  # 428.57 in all
    event = AuditEvent.objects.get(action=Action.CREATE, object_id=str(exception.pk))
    assert event.details["shares"] == {"KH": "40", "CN": "60"}
    assert "Cambodia asked" not in str(event.details)  # free text stays out of the audit


def test_an_exception_needs_reason_who_agreed_and_shares_of_a_hundred(kunming, me_officer):
    with pytest.raises(ValidationError) as exc:
        s.exception_record(
            user=me_officer,
            meeting=kunming,
            data=s.ExceptionInput(
                share_kh="50", share_cn="40", reason=" ", agreed_by="", agreed_on=None
            ),
        )
    assert codes(exc.value) == {
        "share_kh": ["shares_do_not_add_up"],
        "agreed_on": ["date_required"],
        "reason": ["reason_required"],
        "agreed_by": ["agreed_by_required"],
    }
    assert not kunming.exceptions.exists()


def test_two_exceptions_for_the_same_costs_are_refused(kunming, me_officer):
    data = s.ExceptionInput(
        share_kh="50",
        share_cn="50",
        category="meals",
        reason="shared",
        agreed_by="both",
        agreed_on=dt.date(2019, 11, 12),
    )
    s.exception_record(user=me_officer, meeting=kunming, data=data)
    with pytest.raises(ValidationError) as exc:
        s.exception_record(user=me_officer, meeting=kunming, data=data)
    assert codes(exc.value) == {"category": ["ambiguous_exception"]}


def test_donor_coverage_is_shown_as_such_and_bounded(kunming, me_officer):
    interp = add_cost(me_officer, kunming, "interpretation", "9000.00", "CNY", "CN", "")
    donor = s.donor_create(
        user=me_officer, data=s.DonorInput(code="iom", name="IOM", kind="international")
    )
    commitment = s.commitment_create(
        user=me_officer,
        donor=donor,
        data=s.CommitmentInput(
            amount="1000.00",
            currency="USD",
            committed_on=dt.date(2019, 9, 1),
            plan_activity="VI.1",
        ),
    )
    coverage = s.coverage_record(
        user=me_officer,
        cost_item=interp,
        commitment_id=commitment.pk,
        amount="6300.00",
        rate=CNY_RATE,
    )
    assert coverage.amount_committed == Decimal("900.00")  # 6300 CNY at 7 CNY to the dollar
    assert (coverage.rate_base, coverage.rate_quote) == ("USD", "CNY")
    allocation = selectors.meeting_allocation(reload(kunming))
    result = allocation.items[0]
    assert shares(allocation, interp) == {f"donor:{donor.pk}": "900.00", "CN": "385.71"}
    assert {sh.bearer: sh.basis for sh in result.shares} == {
        f"donor:{donor.pk}": "FN-3",
        "CN": "FN-2",
    }
    # China paid the bill; the donor's part comes back to it.
    assert allocation.net["CN"].amount == Decimal("900.00")
    use = selectors.commitment_use([commitment])[0]
    assert (use.covered.amount, use.left.amount) == (Decimal("900.00"), Decimal("100.00"))

    # Not more than the cost itself, nor more than is left of the commitment.
    with pytest.raises(ValidationError) as exc:
        s.coverage_record(
            user=me_officer,
            cost_item=interp,
            commitment_id=commitment.pk,
            amount="2700.01",
            rate=CNY_RATE,
        )
    assert codes(exc.value) == {"amount": ["coverage_exceeds_amount"]}
    with pytest.raises(ValidationError) as exc:
        s.coverage_record(
            user=me_officer,
            cost_item=interp,
            commitment_id=commitment.pk,
            amount="1000.00",
            rate=CNY_RATE,
        )
    assert "more than is left" in str(exc.value)
    # The commitment's currency differs from the item's: the rate is needed.
    with pytest.raises(ValidationError) as exc:
        s.coverage_record(
            user=me_officer, cost_item=interp, commitment_id=commitment.pk, amount="10.00"
        )
    assert codes(exc.value) == {"rate": ["missing_rate"]}


def test_a_commitment_to_another_activity_cannot_cover_this_meeting(kunming, me_officer):
    item = add_cost(me_officer, kunming, "meals", "100.00", "USD", "CN", "")
    donor = s.donor_create(user=me_officer, data=s.DonorInput(code="x", name="X", kind="ngo"))
    other = s.commitment_create(
        user=me_officer,
        donor=donor,
        data=s.CommitmentInput(
            amount="50.00", currency="USD", committed_on=dt.date(2019, 1, 1), plan_activity="V.2"
        ),
    )
    with pytest.raises(ValidationError) as exc:
        s.coverage_record(user=me_officer, cost_item=item, commitment_id=other.pk, amount="10")
    assert list(exc.value.error_dict) == ["commitment"]


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"amount": "-5.00"}, {"amount": ["negative_amount"]}),
        ({"amount": "0"}, {"amount": ["zero_amount"]}),
        ({"amount": "12.345"}, {"amount": ["too_many_decimals"]}),
        # Every fault at once: KHR has no decimals, and the amount needs a rate to USD.
        (
            {"amount": "4100.5", "currency": "KHR"},
            {"amount": ["too_many_decimals"], "rate": ["missing_rate"]},
        ),
        ({"currency": "EUR"}, {"currency": ["unknown_currency"]}),
        ({"currency": "CNY"}, {"rate": ["missing_rate"]}),
        ({"incurred_by": "VN"}, {"incurred_by": ["unknown_party"]}),
        ({"category": "bribes"}, {"category": ["unknown_category"]}),
    ],
)
def test_bad_cost_items_get_clear_field_errors(kunming, me_officer, change, expected):
    data = {"category": "meals", "amount": "10.00", "currency": "USD", "incurred_by": "KH"}
    data.update(change)
    with pytest.raises(ValidationError) as exc:
        s.cost_item_add(user=me_officer, meeting=kunming, data=s.CostItemInput(**data))
    assert codes(exc.value) == expected
    assert not CostItem.objects.exists()


def test_a_cost_for_a_party_not_in_the_meeting_is_refused(me_officer):
    alone = s.meeting_create(
        user=me_officer,
        data=s.MeetingInput(
            title="National preparatory meeting",
            kind="meeting",
            host_country="KH",
            place="Phnom Penh",
            starts_on=dt.date(2019, 5, 1),
            ends_on=dt.date(2019, 5, 1),
        ),
    )
    with pytest.raises(ValidationError) as exc:
        s.cost_item_add(
            user=me_officer,
            meeting=alone,
            data=s.CostItemInput("meals", "10.00", "USD", incurred_by="CN", for_party="CN"),
        )
    assert codes(exc.value) == {
        "incurred_by": ["party_not_in_meeting"],
        "for_party": ["party_not_in_meeting"],
    }
    assert "neither the host nor has a delegation" in exc.value.error_dict["incurred_by"][0].message


def test_a_rate_must_join_the_two_currencies_and_have_a_date(kunming, me_officer):
    with pytest.raises(ValidationError) as exc:
        s.cost_item_add(
            user=me_officer,
            meeting=kunming,
            data=s.CostItemInput(
                "meals", "1000", "KHR", "CN", rate=s.RateInput(rate="4100", rate_base="CNY")
            ),
        )
    assert codes(exc.value) == {
        "rate_date": ["missing_rate_date"],
        "rate_base": ["rate_wrong_currency"],
    }
    with pytest.raises(ValidationError) as exc:
        s.cost_item_add(
            user=me_officer,
            meeting=kunming,
            data=s.CostItemInput(
                "meals",
                "1000",
                "KHR",
                "CN",
                rate=s.RateInput(rate="-4100", rate_base="USD", rate_date=dt.date(2019, 1, 1)),
            ),
        )
    assert codes(exc.value) == {"rate": ["rate_not_positive"]}


def test_a_khr_amount_is_whole_riel_and_converts_with_its_rate(kunming, me_officer):
    item = add_cost(
        me_officer,
        kunming,
        "meals",
        "1000",
        "KHR",
        "CN",
        "",
        rate=s.RateInput(rate="4100", rate_base="USD", rate_date=dt.date(2019, 11, 1)),
    )
    item.refresh_from_db()
    assert (item.amount, item.currency, item.rate_display) == (
        Decimal("1000.00"),
        "KHR",
        "1 USD = 4100 KHR",
    )
    allocation = selectors.meeting_allocation(reload(kunming))
    assert allocation.items[0].reporting_total.amount == Decimal("0.24")  # half-even


def test_meeting_dates_and_plan_activity_are_checked(me_officer):
    with pytest.raises(ValidationError) as exc:
        s.meeting_create(
            user=me_officer,
            data=s.MeetingInput(
                title="x",
                kind="meeting",
                host_country="KH",
                place="x",
                starts_on=dt.date(2019, 5, 2),
                ends_on=dt.date(2019, 5, 1),
                plan_activity="VII.9",
                reporting_currency="usd",
            ),
        )
    assert set(exc.value.error_dict) == {"ends_on", "plan_activity"}


def test_the_database_refuses_a_negative_amount_even_past_the_service(kunming):
    item = CostItem(
        meeting=kunming, category="meals", amount=Decimal("-1"), currency="USD", incurred_by="KH"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        item.save()


# --- Permissions and audit ----------------------------------------------------------------


def test_only_the_secretariat_records(kunming, caseworker_a, supervisor_a, cn_focal):
    for user in (caseworker_a, supervisor_a, cn_focal):
        with pytest.raises(NotFound):
            add_cost(user, kunming, "meals", "1.00", "USD", "KH", "KH")
    assert not CostItem.objects.exists()
    assert selectors.access_meeting(supervisor_a, kunming.pk) == kunming  # supervisors look
    with pytest.raises(NotFound):
        selectors.access_meeting(caseworker_a, kunming.pk)
    assert list(selectors.meeting_list(user=cn_focal)) == []


def test_writes_are_audited_without_names_or_contacts(kunming, me_officer):
    delegation = kunming.delegations.get()
    member = s.member_add(
        user=me_officer,
        delegation=delegation,
        data=s.MemberInput(name="SOK Canary", position="Director", contact="canary@example.org"),
    )
    event = AuditEvent.objects.get(object_id=str(member.pk))
    assert event.action == Action.CREATE and event.actor_id == me_officer.pk
    assert set(event.fields) == {"name", "position", "contact"}
    text = str(event.details) + str(member)
    assert "Canary" not in text and "canary@" not in text
    stored = DelegationMember.objects.filter(pk=member.pk).values_list("contact", flat=True)[0]
    assert "canary" not in stored  # encrypted at rest
    assert DelegationMember.objects.get(pk=member.pk).contact == "canary@example.org"


# --- Reintegration budget -----------------------------------------------------------------


def test_reintegration_budget_balance_and_alert(me_officer):
    allocation = s.budget_allocation_create(
        user=me_officer,
        data=s.AllocationInput(country="KH", year=2019, amount="10000000", currency="KHR"),
    )
    commitment = s.budget_entry_add(
        user=me_officer,
        allocation=allocation,
        data=s.EntryInput(
            kind="commitment",
            case_reference="kh-c-1a2b3c4d",
            support="vocational",
            amount="6000000",
            currency="KHR",
            entry_date=dt.date(2019, 3, 1),
        ),
    )
    assert commitment.case_reference == "KH-C-1A2B3C4D"
    s.budget_entry_add(
        user=me_officer,
        allocation=allocation,
        data=s.EntryInput(
            kind="spending",
            case_reference="KH-C-1A2B3C4D",
            support="vocational",
            amount="2500000",
            currency="KHR",
            entry_date=dt.date(2019, 4, 1),
            against_id=commitment.pk,
        ),
    )
    # Paid in dollars, converted once into riel with the rate kept beside it.
    usd = s.budget_entry_add(
        user=me_officer,
        allocation=allocation,
        data=s.EntryInput(
            kind="spending",
            case_reference="KH-C-99990000",
            support="medical",
            amount="700.00",
            currency="USD",
            entry_date=dt.date(2019, 5, 1),
            rate=s.RateInput(rate="4100", rate_base="USD", rate_date=dt.date(2019, 5, 1)),
        ),
    )
    assert usd.amount_budget == Decimal("2870000")
    status = selectors.budget_status(selectors.access_budget(me_officer, allocation.pk))
    assert status.spent.amount == Decimal("5370000")
    assert status.open_commitments.amount == Decimal("3500000")
    assert status.remaining.amount == Decimal("1130000")
    assert status.remaining_percent == Decimal("11.3") and status.level == "ok"
    s.budget_entry_add(
        user=me_officer,
        allocation=allocation,
        data=s.EntryInput(
            kind="spending",
            case_reference="KH-C-99990000",
            support="medical",
            amount="200000",
            currency="KHR",
            entry_date=dt.date(2019, 6, 1),
        ),
    )
    status = selectors.budget_status(selectors.access_budget(me_officer, allocation.pk))
    assert status.level == "low" and status.remaining_percent == Decimal("9.3")
    assert [c.case for c in status.cases] == ["KH-C-1A2B3C4D", "KH-C-99990000"]


def test_budget_entries_refuse_bad_input(me_officer):
    allocation = s.budget_allocation_create(
        user=me_officer,
        data=s.AllocationInput(country="KH", year=2020, amount="1000", currency="KHR"),
    )
    with pytest.raises(ValidationError) as exc:
        s.budget_entry_add(
            user=me_officer,
            allocation=allocation,
            data=s.EntryInput(
                kind="commitment",
                case_reference="Sok Dara",
                support="shelter",
                amount="-10",
                currency="KHR",
                entry_date=dt.date(2020, 1, 1),
            ),
        )
    assert set(exc.value.error_dict) == {"amount"}
    with pytest.raises(ValidationError) as exc:  # a name is not a case reference
        s.budget_entry_add(
            user=me_officer,
            allocation=allocation,
            data=s.EntryInput(
                kind="commitment",
                case_reference="Sok Dara",
                support="shelter",
                amount="10",
                currency="KHR",
                entry_date=dt.date(2020, 1, 1),
            ),
        )
    assert set(exc.value.error_dict) == {"case_reference"}
    with pytest.raises(ValidationError) as exc:
        s.budget_allocation_create(
            user=me_officer,
            data=s.AllocationInput(country="KH", year=2020, amount="5", currency="KHR"),
        )
    assert set(exc.value.error_dict) == {"year"}


# --- Demo ---------------------------------------------------------------------------------


def test_demo_loads_once_and_tells_the_kunming_story(settings):
    from ctip.core.demo import load_demo as core_demo
    from ctip.finance.demo import KUNMING_TITLE, load_demo

    assert load_demo("KH") is False  # no secretariat yet: nothing loaded
    assert not Meeting.objects.exists()
    core_demo("KH")  # the core demo may call ours already
    load_demo("KH")
    assert Meeting.objects.count() == 2
    events = AuditEvent.objects.count()
    assert load_demo("KH") is False  # idempotent: nothing new, not even an audit row
    assert Meeting.objects.count() == 2 and AuditEvent.objects.count() == events
    kunming = Meeting.objects.get(title=KUNMING_TITLE)
    allocation = selectors.meeting_allocation(selectors.meeting_queryset().get(pk=kunming.pk))
    rules = {r.decided_by for r in allocation.items}
    assert {"FN-1", "FN-2", "FN-3", "R-1"} <= rules
    assert any(sh.is_donor for r in allocation.items for sh in r.shares)
    assert kunming.host_country == "CN" and kunming.party_codes() == {"KH", "CN"}
    phnom_penh = Meeting.objects.exclude(pk=kunming.pk).get()
    assert phnom_penh.host_country == "KH" and phnom_penh.exceptions.count() == 1
