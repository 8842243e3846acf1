"""The home page leads the supervisor to the monitoring dashboard; a caseworker gets no
monitoring card."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _cards(client_of, user) -> dict:
    page = client_of(user).get("/")
    assert page.status_code == 200
    return {str(card.label): card for card in page.context["cards"]}


def test_dashboard_card_for_those_who_may_see_it(client_of, supervisor_a, caseworker_a):
    card = _cards(client_of, supervisor_a)["Indicators and statistics"]
    assert card.url == "/monitoring/" and card.count is None
    assert "Indicators and statistics" not in _cards(client_of, caseworker_a)
