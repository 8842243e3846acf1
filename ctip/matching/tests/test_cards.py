"""Home-page card of matching: the open candidates the user may review, for her only."""

from __future__ import annotations

import pytest

from ctip.matching.tests.test_node import trio  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

REVIEW = "possible duplicate records to review"


def _cards(client_of, user) -> dict:
    page = client_of(user).get("/")
    assert page.status_code == 200
    return {str(card.label): card for card in page.context["cards"]}


def test_open_candidates_are_a_card_for_those_who_see_both_records(
    trio,  # noqa: F811 - fixture
    client_of,
    caseworker_a,
    caseworker_b,
):
    card = _cards(client_of, caseworker_a)[REVIEW]
    assert card.count == 3 and card.url == "/matching/"
    assert REVIEW not in _cards(client_of, caseworker_b)  # another agency's caseworker
