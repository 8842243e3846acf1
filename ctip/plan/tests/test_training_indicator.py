"""The plan's "officials trained" indicator is the training app's own count (certified and
still valid), not a count of everyone registered for a training."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ctip.plan import indicators
from ctip.training import indicators as training_indicators
from ctip.training.tests.conftest import certify, make_training, register

pytestmark = pytest.mark.django_db


def test_officials_trained_counts_certified_officials_through_the_training_app(
    supervisor_a, caseworker_a, colleague_a, settings
):
    training = make_training(supervisor_a)
    certify(supervisor_a, training, register(supervisor_a, training, "Sok Dara", user=caseworker_a))
    # Registered and attending, never certified: not trained.
    register(supervisor_a, training, "Keo Sophal", user=colleague_a)
    # Certified, but of the other country: counted by the other node.
    certify(supervisor_a, training, register(supervisor_a, training, "Wang Li"))

    today = timezone.localdate()
    start = today - dt.timedelta(days=365)
    measure = indicators.compute(
        "training.officials_trained", country=settings.CTIP_NODE, start=start, end=today
    )
    assert measure.available
    assert measure.value == 1
    assert measure.value == training_indicators.officials_trained_total(
        country=settings.CTIP_NODE, since=start, as_of=today
    )
    # Certified after the period's end: not in it.
    before = today - dt.timedelta(days=30)
    earlier = indicators.compute(
        "training.officials_trained", country=settings.CTIP_NODE, start=start, end=before
    )
    assert earlier.value == 0
