"""Trainings to test with, built through the services (like the pages would)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from ctip.training import services
from ctip.training.models import Training, TrainingStatus


def make_training(user, *, days_ago: int = 10, sessions: int = 2, **overrides):
    start = timezone.localdate() - dt.timedelta(days=days_ago)
    data = {
        "title": "Joint training on the identification form",
        "type": "id_form_sop",
        "host_country": "KH",
        "place": "Phnom Penh",
        "start_date": start,
        "end_date": start + dt.timedelta(days=max(sessions - 1, 0)),
        "min_attendance_percent": 80,
        "pass_mark": Decimal("60"),
        **overrides,
    }
    training = services.training_create(user=user, data=services.TrainingInput(**data))
    for i in range(sessions):
        services.session_add(
            user=user,
            training=training,
            data=services.SessionInput(date=start + dt.timedelta(days=i), title=f"Day {i + 1}"),
        )
    return training


def register(manager, training, name="Sok Dara", **kwargs):
    data = {"full_name": name, **kwargs}
    if "user" not in data and "agency_name" not in data:
        data.update(agency_name="Guangxi Relief Station", country="CN")
    return services.participant_register(
        user=manager, training=training, data=services.ParticipantInput(**data)
    )


def attend_all(manager, training, participants):
    for session in training.sessions.all():
        services.attendance_record(
            user=manager, session=session, present={p.pk for p in participants}
        )


def hold(manager, training):
    return services.training_set_status(user=manager, training=training, status=TrainingStatus.HELD)


def certify(manager, training, participant, post="80"):
    """Everything a participant needs for a certificate, then the certificate."""
    services.participant_set_scores(
        user=manager, participant=participant, pre_score=Decimal("50"), post_score=Decimal(post)
    )
    for session in training.sessions.all():
        present = set(
            session.attendance.filter(present=True).values_list("participant_id", flat=True)
        )
        services.attendance_record(
            user=manager, session=session, present=present | {participant.pk}
        )
    if not Training.objects.filter(pk=training.pk, status=TrainingStatus.HELD).exists():
        hold(manager, training)
    return services.certificate_issue(user=manager, participant=participant)


@pytest.fixture
def training(supervisor_a):
    return make_training(supervisor_a)
