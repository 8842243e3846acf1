"""The home page's cards of the cases area: counts of what the user may see, no names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ctip.cases.models import Case

pytestmark = pytest.mark.django_db


def _cards(client) -> dict[str, str]:
    page = client.get("/")
    assert page.status_code == 200
    return {str(card.label): card for card in page.context["cards"]}


def test_assigned_and_overdue_cases_are_counted_for_their_agency_only(
    client_of, caseworker_a, caseworker_b, case_a
):
    Case.objects.filter(pk=case_a.pk).update(stage_due_at=timezone.now() - timedelta(days=2))
    mine = _cards(client_of(caseworker_a))
    assert mine["persons you may see"].count == 1
    assert mine["open cases assigned to you"].count == 1  # she opened it: it is hers
    overdue = mine["cases past their SOP deadline"]
    assert overdue.count == 1 and overdue.urgent
    assert list(mine).index("cases past their SOP deadline") == 0  # urgent cards come first
    page = client_of(caseworker_a).get("/").content.decode()
    assert "Canarysokha" not in page  # counts and links only

    theirs = _cards(client_of(caseworker_b))
    assert theirs["persons you may see"].count == 0
    assert theirs["open cases assigned to you"].count == 0
    assert "cases past their SOP deadline" not in theirs


def test_a_role_without_cases_gets_no_case_cards(client_of, node_admin, case_a):
    cards = _cards(client_of(node_admin))
    assert "open cases assigned to you" not in cards
    assert "persons you may see" not in cards
