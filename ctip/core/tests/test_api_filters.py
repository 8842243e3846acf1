"""Malformed or foreign ids in API filters are answered like unknown ones: an empty list,
never a server error (found by the API fuzzing of issue 3)."""

from __future__ import annotations

import pytest

from ctip.cases.services import PersonInput, person_create


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value", ["abc", "\x00", "x" * 500, "12345678-1234-1234-1234-1234567890123", "0", "-1"]
)
def test_a_malformed_person_filter_gives_an_empty_list(caseworker_a, client_of, value):
    answer = client_of(caseworker_a).get("/api/v1/screenings", {"person": value})
    assert answer.status_code == 200, answer.content[:300]
    assert answer.json()["results"] == []


@pytest.mark.django_db
def test_another_agencys_person_filter_gives_an_empty_list(caseworker_a, caseworker_b, client_of):
    theirs = person_create(user=caseworker_b, data=PersonInput(name_latin="FILTER TEST"))
    answer = client_of(caseworker_a).get("/api/v1/screenings", {"person": str(theirs.pk)})
    assert answer.status_code == 200
    assert answer.json()["results"] == []


@pytest.mark.django_db
def test_a_malformed_id_in_an_api_path_gets_the_api_error_shape(caseworker_a, client_of):
    answer = client_of(caseworker_a).get("/api/v1/persons/not-a-uuid")
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["error"]["code"] == "not_found"
    page = client_of(caseworker_a).get("/persons/not-a-uuid/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_denied_malformed_id_is_logged_as_malformed(caseworker_a, client_of):
    from ctip.audit.models import AuditEvent

    client_of(caseworker_a).get("/api/v1/screenings", {"person": "Canarysokha\x00 Zqxv"})
    event = AuditEvent.objects.filter(details__event="access_denied").latest("pk")
    assert event.object_id == "(malformed)"
