"""A person's matching page says what it holds: its title and headings name the person's
duplicates, merges and the questions to the other country (translated), and it lists the
person's duplicate candidates in every state, most probable first, with a link to compare
— only pairs of which the user may see both persons, references only, at a cost in
queries that does not grow with the candidates."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ctip.matching import services, views
from ctip.matching.models import MatchCandidate
from ctip.matching.tests.test_node import INTAKE, OTHER, PASSPORT, SOKHA, make

pytestmark = pytest.mark.django_db


@pytest.fixture
def trio(caseworker_a):
    """Three records of one woman at agency A (each has two candidates), and a stranger."""
    a, b, c = (make(caseworker_a, data) for data in (SOKHA, PASSPORT, INTAKE))
    make(caseworker_a, OTHER)
    return a, b, c


def page_of(client, person, **headers) -> str:
    response = client.get(f"/matching/persons/{person.pk}/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1)


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-candidate="([^"]+)">', page)


def candidates_of(person) -> list[MatchCandidate]:
    return list(
        MatchCandidate.objects.filter(left=person) | MatchCandidate.objects.filter(right=person)
    )


def test_title_and_headings_say_what_the_page_holds(trio, caseworker_a, client_of):
    a, _, _ = trio
    page = page_of(client_of(caseworker_a), a)
    assert title(page).startswith(f"Matching: {a.reference} ·")
    h1 = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    assert h1 == f"{a.reference}: duplicates, merges and questions to the other country"
    assert re.findall(r'<h2 id="([a-z]+)"', page) == ["duplicates", "merges", "queries"]
    assert "Merge history of" not in page
    khmer = page_of(client_of(caseworker_a), a, HTTP_ACCEPT_LANGUAGE="km")
    assert a.reference in title(khmer) and "Matching" not in title(khmer)
    assert "duplicates, merges" not in khmer


def test_the_persons_candidates_most_probable_first_in_every_state(trio, caseworker_a, client_of):
    a = trio[0]
    mine = sorted(candidates_of(a), key=lambda x: -x.probability)
    assert len(mine) == 2
    services.candidate_decide(user=caseworker_a, candidate=mine[1], decision="rejected")
    page = page_of(client_of(caseworker_a), a)
    assert rows(page) == [str(x.pk) for x in mine]
    table = page.split('id="duplicates"')[1].split('id="merges"')[0]
    for candidate in mine:
        other = candidate.right if candidate.left_id == a.pk else candidate.left
        assert f'href="/matching/candidates/{candidate.pk}/">{other.reference}</a>' in table
    assert "<td>Rejected: different people</td>" in table and "<td>Open</td>" in table
    assert "CHAN SOKHA" not in table and "Sokhar" not in table  # references only
    assert "Only the most probable are shown here" not in page
    # The stranger has none.
    stranger = next(p for p in type(a).objects.all() if p not in trio and not candidates_of(p))
    assert "No possible duplicate of this record has been found." in page_of(
        client_of(caseworker_a), stranger
    )


def test_a_candidate_with_a_person_the_user_may_not_see_is_not_listed(
    trio, caseworker_a, caseworker_b, client_of
):
    a, _, _ = trio
    theirs = make(caseworker_b, PASSPORT)  # agency B's record of the same woman
    across = [x for x in candidates_of(theirs) if a.pk in (x.left_id, x.right_id)]
    assert across, "the engine pairs records across agencies"
    page = page_of(client_of(caseworker_a), a)
    assert str(across[0].pk) not in rows(page) and theirs.reference not in page
    assert len(rows(page)) == 2
    # Agency B cannot open A's person at all (not found, like a missing id).
    assert client_of(caseworker_b).get(f"/matching/persons/{a.pk}/").status_code == 404


def test_only_the_most_probable_are_shown_and_the_queue_named(
    trio, caseworker_a, client_of, monkeypatch
):
    a, _, _ = trio
    monkeypatch.setattr(views, "CANDIDATES_SHOWN", 1)
    page = page_of(client_of(caseworker_a), a)
    best = max(candidates_of(a), key=lambda x: x.probability)
    assert rows(page) == [str(best.pk)]
    assert "Only the most probable are shown here; the review queue lists them all." in page


def test_the_page_costs_the_same_queries_for_few_or_many_candidates(trio, caseworker_a, client_of):
    a, _, _ = trio
    client = client_of(caseworker_a)
    page_of(client, a)
    with CaptureQueriesContext(connection) as few:
        assert len(rows(page_of(client, a))) == 2
    for spelling in ("Sokha Chan", "CHAN SOKHAR", "Sok Kha Chan"):
        make(caseworker_a, {**INTAKE, "name_latin": spelling})
    with CaptureQueriesContext(connection) as many:
        assert len(rows(page_of(client, a))) > 2
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
