"""Model rules of services and focal persons, and who may change them."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ctip.accounts.permissions import NotFound
from ctip.audit.models import AuditEvent
from ctip.directory import services
from ctip.directory.models import FocalPerson, Service
from ctip.directory.tests.conftest import TODAY, focal_input, service_input

pytestmark = pytest.mark.django_db


def test_editor_registers_a_service_with_audit(make_service, editor):
    service = make_service()
    assert service.country == "KH" and service.version == 1
    assert service.created_by == editor
    assert " lang:km " in service.search_text and "phnom penh" in service.search_text
    assert "金边过渡庇护所" in service.search_text
    assert service.availability_updated_at is not None
    event = AuditEvent.objects.get(object_type="directory.service", object_id=str(service.pk))
    assert event.action == "create" and event.actor_id == editor.pk
    assert event.details == {"published": True, "type": "shelter"}


@pytest.mark.parametrize("who", ["caseworker_a", "supervisor_a", "dpo", "me_officer"])
def test_only_editors_and_node_admins_change_entries(
    request, who, shelter_agency, agency_a, make_service, make_focal
):
    service, person = make_service(), make_focal()
    user = request.getfixturevalue(who)
    with pytest.raises(NotFound):
        services.service_create(
            user=user, data=service_input(shelter_agency, registration_number="OTHER-1")
        )
    with pytest.raises(NotFound):
        services.focal_person_create(user=user, data=focal_input(agency_a, name_en="X Y"))
    with pytest.raises(NotFound):
        services.service_update(user=user, service=service, changes={"published": False})
    with pytest.raises(NotFound):
        services.focal_person_update(user=user, person=person, changes={"published": False})
    assert Service.objects.count() == 1 and FocalPerson.objects.count() == 1
    service.refresh_from_db()
    person.refresh_from_db()
    assert service.published and person.published and service.version == 1
    denied = AuditEvent.objects.filter(action="security", actor_id=user.pk)
    assert denied.count() == 4
    assert {e.details["event"] for e in denied} == {"access_denied"}


def test_node_admin_may_change_entries(node_admin, shelter_agency):
    service = services.service_create(user=node_admin, data=service_input(shelter_agency))
    service = services.service_update(
        user=node_admin, service=service, changes={"places_available": 3}
    )
    assert service.places_available == 3 and service.updated_by == node_admin


def test_update_bumps_version_and_audits_the_changed_fields(make_service, editor):
    service = make_service()
    before = service.availability_updated_at
    service = services.service_update(
        user=editor, service=service, changes={"places_available": 5, "hours": "24/7"}
    )
    assert service.version == 2 and service.places_available == 5
    assert service.availability_updated_at > before
    event = AuditEvent.objects.filter(object_id=str(service.pk), action="update").get()
    assert event.fields == ["hours", "places_available"]
    assert event.details == {"version": 2, "published": True}
    # Nothing changed: no new version, no audit row.
    services.service_update(user=editor, service=service, changes={"hours": "24/7"})
    service.refresh_from_db()
    assert service.version == 2
    assert AuditEvent.objects.filter(object_id=str(service.pk), action="update").count() == 1


def test_the_other_countrys_entries_are_read_only_here(make_service, editor):
    service = make_service()
    Service.objects.filter(pk=service.pk).update(country="CN")  # as if received from CN
    service.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        services.service_update(user=editor, service=service, changes={"hours": "9-5"})
    assert "other country" in str(excinfo.value)


def test_entries_are_registered_for_agencies_of_this_node(editor, agency_cn):
    with pytest.raises(ValidationError) as excinfo:
        services.service_create(user=editor, data=service_input(agency_cn))
    assert "provider" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.focal_person_create(user=editor, data=focal_input(agency_cn))
    assert "agency" in excinfo.value.message_dict


def test_duplicate_registrations_are_field_errors(make_service):
    make_service()
    with pytest.raises(ValidationError) as excinfo:
        make_service(name_en="Another name")  # same registration number
    assert excinfo.value.message_dict == {
        "registration_number": ["A service with this registration number is already registered."]
    }
    with pytest.raises(ValidationError) as excinfo:
        make_service(registration_number="MOSAVY-SH-002")  # same provider, type and name
    assert excinfo.value.message_dict == {
        "name_en": ["This provider already has a service of this type with this name."]
    }
    # The same name for another type of service of the provider is fine.
    assert make_service(service_type="medical", registration_number="MOSAVY-M-1").pk


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"hotline": "023 100 200"}, "hotline", "international format"),
        ({"phone": "+855 abc"}, "phone", "international format"),
        ({"email": "intake@"}, "email", "valid email"),
        ({"website": "javascript:alert(1)"}, "website", "valid URL"),
        ({"languages": ["km", "xx"]}, "languages", "Unknown language code: xx"),
        ({"languages": ["km", "km"]}, "languages", "listed twice"),
        ({"nationalities": ["KH", "ZZ"]}, "nationalities", "Unknown country code: ZZ"),
        ({"coverage_areas": ["", "Kandal"]}, "coverage_areas", "list of names"),
        ({"places_available": 50}, "places_available", "cannot exceed the capacity"),
        ({"registration_status": "pending"}, "published", "Only a registered service"),
        ({"registration_number": ""}, "registration_number", "needs its registration number"),
        ({"renewal_due": None}, "renewal_due", "needs its renewal date"),
        ({"renewal_due": TODAY - datetime.timedelta(days=500)}, "renewal_due", "after the"),
        ({"hotline": "", "email": ""}, "phone", "at least one way"),
        (
            {"serves_women": False, "serves_men": False, "serves_children": False},
            "serves_women",
            "who the service is for",
        ),
        ({"service_type": "spa"}, "service_type", "not a valid choice"),
    ],
)
def test_bad_service_input_gives_field_errors(make_service, overrides, field, message):
    with pytest.raises(ValidationError) as excinfo:
        make_service(**overrides)
    errors = excinfo.value.message_dict
    assert field in errors, errors
    assert any(message in m for m in errors[field]), errors
    assert not Service.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"languages": [{"code": "kh", "level": "native"}]}, "languages", "Unknown language"),
        (
            {"languages": [{"code": "km", "level": "perfect"}]},
            "languages",
            "Unknown language level",
        ),
        ({"languages": [{"code": "km"}]}, "languages", "code and a level"),
        ({"languages": []}, "languages", "at least one language"),
        ({"wechat": "1abc"}, "wechat", "WeChat ID"),
        ({"telegram": "consular"}, "telegram", "Telegram username"),
        ({"whatsapp": "12345"}, "whatsapp", "international format"),
        ({"mobile": "+86 13"}, "mobile", "international format"),
        ({"phone": "", "email": ""}, "phone", "at least one way"),
        ({"preferred_channel": "wechat"}, "preferred_channel", "has no value"),
        ({"post_country": "XX"}, "post_country", "Unknown country code"),
        ({"ends_on": TODAY - datetime.timedelta(days=31)}, "ends_on", "must end after it starts"),
        ({"responsibilities": ["tea"]}, "responsibilities", "Unknown responsibility"),
    ],
)
def test_bad_focal_person_input_gives_errors(make_focal, overrides, field, message):
    with pytest.raises(ValidationError) as excinfo:
        make_focal(**overrides)
    errors = excinfo.value.message_dict
    key = field or "__all__"
    assert key in errors, errors
    assert any(message in m for m in errors[key]), errors
    assert not FocalPerson.objects.exists()


def test_duplicate_focal_person_is_a_field_error(make_focal):
    make_focal()
    with pytest.raises(ValidationError) as excinfo:
        make_focal(title_en="Another title")
    assert list(excinfo.value.message_dict) == ["name_en"]
    # The same person at another post is a separate appointment.
    assert make_focal(post_city="Guangzhou").pk


def test_valid_channels_are_accepted(make_focal):
    person = make_focal(
        wechat="kh_consulate_sh",
        telegram="@kh_consular",
        whatsapp="+86 138 0000 0000",
        mobile="+86 138 0000 0000",
        preferred_channel="wechat",
    )
    assert person.channel_values()["wechat"] == "kh_consulate_sh"
    assert person.is_current


def test_database_constraints_hold_without_the_service_layer(make_service, make_focal):
    service = make_service()
    with pytest.raises(IntegrityError), transaction.atomic():
        Service.objects.filter(pk=service.pk).update(places_available=41)
    with pytest.raises(IntegrityError), transaction.atomic():
        Service.objects.filter(pk=service.pk).update(registration_status="expired")
    person = make_focal()
    with pytest.raises(IntegrityError), transaction.atomic():
        FocalPerson.objects.filter(pk=person.pk).update(ends_on=person.appointed_on)
