"""The directory API: the public endpoint (no sign-in, published fields only) and the
signed-in endpoints (everyone with the directory capability reads, editors write)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ctip.audit.models import AuditEvent
from ctip.directory import selectors
from ctip.directory.models import FocalPerson, Service, ShelterAssessment
from ctip.directory.tests.conftest import SECRET_MARKERS, TODAY
from ctip.testing import personas

pytestmark = pytest.mark.django_db
API = "/api/v1/directory"
# The API says a field error without repeating what was sent (DP-6, ctip.core.api): a
# message that contains a submitted value comes back as this one.
SCRUBBED = "Enter a valid value."


def assert_field_error(fields: dict, name: str, message: str) -> None:
    assert name in fields, fields
    assert fields[name] in ([message], [SCRUBBED]), fields[name]


INTERNAL_FIELDS = {
    "address",
    "registration_number",
    "registration_authority",
    "capacity",
    "places_available",
    "appointment_reference",
    "published",
    "version",
    "created_by",
}


def test_public_endpoint_needs_no_sign_in_and_shows_only_published_entries(directory):
    response = Client().get(f"{API}/public")
    assert response.status_code == 200
    body = response.json()
    assert sorted(p["name_en"] for p in body["focal_persons"]) == [
        "CHEA Vanna (demo)",
        "SOK Dara (demo)",
    ]
    assert sorted(s["name_en"] for s in body["services"]) == [
        "Legal Aid Desk",
        "Phnom Penh Transit Shelter",
    ]
    for item in [*body["focal_persons"], *body["services"]]:
        assert not (set(item) & INTERNAL_FIELDS), set(item) & INTERNAL_FIELDS
    text = json.dumps(body, ensure_ascii=False)
    for marker in SECRET_MARKERS:
        assert marker not in text, marker
    consul = next(p for p in body["focal_persons"] if p["name_en"] == "SOK Dara (demo)")
    assert consul["languages"] == [
        {"code": "km", "level": "native"},
        {"code": "zh", "level": "working"},
    ]


def test_public_endpoint_search_and_bad_query(directory):
    body = Client().get(f"{API}/public", {"q": "法律", "kind": "service"}).json()
    assert [s["name_en"] for s in body["services"]] == ["Legal Aid Desk"]
    assert body["focal_persons"] == []
    response = Client().get(f"{API}/public", {"type": "spa"})
    assert response.status_code == 400
    assert "type" in response.json()["error"]["fields"]


def test_signed_in_list_includes_unpublished_but_not_for_others(directory, client_of, caseworker_a):
    rows = client_of(caseworker_a).get(f"{API}/services").json()["results"]
    names = {r["name_en"] for r in rows}
    assert {"HIDDEN-SHELTER", "PENDING-LEGAL"} <= names
    hidden = next(r for r in rows if r["name_en"] == "HIDDEN-SHELTER")
    assert hidden["published"] is False and hidden["address"] == ""
    people = client_of(caseworker_a).get(f"{API}/focal-persons", {"q": "hidden"}).json()
    assert [p["name_en"] for p in people["results"]] == ["HIDDEN-PERSON"]
    # The other users: nobody signed in, and a signed-in user without a role.
    assert Client().get(f"{API}/services").status_code in (401, 403)
    service_id = hidden["id"]
    assert Client().get(f"{API}/services/{service_id}").status_code in (401, 403)
    nobody = personas.make_user("nobody", caseworker_a.agency).user
    client = Client()
    client.force_login(nobody)
    assert client.get(f"{API}/services/{service_id}").status_code in (403, 404)


def test_editor_creates_and_updates_a_service(client_of, editor, shelter_agency, caseworker_a):
    payload = {
        "service_type": "medical",
        "sector": "government",
        "provider": shelter_agency.code,
        "name_en": "Provincial Referral Hospital",
        "name_zh_hans": "省转诊医院",
        "city": "Kampong Cham",
        "languages": ["km"],
        "phone": "+855 42 210 000",
        "registration_status": "registered",
        "registration_number": "MOH-PRH-3",
        "renewal_due": TODAY.replace(year=TODAY.year + 1).isoformat(),
        "published": True,
    }
    client = client_of(editor)
    response = client.post(f"{API}/services", payload, content_type="application/json")
    assert response.status_code == 201, response.json()
    service = Service.objects.get(pk=response.json()["id"])
    assert service.name_zh_hans == "省转诊医院" and service.created_by == editor

    response = client.patch(
        f"{API}/services/{service.pk}",
        {"places_available": 4, "capacity": 20},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["version"] == 2
    # Another role cannot change it.
    response = client_of(caseworker_a).patch(
        f"{API}/services/{service.pk}", {"published": False}, content_type="application/json"
    )
    assert response.status_code == 404
    service.refresh_from_db()
    assert service.published and service.version == 2
    assert AuditEvent.objects.filter(
        action="security", actor_id=caseworker_a.pk, object_id=str(service.pk)
    ).exists()


def test_bad_api_input_gives_field_errors(client_of, editor, shelter_agency, agency_a):
    client = client_of(editor)
    response = client.post(
        f"{API}/services",
        {
            "service_type": "shelter",
            "sector": "government",
            "provider": shelter_agency.code,
            "name_en": "Bad shelter",
            "city": "Phnom Penh",
            "languages": ["km", "xx"],
            "phone": "12345",
            "email": "not-an-email",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) >= {"languages", "phone", "email"}
    assert not Service.objects.exists()

    response = client.post(
        f"{API}/focal-persons",
        {
            "agency": agency_a.code,
            "name_en": "Bad focal",
            "title_en": "Officer",
            "post_type": "embassy",
            "post_city": "Beijing",
            "post_country": "CN",
            "appointed_on": TODAY.isoformat(),
            "languages": [{"code": "km", "level": "native"}, {"code": "zz", "level": "basic"}],
            "telegram": "no at sign",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert_field_error(fields, "languages", "Unknown language code: zz.")
    assert "telegram" in fields
    assert not FocalPerson.objects.exists()


def test_assessment_through_the_api(client_of, editor, make_service, caseworker_a):
    shelter = make_service()
    checklist = selectors.current_checklist("KH")
    scores = [
        {"standard": s.code, "score": 2, "evidence": "Seen."} for s in checklist.standards.all()
    ]
    scores[0]["score"] = 9
    client = client_of(editor)
    payload = {
        "assessed_on": TODAY.isoformat(),
        "assessing_agency": editor.agency.code,
        "scores": scores,
    }
    response = client.post(
        f"{API}/services/{shelter.pk}/assessments", payload, content_type="application/json"
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["score_PR1"]
    assert_field_error(fields, "score_PR1", "The score must be between 0 and 3 for this standard.")
    scores[0]["score"] = 3
    response = client.post(
        f"{API}/services/{shelter.pk}/assessments", payload, content_type="application/json"
    )
    assert response.status_code == 201
    assessment = ShelterAssessment.objects.get()
    assert response.json()["compliance"] == "meets"

    response = client.post(
        f"{API}/assessments/{assessment.pk}/follow-ups",
        {"action": "Refresh staff training", "responsible": "Director", "due_on": "2000-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "due_on" in response.json()["error"]["fields"]
    history = client_of(caseworker_a).get(f"{API}/services/{shelter.pk}/assessments").json()
    assert [a["compliance"] for a in history] == ["meets"]
    assert len(history[0]["scores"]) == 22
    # Caseworkers read assessments but do not record them.
    response = client_of(caseworker_a).post(
        f"{API}/services/{shelter.pk}/assessments", payload, content_type="application/json"
    )
    assert response.status_code == 404


def test_the_schema_lists_the_directory_endpoints():
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/directory/public" in paths
    assert paths["/api/v1/directory/public"]["get"].get("security") in ([], [{}], None)
    assert "/api/v1/directory/services/{id}" in paths
