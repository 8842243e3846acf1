"""Indicators of law-enforcement cooperation on data with known answers, and their page and
API (aggregates only, also for M&E; nobody else)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ctip.cases.tests.conftest import api_for
from ctip.enforcement import indicators, services
from ctip.enforcement.models import InfoRequest
from ctip.testing.personas import verified_client

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _request(police, le_case, counterpart, *, sent_days_ago: int, answered_after: float | None):
    req = services.request_send(
        user=police,
        le_case=le_case,
        data=services.RequestInput(
            counterpart=counterpart,
            asked="Records (test)",
            legal_basis="interpol",
            deadline=TODAY + dt.timedelta(days=5),
        ),
    )
    sent = timezone.now() - dt.timedelta(days=sent_days_ago)
    changes = {"sent_at": sent}
    if answered_after is not None:
        changes.update(
            status="answered",
            outcome="provided",
            answered_at=sent + dt.timedelta(days=answered_after),
        )
    InfoRequest.objects.filter(pk=req.pk).update(**changes)
    return req


@pytest.fixture
def history(cn_peer, police, own_member, cn_member, le_case):
    """Four requests: answered after 2, 4 and 10 days, one open; a held meeting on a second
    case with both members; a cancelled one that does not count."""
    for days, after in ((30, 2.0), (25, 4.0), (20, 10.0), (3, None)):
        _request(police, le_case, cn_member, sent_days_ago=days, answered_after=after)
    other = services.le_case_open(user=police, data=services.LeCaseInput(offences=("other",)))
    untouched = services.le_case_open(user=police, data=services.LeCaseInput(offences=("other",)))
    meeting = services.meeting_schedule(
        user=police,
        data=services.MeetingInput(
            title="m",
            host_country="KH",
            place="p",
            starts_on=TODAY - dt.timedelta(days=10),
            ends_on=TODAY - dt.timedelta(days=10),
            second_language="km",
            le_cases=(other,),
        ),
    )
    for member in (own_member, cn_member):
        services.participant_add(
            user=police, meeting=meeting, data=services.ParticipantInput("KH", member=member)
        )
    services.meeting_record_minutes(
        user=police, meeting=meeting, minutes_en="m", minutes_second="m"
    )
    cancelled = services.meeting_schedule(
        user=police,
        data=services.MeetingInput(
            title="c",
            host_country="CN",
            place="p",
            starts_on=TODAY + dt.timedelta(days=3),
            ends_on=TODAY + dt.timedelta(days=3),
            second_language="zh-hans",
            le_cases=(untouched,),
        ),
    )
    services.meeting_cancel(user=police, meeting=cancelled)
    return le_case


def test_the_indicators_on_known_data(history):
    s = indicators.summary()
    assert (s.requests_sent, s.requests_answered) == (4, 3)
    assert s.median_days_to_answer == 4.0
    assert (s.requests_received, s.median_days_we_answer) == (0, None)
    assert s.meetings_held == 1
    assert s.cases_addressed == 2  # the answered requests' case and the meeting's case
    assert s.focal_officers_active == 1  # only this country's members count
    # A period: the last two weeks hold one request sent (open) and the meeting.
    recent = indicators.summary(start=TODAY - dt.timedelta(days=14), end=TODAY)
    assert (recent.requests_sent, recent.requests_answered) == (1, 0)
    assert recent.median_days_to_answer == 10.0  # answered in the period (sent before it)
    assert recent.meetings_held == 1 and recent.cases_addressed == 2


def test_indicator_page_and_api_for_police_and_me_only(history, police, me_officer, caseworker_a):
    for user in (police, me_officer):
        page = verified_client(user).get("/enforcement/indicators/")
        assert page.status_code == 200
        assert 'data-indicator="requests_sent">4<' in page.content.decode()
        data = api_for(user).get("/api/v1/enforcement/indicators").json()
        assert data["requests_answered"] == 3 and data["median_days_to_answer"] == 4.0
        assert "Records" not in page.content.decode()
    assert verified_client(caseworker_a).get("/enforcement/indicators/").status_code == 404
    assert api_for(caseworker_a).get("/api/v1/enforcement/indicators").status_code == 404
    response = api_for(police).get("/api/v1/enforcement/indicators?start=2026-13-01")
    assert response.status_code == 400
