"""DP-5 / SECURITY.md #28: a sealed person is never offered by matching. Each test puts a
sealed record next to an unsealed twin that matches the same way, so the matching is shown
to work and only sealing keeps the sealed one out: candidates for a new person, the nightly
sweep, the review queue of candidates found before the sealing, and the answer to the
other country's match query."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from ctip.cases.services import PersonInput, person_create, person_set_sealed
from ctip.exchange.models import OutboxMessage
from ctip.exchange.registry import IncomingMessage
from ctip.matching import selectors, services, xborder
from ctip.matching.models import MatchCandidate, MatchHandle, MatchKey
from ctip.testing.peers import pin_offline_peer, received_from_peer

pytestmark = pytest.mark.django_db

PASSPORT = {
    "name_latin": "CHAN SOKHA",
    "sex": "female",
    "birth_year": 2001,
    "birth_month": 3,
    "birth_day": 14,
    "nationality": "KH",
}
INTAKE = {"name_latin": "Sokhar Chan", "sex": "female", "birth_year": 2001, "nationality": "KH"}
OTHER = {"name_latin": "LONG SREYMOM", "sex": "female", "birth_year": 1990}


def new_person(user, data) -> object:
    return person_create(user=user, data=PersonInput(**data))


def seal(supervisor, person):
    return person_set_sealed(
        user=supervisor, person=person, sealed=True, reason="child witness in a prosecution"
    )


def involved(person) -> set[str]:
    """Ids of the persons paired with ``person`` in any candidate."""
    pairs = MatchCandidate.objects.filter(left=person) | MatchCandidate.objects.filter(right=person)
    return {str(c.left_id) for c in pairs} | {str(c.right_id) for c in pairs}


def test_a_new_person_is_never_offered_a_sealed_duplicate(caseworker_a, supervisor_a):
    sealed = seal(supervisor_a, new_person(caseworker_a, PASSPORT))
    twin = new_person(caseworker_a, {**PASSPORT, "birth_day": 15})
    new_person(caseworker_a, OTHER)
    intake = new_person(caseworker_a, INTAKE)
    offered = services.candidates_for_person(person_id=intake.pk)
    paired = {str(c.left_id) for c in offered} | {str(c.right_id) for c in offered}
    assert str(twin.pk) in paired  # the unsealed twin is found: matching works here
    assert str(sealed.pk) not in paired
    assert not involved(sealed)
    # Asking for the sealed person itself offers nothing either.
    assert services.candidates_for_person(person_id=sealed.pk) == []
    assert not involved(sealed)


def test_the_nightly_sweep_leaves_sealed_persons_out(caseworker_a, supervisor_a):
    sealed = seal(supervisor_a, new_person(caseworker_a, PASSPORT))
    twin = new_person(caseworker_a, {**PASSPORT, "birth_day": 15})
    intake = new_person(caseworker_a, INTAKE)
    new_person(caseworker_a, OTHER)
    assert not MatchCandidate.objects.exists()  # nothing offered before the sweep
    report = services.matching_sweep()
    assert report["records"] == 3  # the sealed record is not even read
    assert report["candidates"] >= 1
    assert str(intake.pk) in involved(twin)
    assert not involved(sealed)


def test_candidates_found_before_sealing_leave_the_review_queue(
    caseworker_a, colleague_a, supervisor_a
):
    first = new_person(caseworker_a, PASSPORT)
    second = new_person(caseworker_a, INTAKE)
    services.candidates_for_person(person_id=second.pk)
    candidate = MatchCandidate.objects.get()
    assert candidate in selectors.candidate_list(user=colleague_a)
    assert first.reference in _queue_page(colleague_a)
    seal(supervisor_a, first)
    for user in (caseworker_a, colleague_a):
        assert candidate not in selectors.candidate_list(user=user)
        with pytest.raises(services.permissions.NotFound):
            selectors.access_candidate(user, candidate.pk)
        page = _queue_page(user)
        assert str(first.pk) not in page and first.reference not in page


def _queue_page(user) -> str:
    from ctip.testing.personas import verified_client

    response = verified_client(user).get("/matching/")
    assert response.status_code == 200
    return response.content.decode()


# --- the answer to the other country's query ---------------------------------------------


@pytest.fixture
def cn_peer(db):
    return pin_offline_peer("CN")


def from_cn(peer, msg_type: str, body: dict) -> IncomingMessage:
    return received_from_peer(peer, msg_type, body)


def test_the_answer_to_a_cross_border_query_never_holds_a_sealed_person(
    cn_peer, caseworker_a, supervisor_a
):
    # CN agreed a key with this node and asks about a woman who is here twice: once sealed.
    key_id = "CNKH-" + secrets.token_hex(8)
    xborder.handle_key(
        from_cn(
            cn_peer,
            xborder.KEY_TYPE,
            {
                "key_id": key_id,
                "secret": base64.b64encode(secrets.token_bytes(32)).decode(),
                "not_after": (timezone.now() + timedelta(days=7)).isoformat(),
            },
        )
    )
    key = MatchKey.objects.get(key_id=key_id)
    sealed = new_person(caseworker_a, PASSPORT)
    twin = new_person(caseworker_a, PASSPORT)
    new_person(caseworker_a, OTHER)
    asked = xborder._encoding(key, sealed)  # exactly the sealed record's encoding
    seal(supervisor_a, sealed)

    query_id = "q" + secrets.token_hex(8)
    xborder.handle_query(
        from_cn(
            cn_peer,
            xborder.QUERY_TYPE,
            {"query_id": query_id, "key_id": key_id, "encoding": asked.to_json()},
        )
    )
    answer = json.loads(OutboxMessage.objects.get(msg_type=xborder.ANSWER_TYPE).body)
    assert answer["query_id"] == query_id and answer["refused"] == ""
    handles = [c["handle"] for c in answer["candidates"]]
    persons = set(
        MatchHandle.objects.filter(handle__in=handles).values_list("person_id", flat=True)
    )
    assert twin.pk in persons  # the unsealed twin is answered: the query matches
    assert sealed.pk not in persons
    assert not MatchHandle.objects.filter(person=sealed).exists()
