"""Changing, cancelling and deleting meetings, delegations, members and cost items: the
checks, the audit trail, and the attacks (another agency, the other country, view-only
roles, anonymous; through the services, the pages and the API)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ctip.accounts.permissions import NotFound
from ctip.audit.models import Action, AuditEvent
from ctip.finance import selectors
from ctip.finance import services as s
from ctip.finance.models import CostItem, Delegation, DelegationMember, Meeting
from ctip.testing import personas

from .conftest import CNY_RATE, add_cost

pytestmark = pytest.mark.django_db


def meeting_input(meeting: Meeting, **changes) -> s.MeetingInput:
    fields = s.MeetingInput.__dataclass_fields__
    return s.MeetingInput(**{f: changes.get(f, getattr(meeting, f)) for f in fields})


def audit(action, obj) -> AuditEvent | None:
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).order_by("-seq").first()


@pytest.fixture
def me_b(agency_b):
    """An M&E officer of another agency of the same country."""
    return personas.make_user("me_b", agency_b, "me_officer").user


@pytest.fixture
def me_cn(agency_cn):
    """An M&E officer of the other country."""
    return personas.make_user("me_cn", agency_cn, "me_officer").user


@pytest.fixture
def member(kunming, me_officer):
    delegation = kunming.delegations.get(country="KH")
    return s.member_add(
        user=me_officer,
        delegation=delegation,
        data=s.MemberInput(name="Chan Vuthy", position="Deputy director", contact="+855 12 345"),
    )


@pytest.fixture
def flights(kunming, me_officer):
    return add_cost(me_officer, kunming, "international_travel", "1860.00", "USD", "KH", "KH")


# --- Meetings -----------------------------------------------------------------------------


def test_a_meeting_is_changed_and_its_costs_reallocated(kunming, me_officer, flights):
    hotel = add_cost(me_officer, kunming, "accommodation", "5400.00", "CNY", "CN", "KH")
    changed = s.meeting_update(
        user=me_officer,
        meeting=kunming,
        data=meeting_input(kunming, place="Kunming, Yunnan", ends_on=dt.date(2019, 11, 15)),
    )
    assert changed.place == "Kunming, Yunnan"
    event = audit(Action.UPDATE, kunming)
    assert sorted(event.fields) == ["ends_on", "place"]
    assert "Yunnan" not in str(event.details)

    # China paid the hotel: it must stay a Party of the meeting if Cambodia hosts instead.
    with pytest.raises(ValidationError) as exc:
        s.meeting_update(
            user=me_officer, meeting=kunming, data=meeting_input(changed, host_country="KH")
        )
    assert exc.value.message_dict["host_country"]
    # With a Chinese delegation, hosted by Cambodia: the hotel of the Cambodian delegation
    # is now its own, the flights still Cambodia's.
    s.delegation_add(user=me_officer, meeting=kunming, country="CN")
    s.meeting_update(
        user=me_officer,
        meeting=kunming,
        data=meeting_input(changed, host_country="KH", place="Siem Reap"),
    )
    allocation = selectors.meeting_allocation(selectors.access_meeting(me_officer, kunming.pk))
    decided = {r.line.id: r.decided_by for r in allocation.items}
    assert decided[str(hotel.pk)] == "R-1" and decided[str(flights.pk)] == "R-1"
    assert allocation.total.amount == Decimal("2631.43")


def test_a_change_that_recorded_costs_no_longer_fit_is_refused(kunming, me_officer, flights):
    add_cost(me_officer, kunming, "accommodation", "5400.00", "CNY", "CN", "KH")
    # The CNY hotel has a rate to USD only: reporting in KHR would leave it without one.
    with pytest.raises(ValidationError) as exc:
        s.meeting_update(
            user=me_officer, meeting=kunming, data=meeting_input(kunming, reporting_currency="KHR")
        )
    assert "reporting_currency" in exc.value.message_dict
    s.programme_item_add(
        user=me_officer, meeting=kunming, day=dt.date(2019, 11, 14), title="Closing"
    )
    with pytest.raises(ValidationError) as exc:
        s.meeting_update(
            user=me_officer,
            meeting=kunming,
            data=meeting_input(kunming, ends_on=dt.date(2019, 11, 13)),
        )
    assert "starts_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        s.meeting_update(
            user=me_officer, meeting=kunming, data=meeting_input(kunming, host_country="XX")
        )
    assert "host_country" in exc.value.message_dict
    kunming.refresh_from_db()
    assert (kunming.reporting_currency, kunming.ends_on) == ("USD", dt.date(2019, 11, 14))


def test_a_meeting_with_costs_is_cancelled_not_deleted(kunming, me_officer, flights):
    with pytest.raises(ValidationError):
        s.meeting_delete(user=me_officer, meeting=kunming)
    with pytest.raises(ValidationError) as exc:
        s.meeting_cancel(user=me_officer, meeting=kunming, reason="  ")
    assert "reason" in exc.value.message_dict
    s.meeting_cancel(user=me_officer, meeting=kunming, reason="Postponed by both Parties")
    kunming.refresh_from_db()
    assert kunming.is_cancelled and kunming.cancelled_by == me_officer
    assert audit(Action.UPDATE, kunming).details["cancelled"] is True
    # Kept with its costs, and no longer changed.
    assert CostItem.objects.filter(meeting=kunming).count() == 1
    with pytest.raises(ValidationError, match="cancelled"):
        add_cost(me_officer, kunming, "meals", "10.00", "USD", "CN", "")
    with pytest.raises(ValidationError, match="cancelled"):
        s.cost_item_delete(user=me_officer, item=flights)
    with pytest.raises(ValidationError, match="cancelled"):
        s.meeting_update(user=me_officer, meeting=kunming, data=meeting_input(kunming))


def test_a_meeting_recorded_by_mistake_is_deleted_with_its_delegations(kunming, me_officer, member):
    s.programme_item_add(
        user=me_officer, meeting=kunming, day=dt.date(2019, 11, 12), title="Opening"
    )
    delegation = kunming.delegations.get()
    s.meeting_delete(user=me_officer, meeting=kunming)
    assert not Meeting.objects.filter(pk=kunming.pk).exists()
    assert not DelegationMember.objects.filter(pk=member.pk).exists()
    for obj in (kunming, delegation, member):
        assert audit(Action.DELETE, obj) is not None
    assert audit(Action.DELETE, kunming).details["programme"] == 1


# --- Delegations and members ----------------------------------------------------------------


def test_a_delegation_others_costs_depend_on_cannot_be_removed(kunming, me_officer, member):
    flights = add_cost(me_officer, kunming, "international_travel", "1860.00", "USD", "KH", "KH")
    delegation = kunming.delegations.get(country="KH")
    with pytest.raises(ValidationError) as exc:
        s.delegation_delete(user=me_officer, delegation=delegation)
    assert "country" in exc.value.message_dict
    s.cost_item_delete(user=me_officer, item=flights)
    s.delegation_delete(user=me_officer, delegation=delegation)
    assert not Delegation.objects.filter(pk=delegation.pk).exists()
    assert audit(Action.DELETE, member).details == {"delegation": str(delegation.pk)}
    assert audit(Action.DELETE, delegation).details["country"] == "KH"


def test_a_member_is_changed_and_removed_without_contacts_in_the_audit(
    member, me_officer, caseworker_a
):
    changed = s.member_update(
        user=me_officer,
        member=member,
        data=s.MemberInput(
            name="Chan Vuthy", position="Director", role="head", contact="+855 99 999"
        ),
    )
    assert (changed.position, changed.role, changed.contact) == ("Director", "head", "+855 99 999")
    event = audit(Action.UPDATE, member)
    assert set(event.fields) == {"position", "role", "contact"}
    assert "+855" not in str(event.details) and "Director" not in str(event.details)
    with pytest.raises(ValidationError) as exc:
        s.member_update(user=me_officer, member=member, data=s.MemberInput(name=" "))
    assert "name" in exc.value.message_dict
    pk = member.pk
    s.member_delete(user=me_officer, member=member)
    assert not DelegationMember.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(action=Action.DELETE, object_id=str(pk))
    assert "Chan" not in str(event.details)


# --- Cost items ------------------------------------------------------------------------------


def test_a_cost_item_is_corrected_within_what_donors_covered(kunming, me_officer):
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
            meeting_id=kunming.pk,
        ),
    )
    s.coverage_record(
        user=me_officer,
        cost_item=interp,
        commitment_id=commitment.pk,
        amount="6300.00",
        rate=CNY_RATE,
    )

    def data(amount, currency="CNY", **kw):
        return s.CostItemInput(
            category="interpretation",
            amount=amount,
            currency=currency,
            incurred_by="CN",
            description="interpretation",
            rate=kw.pop("rate", CNY_RATE),
            **kw,
        )

    with pytest.raises(ValidationError) as exc:
        s.cost_item_update(user=me_officer, item=interp, data=data("6000.00"))
    assert "amount" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        s.cost_item_update(
            user=me_officer, item=interp, data=data("2000.00", "USD", rate=s.RateInput())
        )
    assert "currency" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # bad input as for a new item
        s.cost_item_update(user=me_officer, item=interp, data=data("-5", for_party="TH"))
    assert {"amount", "for_party"} <= set(exc.value.message_dict)

    s.cost_item_update(user=me_officer, item=interp, data=data("9800.00"))
    event = audit(Action.UPDATE, interp)
    assert event.fields == ["amount"]
    assert event.details["amount"] == "9800.00" and event.details["was"] == "9000.00 CNY"
    allocation = selectors.meeting_allocation(selectors.access_meeting(me_officer, kunming.pk))
    shares = {sh.bearer: sh.reporting.amount for sh in allocation.items[0].shares}
    assert shares == {f"donor:{donor.pk}": Decimal("900.00"), "CN": Decimal("500.00")}
    # Covered by a donor: corrected, not deleted.
    with pytest.raises(ValidationError):
        s.cost_item_delete(user=me_officer, item=interp)


def test_a_cost_item_recorded_by_mistake_is_deleted_and_the_audit_keeps_it(
    kunming, me_officer, flights
):
    s.cost_item_delete(user=me_officer, item=flights)
    assert not CostItem.objects.filter(pk=flights.pk).exists()
    details = audit(Action.DELETE, flights).details
    assert details["amount"] == "1860.00" and details["category"] == "international_travel"


# --- Attacks ---------------------------------------------------------------------------------


def test_other_agencies_and_the_other_country_cannot_change_through_the_services(
    kunming, flights, member, me_b, me_cn, supervisor_a
):
    delegation = kunming.delegations.get()
    for user in (me_b, me_cn, supervisor_a):
        attempts = [
            lambda u=user: s.meeting_update(user=u, meeting=kunming, data=meeting_input(kunming)),
            lambda u=user: s.meeting_cancel(user=u, meeting=kunming, reason="no"),
            lambda u=user: s.meeting_delete(user=u, meeting=kunming),
            lambda u=user: s.delegation_delete(user=u, delegation=delegation),
            lambda u=user: s.member_update(user=u, member=member, data=s.MemberInput(name="X")),
            lambda u=user: s.member_delete(user=u, member=member),
            lambda u=user: s.cost_item_delete(user=u, item=flights),
            lambda u=user: add_cost(u, kunming, "meals", "10.00", "USD", "CN", ""),
            lambda u=user: s.delegation_add(user=u, meeting=kunming, country="CN"),
        ]
        for attempt in attempts:
            with pytest.raises(NotFound):
                attempt()
        # They may still look: finance is the node's.
        if user is not supervisor_a:
            assert selectors.access_meeting(user, kunming.pk) == kunming
    assert Meeting.objects.get(pk=kunming.pk).cancelled_at is None
    assert DelegationMember.objects.filter(pk=member.pk).exists()


def _change_urls(kunming, flights, member):
    delegation = member.delegation
    return [
        ("get", f"/finance/meetings/{kunming.pk}/edit/", {}),
        ("post", f"/finance/meetings/{kunming.pk}/edit/", {"title": "x"}),
        ("post", f"/finance/meetings/{kunming.pk}/cancel/", {"reason": "x"}),
        ("post", f"/finance/meetings/{kunming.pk}/delete/", {"confirm": "on"}),
        ("post", f"/finance/delegations/{delegation.pk}/delete/", {"confirm": "on"}),
        ("get", f"/finance/members/{member.pk}/edit/", {}),
        ("post", f"/finance/members/{member.pk}/delete/", {"confirm": "on"}),
        ("get", f"/finance/costs/{flights.pk}/edit/", {}),
        ("post", f"/finance/costs/{flights.pk}/delete/", {"confirm": "on"}),
        ("put", f"/api/v1/finance/meetings/{kunming.pk}", {}),
        ("delete", f"/api/v1/finance/meetings/{kunming.pk}", {}),
        ("post", f"/api/v1/finance/meetings/{kunming.pk}/cancel", {"reason": "x"}),
        ("delete", f"/api/v1/finance/delegations/{delegation.pk}", {}),
        ("delete", f"/api/v1/finance/members/{member.pk}", {}),
        ("delete", f"/api/v1/finance/cost-items/{flights.pk}", {}),
    ]


def test_pages_and_api_answer_not_found_to_other_agencies_and_countries(
    client_of, kunming, flights, member, me_b, me_cn, supervisor_a
):
    from django.test import Client

    for user in (me_b, me_cn, supervisor_a):
        client = client_of(user)
        for method, url, payload in _change_urls(kunming, flights, member):
            kwargs = {"content_type": "application/json"} if "/api/" in url else {}
            response = getattr(client, method)(url, payload, **kwargs)
            assert response.status_code == 404, (user.username, method, url)
            missing = url.replace(str(kunming.pk), str(uuid.uuid4()))
            for pk in (flights.pk, member.pk, member.delegation_id):
                missing = missing.replace(str(pk), str(uuid.uuid4()))
            again = getattr(client, method)(missing, payload, **kwargs)
            assert again.status_code == 404  # the same answer as for a record that is not there
        denied = AuditEvent.objects.filter(action=Action.SECURITY, actor_id=user.pk)
        assert denied.filter(object_id=str(flights.pk)).exists()
    anonymous = Client()
    for method, url, payload in _change_urls(kunming, flights, member):
        response = getattr(anonymous, method)(url, payload)
        assert response.status_code in (302, 401, 403), (method, url)
        if response.status_code == 302:
            assert "sign-in" in response["Location"] or "login" in response["Location"]
    assert Meeting.objects.get(pk=kunming.pk).cancelled_at is None
    assert CostItem.objects.filter(pk=flights.pk).exists()
    assert DelegationMember.objects.filter(pk=member.pk).exists()


def test_the_recording_agency_changes_through_the_pages(
    client_of, kunming, flights, member, me_officer
):
    client = client_of(me_officer)
    page = client.get(f"/finance/meetings/{kunming.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    for url in (
        f"/finance/meetings/{kunming.pk}/edit/",
        f"/finance/costs/{flights.pk}/edit/",
        f"/finance/members/{member.pk}/edit/",
        f"/finance/costs/{flights.pk}/delete/",
    ):
        assert url in body
    edit = client.get(f"/finance/costs/{flights.pk}/edit/")
    assert edit.status_code == 200 and 'value="1860.00"' in edit.content.decode()
    posted = client.post(
        f"/finance/costs/{flights.pk}/edit/",
        {
            "category": "international_travel",
            "amount": "-1",
            "currency": "USD",
            "incurred_by": "KH",
            "for_party": "KH",
        },
    )
    assert posted.status_code == 400 and "amount" in posted.content.decode()
    posted = client.post(
        f"/finance/costs/{flights.pk}/edit/",
        {
            "category": "international_travel",
            "amount": "1900.00",
            "currency": "USD",
            "incurred_by": "KH",
            "for_party": "KH",
        },
    )
    assert posted.status_code == 302
    assert CostItem.objects.get(pk=flights.pk).amount == Decimal("1900.00")
    # The member's form shows the contact details to the editor: an audited view.
    client.get(f"/finance/members/{member.pk}/edit/")
    assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(member.pk)).exists()
    # A deletion must be confirmed.
    unconfirmed = client.post(f"/finance/costs/{flights.pk}/delete/", {})
    assert unconfirmed.status_code == 400 and CostItem.objects.filter(pk=flights.pk).exists()
    refused = client.post(f"/finance/meetings/{kunming.pk}/delete/", {"confirm": "on"})
    assert refused.status_code == 400 and "cancel it instead" in refused.content.decode()
    assert client.post(f"/finance/costs/{flights.pk}/delete/", {"confirm": "on"}).status_code == 302
    assert (
        client.post(f"/finance/members/{member.pk}/delete/", {"confirm": "on"}).status_code == 302
    )
    edited = client.post(
        f"/finance/meetings/{kunming.pk}/edit/",
        {**vars(meeting_input(kunming)), "place": "Dali"},
    )
    assert edited.status_code == 302 and Meeting.objects.get(pk=kunming.pk).place == "Dali"
    assert client.post(f"/finance/meetings/{kunming.pk}/cancel/", {"reason": ""}).status_code == 400
    assert (
        client.post(f"/finance/meetings/{kunming.pk}/cancel/", {"reason": "Postponed"}).status_code
        == 302
    )
    statement = client.get(f"/finance/meetings/{kunming.pk}/statement/KH/").content.decode()
    assert 'id="cancelled"' in statement and "កិច្ចប្រជុំត្រូវបានលុបចោល" in statement
    cancelled = client.get(f"/finance/meetings/{kunming.pk}/").content.decode()
    assert 'id="cancelled"' in cancelled and "/finance/costs/" not in cancelled


def test_the_recording_agency_changes_through_the_api(
    client_of, kunming, flights, member, me_officer
):
    client = client_of(me_officer)
    api = "/api/v1/finance"
    item = {
        "category": "international_travel",
        "amount": "1900.00",
        "currency": "USD",
        "incurred_by": "KH",
        "for_party": "KH",
    }
    put = client.put(f"{api}/cost-items/{flights.pk}", item, content_type="application/json")
    assert put.status_code == 200 and put.json()["amount"]["amount"] == "1900.00"
    bad = client.put(
        f"{api}/cost-items/{flights.pk}",
        {**item, "currency": "EUR"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "currency" in bad.json()["error"]["fields"]
    data = {k: str(v) for k, v in vars(meeting_input(kunming, place="Dali")).items()}
    put = client.put(f"{api}/meetings/{kunming.pk}", data, content_type="application/json")
    assert put.status_code == 200 and put.json()["place"] == "Dali"
    member_put = client.put(
        f"{api}/members/{member.pk}",
        {"name": "Chan Vuthy", "role": "head"},
        content_type="application/json",
    )
    assert member_put.status_code == 200 and member_put.json()["role"] == "head"
    assert "contact" not in member_put.json()
    added = client.post(
        f"{api}/delegations/{member.delegation_id}/members",
        {"name": "Sok Mean"},
        content_type="application/json",
    )
    assert added.status_code == 201
    assert client.delete(f"{api}/meetings/{kunming.pk}").status_code == 400
    assert client.delete(f"{api}/cost-items/{flights.pk}").status_code == 204
    assert client.delete(f"{api}/members/{member.pk}").status_code == 204
    assert client.delete(f"{api}/delegations/{member.delegation_id}").status_code == 204
    cancel = client.post(
        f"{api}/meetings/{kunming.pk}/cancel", {"reason": ""}, content_type="application/json"
    )
    assert cancel.status_code == 400
    cancel = client.post(
        f"{api}/meetings/{kunming.pk}/cancel",
        {"reason": "Postponed"},
        content_type="application/json",
    )
    assert cancel.status_code == 200 and cancel.json()["cancelled_at"]
    refused = client.put(f"{api}/meetings/{kunming.pk}", data, content_type="application/json")
    assert refused.status_code == 400  # a cancelled meeting is no longer changed
    assert client.delete(f"{api}/meetings/{kunming.pk}").status_code == 204
    assert not Meeting.objects.filter(pk=kunming.pk).exists()
