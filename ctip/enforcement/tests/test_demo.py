"""The enforcement demo: idempotent on both nodes, and it tells the issue's story."""

from __future__ import annotations

import pytest

from ctip.core.demo import load_demo as load_core_demo
from ctip.enforcement import indicators, selectors
from ctip.enforcement.demo import load_demo
from ctip.enforcement.models import LeCase, Meeting, SopVersion, TaskforceMember

pytestmark = pytest.mark.django_db
NOTHING = {"members": 0, "cases": 0, "meetings": 0, "sop": 0}


@pytest.mark.parametrize("node", ["KH", "CN"])
def test_demo_is_idempotent_on_both_nodes(settings, node):
    settings.CTIP_NODE = node
    load_core_demo(node)  # runs this app's demo too
    assert load_demo(node) == NOTHING
    member = TaskforceMember.objects.get(user__username=f"{node.lower()}_police_focal")
    assert member.country == node and member.taskforce_role == "focal_officer"
    le_case = LeCase.objects.get()
    assert le_case.suspects.count() >= 1 and le_case.victims.count() == 3
    assert le_case.testimonies.get().hearing_mode == "in_camera"
    held = Meeting.objects.get(status="held")
    assert {p.country for p in held.participants.all()} == {"KH", "CN"}
    assert held.minutes_en and held.minutes_second and held.decisions.count() == 2
    assert held.action_items.filter(done_on__isnull=False).count() == 1
    assert Meeting.objects.get(status="scheduled").host_country != node
    assert SopVersion.objects.filter(status="drafted").count() == (1 if node == "KH" else 0)
    summary = indicators.summary()
    assert summary.meetings_held == 1 and summary.cases_addressed == 1
    assert summary.focal_officers_active == 1
    rows = selectors.meetings_for_cost_sharing(user=None)
    assert {r.host_country for r in rows} == {"KH", "CN"}


def test_demo_without_core_users_creates_nothing():
    assert load_demo("KH") == NOTHING
    assert not TaskforceMember.objects.exists()
