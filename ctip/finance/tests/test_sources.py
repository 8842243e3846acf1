"""Finance meetings taken from a joint training and from a law-enforcement meeting, without
retyping: what is taken, what is not (trainees' names), taking twice, and who may."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ctip.accounts.permissions import NotFound
from ctip.enforcement import services as enforcement
from ctip.enforcement.tests.conftest import (  # noqa: F401 - fixtures
    cn_member,
    cn_peer,
    own_member,
    police,
    police_agency,
)
from ctip.finance import services as s
from ctip.finance import sources
from ctip.finance.models import Meeting
from ctip.training.tests.conftest import make_training, register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def training(me_officer):
    training = make_training(me_officer, host_country="CN", place="Nanning")
    register(me_officer, training, "Wang Li")  # a Chinese trainee, named in training only
    return training


@pytest.fixture
def le_meeting(cn_peer, police, own_member, cn_member):  # noqa: F811
    meeting = enforcement.meeting_schedule(
        user=police,
        data=enforcement.MeetingInput(
            title="Case investigation meeting (test)",
            host_country="CN",
            place="Kunming",
            starts_on=TODAY - dt.timedelta(days=2),
            ends_on=TODAY - dt.timedelta(days=1),
            second_language="zh-hans",
            agenda="1. Facts.",
        ),
    )
    for member, role in ((own_member, "head"), (cn_member, "member")):
        enforcement.participant_add(
            user=police,
            meeting=meeting,
            data=enforcement.ParticipantInput(country="KH", member=member, role=role),
        )
    return meeting


def test_a_training_becomes_a_finance_meeting(training, me_officer, client_of):
    offered = {(m.source_type, m.source_id) for m in sources.available(me_officer)}
    assert ("training", str(training.pk)) in offered
    meeting = s.meeting_from_source(
        user=me_officer, source_type="training", source_id=str(training.pk)
    )
    assert (meeting.kind, meeting.host_country, meeting.place) == ("training", "CN", "Nanning")
    assert (meeting.starts_on, meeting.ends_on) == (training.start_date, training.end_date)
    assert (meeting.source_type, meeting.source_id) == ("training", str(training.pk))
    assert sorted(d.country for d in meeting.delegations.all()) == ["CN"]
    assert not any(d.members.exists() for d in meeting.delegations.all())  # no trainees' names
    assert [p.title for p in meeting.programme.all()] == ["Day 1", "Day 2"]
    with pytest.raises(ValidationError):  # taken once
        s.meeting_from_source(user=me_officer, source_type="training", source_id=str(training.pk))
    page = client_of(me_officer).get("/finance/meetings/from/").content.decode()
    assert f"/finance/meetings/{meeting.pk}/" in page  # shown as already recorded
    assert (
        "Wang Li"
        not in client_of(me_officer).get(f"/finance/meetings/{meeting.pk}/").content.decode()
    )


def test_a_law_enforcement_meeting_becomes_a_finance_meeting_with_its_officials(
    le_meeting,
    me_officer,
    police,  # noqa: F811
    client_of,
):
    client = client_of(me_officer)
    listed = client.get("/api/v1/finance/meeting-sources").json()
    row = next(r for r in listed if r["source_type"] == "enforcement")
    assert row["parties"] == ["KH", "CN"] and row["meeting"] is None
    created = client.post(
        "/api/v1/finance/meetings/from-source",
        {
            "source_type": "enforcement",
            "source_id": str(le_meeting.pk),
            "reporting_currency": "CNY",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    meeting = Meeting.objects.get(pk=created.json()["id"])
    assert (meeting.kind, meeting.host_country, meeting.reporting_currency) == (
        "meeting",
        "CN",
        "CNY",
    )
    members = {
        d.country: sorted((m.display_name, m.role) for m in d.members.all())
        for d in meeting.delegations.all()
    }
    assert members == {
        "KH": [("Officer A (test)", "head")],
        "CN": [("Officer CN (test)", "member")],
    }
    assert meeting.delegations.get(country="KH").members.get().user_id == police.pk
    again = client.post(
        "/api/v1/finance/meetings/from-source",
        {"source_type": "enforcement", "source_id": str(le_meeting.pk)},
        content_type="application/json",
    )
    assert again.status_code == 400


def test_only_finance_editors_take_meetings_and_unknown_sources_are_not_found(
    training, me_officer, supervisor_a, client_of
):
    with pytest.raises(NotFound):
        s.meeting_from_source(user=supervisor_a, source_type="training", source_id=str(training.pk))
    with pytest.raises(NotFound):
        s.meeting_from_source(user=me_officer, source_type="training", source_id="nope")
    with pytest.raises(NotFound):
        s.meeting_from_source(user=me_officer, source_type="colour", source_id=str(training.pk))
    assert client_of(supervisor_a).get("/finance/meetings/from/").status_code == 404
    assert client_of(supervisor_a).get("/api/v1/finance/meeting-sources").status_code == 404
    response = client_of(me_officer).post(
        "/finance/meetings/from/",
        {"source_type": "training", "source_id": str(training.pk), "reporting_currency": "USD"},
    )
    assert (
        response.status_code == 302 and Meeting.objects.filter(source_id=str(training.pk)).exists()
    )
