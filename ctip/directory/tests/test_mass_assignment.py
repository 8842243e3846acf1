"""SECURITY.md #26 (mass assignment) for the directory API: a directory editor cannot give an
entry another country (the other node's entries are theirs alone), choose its id or
version, or name who created it by adding fields to an ordinary write."""

from __future__ import annotations

import pytest

from ctip.cases.tests.conftest import api_for
from ctip.directory.models import Service

pytestmark = pytest.mark.django_db

FOREIGN_ID = "00000000-0000-4000-8000-000000000042"


def smuggled(user) -> dict:
    return {
        "id": FOREIGN_ID,
        "country": "CN",
        "version": 99,
        "created_by": user.pk,
        "updated_by": user.pk,
        "created_at": "2001-01-01T00:00:00Z",
        "search_text": "planted",
    }


def test_service_create_and_update_ignore_country_version_and_creator(
    editor, caseworker_a, shelter_agency
):
    api = api_for(editor)
    created = api.post(
        "/api/v1/directory/services",
        {
            "service_type": Service._meta.get_field("service_type").choices[0][0],
            "sector": Service._meta.get_field("sector").choices[0][0],
            "provider": shelter_agency.code,
            "name_en": "Mass assignment shelter",
            "city": "Phnom Penh",
            "phone": "+855 23 000 000",
            **smuggled(caseworker_a),
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert not Service.objects.filter(pk=FOREIGN_ID).exists()
    service = Service.objects.get()
    service.refresh_from_db()
    assert service.country == "KH" and service.created_by == editor
    assert service.search_text != "planted" and service.created_at.year > 2001

    version = service.version
    patched = api.patch(
        f"/api/v1/directory/services/{service.pk}",
        {"name_en": "Renamed shelter", **smuggled(caseworker_a)},
        format="json",
    )
    assert patched.status_code in (200, 400), patched.content
    service.refresh_from_db()
    assert str(service.pk) != FOREIGN_ID
    assert service.country == "KH" and service.created_by == editor
    assert service.version in (version, version + 1)  # one step per change, never 99
    assert service.updated_by in (None, editor)
