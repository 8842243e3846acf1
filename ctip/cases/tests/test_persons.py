"""Persons: object-level access (agency, grants, sealing), field-level access, audit of views."""

from __future__ import annotations

import pytest

from ctip.audit.models import Action, AuditEvent
from ctip.cases.models import Person
from ctip.cases.services import PersonInput, person_create, person_set_sealed
from ctip.cases.tests.conftest import CANARY, api_for

pytestmark = pytest.mark.django_db


def test_owner_agency_sees_record_and_view_is_audited(
    person_a, caseworker_a, colleague_a, client_of
):
    response = client_of(colleague_a).get(f"/persons/{person_a.pk}/")
    assert response.status_code == 200
    assert CANARY in response.content.decode()
    event = AuditEvent.objects.filter(action=Action.VIEW, object_id=str(person_a.pk)).get()
    assert event.actor_username == "colleague_a"
    assert "name_latin" in event.fields and "document_number" in event.fields
    assert CANARY not in str(event.details)


def test_other_agency_cannot_read_record_ui(person_a, caseworker_b, client_of):
    client = client_of(caseworker_b)
    assert client.get(f"/persons/{person_a.pk}/").status_code == 404
    listing = client.get("/persons/").content.decode()
    assert person_a.reference not in listing and CANARY not in listing
    denial = AuditEvent.objects.filter(action=Action.SECURITY, object_id=str(person_a.pk)).get()
    assert denial.details["event"] == "access_denied" and denial.actor_username == "caseworker_b"


def test_forbidden_and_missing_look_the_same(person_a, caseworker_b, client_of):
    client = client_of(caseworker_b)
    forbidden = client.get(f"/persons/{person_a.pk}/")
    missing = client.get("/persons/00000000-0000-4000-8000-000000000000/")
    assert forbidden.status_code == missing.status_code == 404
    api = api_for(caseworker_b)
    f = api.get(f"/api/v1/persons/{person_a.pk}")
    m = api.get("/api/v1/persons/00000000-0000-4000-8000-000000000000")
    assert f.status_code == m.status_code == 404 and f.json() == m.json()


def test_other_agency_cannot_read_record_api(person_a, caseworker_a, caseworker_b, cn_focal):
    assert (
        api_for(caseworker_a).get(f"/api/v1/persons/{person_a.pk}").json()["name_latin"] == CANARY
    )
    for outsider in (caseworker_b, cn_focal):
        api = api_for(outsider)
        assert api.get(f"/api/v1/persons/{person_a.pk}").status_code == 404
        assert api.get("/api/v1/persons").json()["results"] == []


def test_role_without_personal_data_access_sees_no_personal_fields(person_a, dpo, client_of):
    page = client_of(dpo).get(f"/persons/{person_a.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert CANARY not in html and "សុខា" not in html and "N9911" not in html
    body = api_for(dpo).get(f"/api/v1/persons/{person_a.pk}").json()
    assert body["reference"] == person_a.reference
    assert not set(Person.PII_FIELDS) & set(body)
    listing = api_for(dpo).get("/api/v1/persons").json()["results"]
    assert listing and all(not set(Person.PII_FIELDS) & set(row) for row in listing)
    # No view of personal data happened, so none is recorded.
    assert not AuditEvent.objects.filter(action=Action.VIEW, actor_username="dpo").exists()


def test_me_officer_has_no_person_access(person_a, me_officer, client_of):
    assert client_of(me_officer).get(f"/persons/{person_a.pk}/").status_code == 404
    assert client_of(me_officer).get("/persons/").status_code == 404
    assert api_for(me_officer).get("/api/v1/persons").status_code == 404


def test_search_by_exact_name_through_keyed_tokens(person_a, caseworker_a, caseworker_b):
    hits = _search(caseworker_a, "canarysokha")["results"]
    assert [h["id"] for h in hits] == [str(person_a.pk)]
    assert _search(caseworker_a, "N9911")["count"] == 1
    assert _search(caseworker_a, "nobody")["count"] == 0
    assert _search(caseworker_b, "canarysokha")["count"] == 0


def test_sealed_record_only_for_named_users(
    person_a, supervisor_a, caseworker_a, colleague_a, client_of
):
    person_set_sealed(
        user=supervisor_a,
        person=person_a,
        sealed=True,
        reason="child witness",
        named_users=[caseworker_a],
    )
    assert client_of(colleague_a).get(f"/persons/{person_a.pk}/").status_code == 404
    assert person_a.reference not in client_of(colleague_a).get("/persons/").content.decode()
    assert client_of(caseworker_a).get(f"/persons/{person_a.pk}/").status_code == 200
    assert client_of(supervisor_a).get(f"/persons/{person_a.pk}/").status_code == 200


def test_create_through_ui_and_api_with_clear_errors(caseworker_a, dpo, client_of):
    client = client_of(caseworker_a)
    bad = client.post("/persons/new/", {"sex": "female", "birth_month": "5"})
    assert bad.status_code == 400
    assert "at least one script" in bad.content.decode()
    ok = client.post("/persons/new/", {"name_latin": "Test Person", "sex": "female"})
    assert ok.status_code == 302
    person = Person.objects.get()
    assert person.name_latin == "Test Person" and person.owner_agency == caseworker_a.agency
    assert AuditEvent.objects.filter(action=Action.CREATE, object_id=str(person.pk)).exists()
    api = api_for(caseworker_a)
    err = api.post("/api/v1/persons", {"birth_day": 3, "name_latin": "X"}, format="json")
    assert err.status_code == 400 and "birth_day" in err.json()["error"]["fields"]
    assert (
        api_for(dpo).post("/api/v1/persons", {"name_latin": "X"}, format="json").status_code == 404
    )
    assert Person.objects.count() == 1


def test_list_page_query_count_is_flat(caseworker_a, client_of, django_assert_max_num_queries):
    for i in range(12):
        person_create(user=caseworker_a, data=PersonInput(name_latin=f"Person {i}"))
    client = client_of(caseworker_a)
    client.get("/persons/")
    with django_assert_max_num_queries(14):
        assert client.get("/persons/").status_code == 200


def _search(user, query: str) -> dict:
    answer = api_for(user).post("/api/v1/persons/search", {"q": query}, format="json")
    assert answer.status_code == 200, answer.content[:300]
    return answer.json()
