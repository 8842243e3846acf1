"""Who sees what, through the pages and the API: social workers (caseworker, supervisor,
shelter staff) never see suspects or any law-enforcement record; police focal officers
never see a sealed victim case (the cases app's rules decide); police of another agency do
not see a case; bad input is refused with a clear error."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ctip.audit.models import AuditEvent
from ctip.cases.services import case_set_sealed
from ctip.cases.tests.conftest import api_for
from ctip.enforcement import services
from ctip.enforcement.models import InfoRequest, VictimLink
from ctip.testing.personas import verified_client

pytestmark = pytest.mark.django_db

SUSPECT = "Canarysuspect Qorvath"


@pytest.fixture
def with_suspect(police, le_case):
    services.suspect_add(
        user=police,
        le_case=le_case,
        data=services.SuspectInput(name=SUSPECT, role="recruiter", nationality="KH"),
    )
    return le_case


def test_social_workers_cannot_see_suspects_in_pages_or_api(
    police, with_suspect, caseworker_p, supervisor_p, shelter_p, me_officer
):
    le_case = with_suspect
    page = f"/enforcement/cases/{le_case.pk}/"
    api = f"/api/v1/enforcement/cases/{le_case.pk}"
    # The police focal officer of the case's agency sees the suspect.
    response = verified_client(police).get(page)
    assert response.status_code == 200 and SUSPECT in response.content.decode()
    answer = api_for(police).get(api)
    assert answer.status_code == 200 and answer.json()["suspects"][0]["name"] == SUSPECT
    assert AuditEvent.objects.filter(action="view", object_type="enforcement.suspect").exists()

    # Social workers of the same agency, and M&E, are told "not found", everywhere.
    for user in (caseworker_p, supervisor_p, shelter_p, me_officer):
        client, token_client = verified_client(user), api_for(user)
        for url in (page, "/enforcement/cases/", "/enforcement/", "/enforcement/requests/"):
            response = client.get(url)
            assert response.status_code == 404, (user.username, url)
            assert SUSPECT not in response.content.decode()
        for url in (api, "/api/v1/enforcement/cases", "/api/v1/enforcement/requests"):
            response = token_client.get(url)
            assert response.status_code == 404, (user.username, url)
            assert SUSPECT not in response.content.decode()
        response = token_client.post(
            f"{api}/suspects", {"name": "x", "role": "broker"}, format="json"
        )
        assert response.status_code == 404
    denied = AuditEvent.objects.filter(details__event="access_denied", actor_id=caseworker_p.pk)
    assert denied.exists()


def test_police_of_another_agency_do_not_see_the_case(police_b, with_suspect):
    le_case = with_suspect
    assert verified_client(police_b).get(f"/enforcement/cases/{le_case.pk}/").status_code == 404
    response = api_for(police_b).get(f"/api/v1/enforcement/cases/{le_case.pk}")
    assert response.status_code == 404 and SUSPECT not in response.content.decode()
    listed = api_for(police_b).get("/api/v1/enforcement/cases").json()
    assert listed["results"] == []


def test_police_cannot_see_or_link_a_sealed_victim_case(police, le_case, victim_case, supervisor_p):
    reference = victim_case.reference
    # While it is not sealed, the police of the owning agency may link it (reference only).
    response = api_for(police).post(
        f"/api/v1/enforcement/cases/{le_case.pk}/victims",
        {"role": "victim", "case_reference": reference},
        format="json",
    )
    assert response.status_code == 201 and response.json()["case_reference"] == reference
    page = verified_client(police).get(f"/enforcement/cases/{le_case.pk}/").content.decode()
    assert reference in page and f"/persons/cases/{victim_case.pk}/" in page
    assert "Victim Test" not in page  # nothing of the victim case is shown or copied here

    case_set_sealed(user=supervisor_p, case=victim_case, sealed=True, reason="child witness")
    # The link stays, but the sealed case is neither shown nor opened.
    detail = api_for(police).get(f"/api/v1/enforcement/cases/{le_case.pk}").json()
    assert detail["victims"] == [
        {"label": "V1", "role": "victim", "linked": True, "case_reference": None}
    ]
    page = verified_client(police).get(f"/enforcement/cases/{le_case.pk}/").content.decode()
    assert reference not in page and "data-hidden-case" in page
    assert verified_client(police).get(f"/persons/cases/{victim_case.pk}/").status_code == 404
    # A sealed case cannot be linked again, through the page or the API, and the refusal
    # reads the same as for a reference that does not exist.
    other = services.le_case_open(
        user=police, data=services.LeCaseInput(offences=("child_trafficking",))
    )
    for ref in (reference, "NO-SUCH-REF"):
        response = api_for(police).post(
            f"/api/v1/enforcement/cases/{other.pk}/victims",
            {"role": "witness", "case_reference": ref},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["case_reference"] == [
            "No victim case with this reference you may open."
        ]
    response = verified_client(police).post(
        f"/enforcement/cases/{other.pk}/victims/", {"role": "witness", "case_reference": reference}
    )
    assert response.status_code == 400
    assert "No victim case with this reference you may open." in response.content.decode()
    assert not VictimLink.objects.filter(le_case=other).exists()


def test_bad_requests_are_refused_with_a_clear_error_in_api_and_page(
    cn_peer, police, own_member, cn_member, le_case
):
    url = f"/api/v1/enforcement/cases/{le_case.pk}/requests"
    deadline = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    base = {"counterpart": str(cn_member.pk), "asked": "Bank records", "deadline": deadline}
    client = api_for(police)
    response = client.post(url, base, format="json")  # no legal basis
    assert response.status_code == 400
    assert "legal basis" in response.json()["error"]["fields"]["legal_basis"][0]
    response = client.post(
        url, {**base, "legal_basis": "interpol", "counterpart": str(own_member.pk)}, format="json"
    )
    assert response.status_code == 400
    assert "Unknown counterpart" in response.json()["error"]["fields"]["counterpart"][0]
    assert not InfoRequest.objects.exists()

    page = f"/enforcement/cases/{le_case.pk}/requests/"
    browser = verified_client(police)
    form = {**base, "urgency": "routine"}
    response = browser.post(page, form)
    assert response.status_code == 400 and "legal basis" in response.content.decode()
    response = browser.post(page, {**form, "legal_basis": "interpol", "counterpart": "x"})
    assert response.status_code == 400 and "Unknown counterpart" in response.content.decode()
    assert not InfoRequest.objects.exists()

    response = client.post(url, {**base, "legal_basis": "interpol"}, format="json")
    assert response.status_code == 201, response.content
    sent = response.json()
    assert sent["status"] == "sent" and sent["history"][0]["kind"] == "sent"
    assert sent["delivery"]["status"] == "pending" and sent["answer_delivery"] is None
    response = browser.post(page, {**form, "legal_basis": "interpol"})
    assert response.status_code == 302
    req = InfoRequest.objects.latest("sent_at")
    assert InfoRequest.objects.count() == 2
    # The page of a request that was sent (not received) offers no answer, and the API
    # refuses one.
    assert "Send the answer" not in browser.get(f"/enforcement/requests/{req.pk}/").content.decode()
    response = client.post(
        f"/api/v1/enforcement/requests/{req.pk}/answer",
        {"outcome": "provided", "answer": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "not received" in response.json()["error"]["fields"]["non_field_errors"][0]


def test_a_meeting_page_links_only_the_cases_the_user_may_open(police, police_b, le_case):
    meeting = services.meeting_schedule(
        user=police,
        data=services.MeetingInput(
            title="Case meeting (test)",
            host_country="KH",
            place="Phnom Penh",
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate(),
            second_language="km",
            le_cases=(le_case,),
            case_references=("LE-CN-2026-0042",),
        ),
    )
    own = verified_client(police).get(f"/enforcement/meetings/{meeting.pk}/").content.decode()
    assert own.count(le_case.reference) == 1 and f"/enforcement/cases/{le_case.pk}/" in own
    assert "LE-CN-2026-0042" in own
    other = verified_client(police_b).get(f"/enforcement/meetings/{meeting.pk}/").content.decode()
    assert le_case.reference not in other and "LE-CN-2026-0042" in other
