"""Signed-in pages: the whole directory (unpublished entries included) for every role, the
forms for directory editors and node administrators only, assessments and follow-up."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from ctip.accounts.models import Agency
from ctip.audit.models import AuditEvent
from ctip.directory import selectors
from ctip.directory.models import FocalPerson, FollowUpAction, Service, ShelterAssessment
from ctip.directory.tests.conftest import TODAY
from ctip.testing import personas

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def service_post(provider: Agency, **overrides) -> dict:
    data = {
        "service_type": "psychosocial",
        "sector": "non_government",
        "provider": str(provider.pk),
        "name_en": "Counselling Centre",
        "name_km": "មជ្ឈមណ្ឌលប្រឹក្សា",
        "name_zh_hans": "心理辅导中心",
        "city": "Siem Reap",
        "coverage_areas": "Siem Reap, Oddar Meanchey",
        "nationalities": "kh, cn",
        "languages": ["km", "zh"],
        "serves_women": "on",
        "serves_children": "on",
        "phone": "+855 63 123 456",
        "email": "help@counselling.example.org",
        "registration_status": "registered",
        "registration_number": "NGO-PS-12",
        "renewal_due": (TODAY + 300 * DAY).isoformat(),
        "published": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_signed_in_roles_see_unpublished_entries(
    make_service, make_focal, client_of, caseworker_a, cn_focal
):
    hidden = make_service(name_en="Unpublished shelter", published=False, registration_number="U")
    person = make_focal(name_en="Unpublished consul", published=False)
    for user in (caseworker_a, cn_focal):
        client = client_of(user)
        html = client.get(reverse("directory:service_list")).content.decode()
        assert "Unpublished shelter" in html and "not published" in html
        detail = client.get(reverse("directory:service_detail", args=[hidden.pk]))
        assert detail.status_code == 200 and b"MOSAVY-SH-001" not in detail.content
        html = client.get(reverse("directory:focal_person_list")).content.decode()
        assert "Unpublished consul" in html
        assert (
            client.get(reverse("directory:focal_person_detail", args=[person.pk])).status_code
            == 200
        )
        # ...but they cannot change them.
        assert client.get(reverse("directory:service_edit", args=[hidden.pk])).status_code == 404
        assert client.get(reverse("directory:service_create")).status_code == 404
    # The other user: an anonymous visitor, and a signed-in user without a role.
    anonymous = Client()
    response = anonymous.get(reverse("directory:service_detail", args=[hidden.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    nobody = personas.make_user("nobody", caseworker_a.agency).user
    response = Client()
    response.force_login(nobody)
    assert response.get(reverse("directory:service_detail", args=[hidden.pk])).status_code == 404
    assert response.get(reverse("directory:focal_person_list")).status_code == 404


def test_editor_registers_a_service_through_the_form(client_of, editor, shelter_agency):
    client = client_of(editor)
    assert client.get(reverse("directory:service_create")).status_code == 200
    response = client.post(reverse("directory:service_create"), service_post(shelter_agency))
    service = Service.objects.get(name_en="Counselling Centre")
    assert response.status_code == 302
    assert response["Location"] == reverse("directory:service_detail", args=[service.pk])
    assert service.nationalities == ["KH", "CN"]
    assert service.coverage_areas == ["Siem Reap", "Oddar Meanchey"]
    assert service.languages == ["km", "zh"] and service.serves_men is False
    assert AuditEvent.objects.filter(object_id=str(service.pk), action="create").exists()
    page = client.get(response["Location"]).content.decode()
    assert "The service is registered." in page and "心理辅导中心" in page


def test_bad_form_input_shows_field_errors(client_of, editor, shelter_agency, make_service):
    make_service(registration_number="NGO-PS-12")
    client = client_of(editor)
    response = client.post(
        reverse("directory:service_create"),
        service_post(shelter_agency, phone="012 345", nationalities="KH, XX", email="a@"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address." in html  # the form's own check comes first
    response = client.post(
        reverse("directory:service_create"),
        service_post(shelter_agency, phone="012 345", nationalities="KH, XX"),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "international format" in html
    assert "Unknown country code: XX" in html
    assert "already registered" in html  # duplicate registration number
    assert not Service.objects.filter(name_en="Counselling Centre").exists()


def test_editor_changes_and_publishes_a_focal_person(client_of, editor, agency_a, make_focal):
    person = make_focal(published=False)
    client = client_of(editor)
    form = client.get(reverse("directory:focal_person_edit", args=[person.pk]))
    assert form.status_code == 200 and 'value="native" selected' in form.content.decode()
    data = {
        "agency": str(agency_a.pk),
        "name_en": person.name_en,
        "name_km": person.name_km,
        "title_en": "First secretary (consular)",
        "post_type": "consulate",
        "post_city": "Shanghai",
        "post_country": "CN",
        "appointed_on": person.appointed_on.isoformat(),
        "phone": person.phone,
        "email": person.email,
        "lang_km": "native",
        "lang_zh": "fluent",
        "lang_en": "basic",
        "responsibilities": ["repatriation"],
        "published": "on",
    }
    response = client.post(reverse("directory:focal_person_edit", args=[person.pk]), data)
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.published and person.version == 2
    assert person.languages == [
        {"code": "km", "level": "native"},
        {"code": "zh", "level": "fluent"},
        {"code": "en", "level": "basic"},
    ]
    assert "First secretary" in Client().get(reverse("directory:index")).content.decode()
    event = AuditEvent.objects.get(object_id=str(person.pk), action="update")
    assert "published" in event.fields and "languages" in event.fields

    data.pop("lang_km"), data.pop("lang_zh"), data.pop("lang_en")
    response = client.post(reverse("directory:focal_person_edit", args=[person.pk]), data)
    assert response.status_code == 400
    assert "at least one language" in response.content.decode()


def test_register_a_focal_person(client_of, node_admin, agency_a):
    client = client_of(node_admin)
    response = client.post(
        reverse("directory:focal_person_create"),
        {
            "agency": str(agency_a.pk),
            "name_en": "LIM Sophea (demo)",
            "title_en": "Counter-trafficking officer",
            "post_type": "ministry",
            "post_city": "Phnom Penh",
            "post_country": "KH",
            "appointed_on": TODAY.isoformat(),
            "wechat": "lim_sophea_kh",
            "preferred_channel": "wechat",
            "lang_km": "native",
            "lang_zh": "working",
        },
    )
    assert response.status_code == 302
    person = FocalPerson.objects.get(name_en="LIM Sophea (demo)")
    assert person.created_by == node_admin and not person.published
    assert "LIM Sophea" not in Client().get(reverse("directory:index")).content.decode()


def test_other_countrys_entries_cannot_be_edited_here(client_of, editor, make_service):
    service = make_service()
    Service.objects.filter(pk=service.pk).update(country="CN")
    client = client_of(editor)
    page = client.get(reverse("directory:service_detail", args=[service.pk])).content.decode()
    assert (
        "read only here" in page
        and reverse("directory:service_edit", args=[service.pk]) not in page
    )
    response = client.post(
        reverse("directory:service_edit", args=[service.pk]),
        service_post(service.provider, name_en="Changed"),
    )
    assert response.status_code == 400
    assert "changed there" in response.content.decode()
    service.refresh_from_db()
    assert service.name_en == "Phnom Penh Transit Shelter"


def test_assessment_and_follow_up_through_the_pages(client_of, editor, make_service, agency_a):
    shelter = make_service()
    checklist = selectors.current_checklist("KH")
    client = client_of(editor)
    form = client.get(reverse("directory:assessment_create", args=[shelter.pk]))
    assert form.status_code == 200 and "Freedom of movement" in form.content.decode()
    data = {
        "assessed_on": (TODAY - 5 * DAY).isoformat(),
        "assessing_agency": str(agency_a.pk),
        "team": "Provincial DoSVY inspection team",
    }
    for standard in checklist.standards.all():
        data[f"score_{standard.code}"] = "3"
        data[f"evidence_{standard.code}"] = "Observed."
    data["score_ED1"] = "na"
    data["score_SA1"] = "7"  # not a choice of the 0-3 scale
    response = client.post(reverse("directory:assessment_create", args=[shelter.pk]), data)
    assert response.status_code == 400 and not ShelterAssessment.objects.exists()
    assert "Select a valid choice" in response.content.decode()
    data["score_SA1"] = "1"
    response = client.post(reverse("directory:assessment_create", args=[shelter.pk]), data)
    assessment = ShelterAssessment.objects.get()
    assert response.status_code == 302 and assessment.compliance == "does_not_meet"

    response = client.post(
        reverse("directory:follow_up_create", args=[assessment.pk]),
        {
            "action": "Install locks on the dormitory doors",
            "responsible": "Shelter director",
            "due_on": (TODAY + 30 * DAY).isoformat(),
            "standard": str(checklist.standards.get(code="SA1").pk),
        },
    )
    assert response.status_code == 302
    follow_up = FollowUpAction.objects.get()
    page = client.get(reverse("directory:service_detail", args=[shelter.pk])).content.decode()
    assert "Install locks" in page and "Does not meet the minimum standards" in page
    response = client.post(
        reverse("directory:follow_up_close", args=[follow_up.pk]),
        {"status": "done", "completed_on": TODAY.isoformat(), "outcome": "Locks installed."},
    )
    follow_up.refresh_from_db()
    assert response.status_code == 302 and follow_up.status == "done"


def test_assessments_are_not_for_every_role(client_of, make_service, editor):
    shelter = make_service()
    police_user = personas.make_user("police_a", editor.agency, "police_focal").user
    client = client_of(police_user)
    page = client.get(reverse("directory:service_detail", args=[shelter.pk])).content.decode()
    assert "Minimum standards" not in page
    assert client.get(reverse("directory:follow_up_list")).status_code == 404
    assert client.get(reverse("directory:assessment_create", args=[shelter.pk])).status_code == 404


def test_only_shelters_of_this_node_are_assessed(client_of, editor, make_service):
    clinic = make_service(service_type="medical", registration_number="MED-1")
    client = client_of(editor)
    assert client.get(reverse("directory:assessment_create", args=[clinic.pk])).status_code == 404
