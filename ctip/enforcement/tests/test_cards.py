"""Home-page cards of law enforcement: police see their late requests; social workers see
no law-enforcement card at all."""

from __future__ import annotations

import datetime as dt

from ctip.enforcement import services
from ctip.enforcement.models import InfoRequest
from ctip.enforcement.tests.test_rules import TODAY, ask

LATE = "case-information requests past their deadline"


def _cards(client_of, user) -> dict:
    page = client_of(user).get("/")
    assert page.status_code == 200
    return {str(card.label): card for card in page.context["cards"]}


def test_a_late_request_is_an_urgent_card_for_police_only(
    client_of, cn_peer, police, police_b, cn_member, le_case, caseworker_p
):
    req = services.request_send(user=police, le_case=le_case, data=ask(cn_member))
    assert LATE not in _cards(client_of, police)
    InfoRequest.objects.filter(pk=req.pk).update(deadline=TODAY - dt.timedelta(days=1))
    late = _cards(client_of, police)[LATE]
    assert late.count == 1 and late.urgent and late.url.endswith("?overdue=1")
    assert LATE not in _cards(client_of, police_b)  # another agency's police
    assert not any("request" in label for label in _cards(client_of, caseworker_p))
