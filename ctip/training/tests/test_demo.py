"""The training demo: idempotent, and it tells the story the issue asks for."""

from __future__ import annotations

import pytest
from django.apps import apps

from ctip.core.demo import load_demo as load_core_demo
from ctip.training import indicators
from ctip.training.demo import load_demo
from ctip.training.models import (
    Certificate,
    ManualStatus,
    ManualVersion,
    Participant,
    Training,
    TrainingStatus,
)

pytestmark = pytest.mark.django_db
NOTHING = {"manuals": 0, "trainings": 0, "participants": 0, "certificates": 0}


def test_demo_is_idempotent_and_has_both_countries():
    load_core_demo("KH")  # runs this app's demo too
    assert load_demo("KH") == NOTHING
    assert Training.objects.count() == 2

    joint = Training.objects.get(status=TrainingStatus.HELD)
    assert joint.place == "Phnom Penh" and joint.type == "id_form_sop"
    countries = set(joint.participants.values_list("country", flat=True))
    assert countries == {"KH", "CN"}
    users = set(joint.participants.exclude(user=None).values_list("user__username", flat=True))
    assert users == {"kh_caseworker", "kh_police_focal", "kh_consular_focal"}
    externals = Participant.objects.filter(training=joint, user=None)
    assert externals.count() == 3 and set(externals.values_list("country", flat=True)) == {"CN"}
    # The one who missed two of three sessions got no certificate.
    assert Certificate.objects.filter(participant__training=joint).count() == 5
    assert ManualVersion.objects.get().status == ManualStatus.PUBLISHED
    assert joint.sessions.filter(chapter__form_version="2026.1").exists()

    by_country = {r.key: r.count for r in indicators.officials_trained(by="country")}
    assert by_country == {"KH": 3, "CN": 2}
    # The demo's cases assigned to the certified officials count as handled by trained ones.
    Case = apps.get_model("cases", "Case")
    expected = Case.objects.filter(assigned_to__username__in=users).count()
    share = indicators.cases_handled_by_trained()
    assert share.available and share.by_trained == expected
    assert share.total == Case.objects.exclude(assigned_to=None).count()


def test_demo_without_core_users_creates_nothing_that_needs_them():
    assert load_demo("KH") == NOTHING
    assert not Training.objects.exists()


def test_demo_of_the_china_node(settings):
    settings.CTIP_NODE = "CN"
    load_core_demo("CN")
    joint = Training.objects.get(status=TrainingStatus.HELD)
    assert joint.host_country == "CN" and joint.type == "law_enforcement"
    assert set(joint.participants.values_list("country", flat=True)) == {"KH", "CN"}
    assert Certificate.objects.count() == 3
    assert load_demo("CN") == NOTHING
