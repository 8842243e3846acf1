"""Tool packages (steps, required documents, warning signs; authority and contact from the
directory; three languages; public pages and the leaflet) and dissemination with its
indicators. The public pages show published packages and published contacts only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from ctip.accounts.permissions import NotFound
from ctip.prevention import indicators, services
from ctip.prevention.models import DisseminationEvent, ToolPackage

pytestmark = pytest.mark.django_db

PACKAGE = {
    "topic": "labour",
    "title_en": "Working in China safely",
    "title_km": "ធ្វើការនៅប្រទេសចិនដោយសុវត្ថិភាព",
    "title_zh_hans": "安全地在中国工作",
    "summary_en": "What you need.",
    "summary_km": "អ្វីដែលអ្នកត្រូវការ។",
    "summary_zh_hans": "您需要什么。",
}


def item(kind, number, en, **extra):
    return {
        "kind": kind,
        "number": number,
        "title_en": en,
        "title_km": f"{en} km",
        "title_zh_hans": f"{en} 中文",
        **extra,
    }


@pytest.fixture
def contacts(agency_a):
    from ctip.directory.models import FocalPerson

    def person(name, published):
        return FocalPerson.objects.create(
            country="KH",
            published=published,
            agency=agency_a,
            name_en=name,
            post_type="ministry",
            appointed_on=timezone.localdate() - dt.timedelta(days=10),
            phone="+855 23 000 000",
        )

    return person("Published Contact", True), person("Hidden Contact", False)


def make_package(me_officer, agency_a, contacts) -> ToolPackage:
    package = services.package_save(user=me_officer, data=PACKAGE)
    services.item_save(
        user=me_officer,
        package=package,
        data=item("step", 1, "Get a work contract", authority=agency_a, contact=contacts[0]),
    )
    services.item_save(
        user=me_officer,
        package=package,
        data=item("document", 1, "Passport", authority=agency_a),
    )
    return package


def test_publish_needs_all_three_parts_and_pages_show_three_languages(
    me_officer, agency_a, contacts
):
    package = make_package(me_officer, agency_a, contacts)
    with pytest.raises(ValidationError):
        services.package_publish(user=me_officer, package=package, published=True)
    services.item_save(user=me_officer, package=package, data=item("warning", 1, "Fee for a job"))
    services.package_publish(user=me_officer, package=package, published=True)

    anonymous = Client()
    assert package.title_en in anonymous.get("/prevention/packages/").content.decode()
    page = anonymous.get(f"/prevention/packages/{package.pk}/").content.decode()
    assert "Get a work contract" in page and "Agency kh-agency-a" in page
    assert "Published Contact" in page and "+855 23 000 000" in page
    assert "Fee for a job" in page
    khmer = anonymous.get(f"/prevention/packages/{package.pk}/?lang=km").content.decode()
    assert PACKAGE["title_km"] in khmer and "Get a work contract km" in khmer
    leaflet = anonymous.get(f"/prevention/packages/{package.pk}/leaflet/?lang=zh-hans")
    assert leaflet.status_code == 200
    text = leaflet.content.decode()
    assert PACKAGE["title_zh_hans"] in text and "data-print" in text and "Passport 中文" in text


def test_unpublished_packages_and_contacts_never_reach_the_public(me_officer, agency_a, contacts):
    package = make_package(me_officer, agency_a, contacts)
    anonymous = Client()
    assert anonymous.get(f"/prevention/packages/{package.pk}/").status_code == 404
    assert anonymous.get(f"/prevention/packages/{package.pk}/leaflet/").status_code == 404
    assert package.title_en not in anonymous.get("/prevention/packages/").content.decode()
    # A contact must be published when it is linked ...
    with pytest.raises(ValidationError):
        services.item_save(
            user=me_officer, package=package, data=item("step", 2, "X", contact=contacts[1])
        )
    # ... and one withdrawn from the directory later disappears from the public page.
    services.item_save(user=me_officer, package=package, data=item("warning", 1, "W"))
    services.package_publish(user=me_officer, package=package, published=True)
    contacts[0].published = False
    contacts[0].save(update_fields=["published"])
    page = anonymous.get(f"/prevention/packages/{package.pk}/").content.decode()
    assert "Published Contact" not in page and "Hidden Contact" not in page
    # The management pages are not public.
    assert anonymous.get("/prevention/packages/manage/").status_code == 302
    assert anonymous.get(f"/prevention/packages/{package.pk}/edit/").status_code == 302


def test_package_rules(me_officer, caseworker_a, agency_a, agency_cn, contacts):
    package = make_package(me_officer, agency_a, contacts)
    with pytest.raises(ValidationError):  # the authority is of the package's country
        services.item_save(
            user=me_officer, package=package, data=item("step", 3, "Y", authority=agency_cn)
        )
    with pytest.raises(ValidationError):  # one package per topic per country
        services.package_save(user=me_officer, data=PACKAGE)
    with pytest.raises(NotFound):
        services.package_save(user=caseworker_a, data={**PACKAGE, "topic": "marriage"})


def test_dissemination_feeds_the_indicators(supervisor_a, caseworker_b, me_officer, client_of):
    today = timezone.localdate()
    services.dissemination_record(
        user=supervisor_a,
        data={
            "date": today - dt.timedelta(days=3),
            "channel": "village_meeting",
            "province": "Prey Veng",
            "audiences": ["prospective_spouses", "parents"],
            "female_18_24": 20,
            "female_25_plus": 10,
            "male_25_plus": 5,
        },
    )
    response = client_of(caseworker_b).post(
        "/prevention/dissemination/new/",
        {
            "date": str(today - dt.timedelta(days=1)),
            "channel": "school",
            "province": "Kandal",
            "audiences": ["students"],
            "female_under_18": "40",
            "female_18_24": "0",
            "female_25_plus": "0",
            "male_under_18": "35",
            "male_18_24": "0",
            "male_25_plus": "0",
            "unknown": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert DisseminationEvent.objects.count() == 2
    reached = indicators.people_reached()
    assert (reached.events, reached.total, reached.female, reached.male) == (2, 110, 70, 40)
    by_channel = {r.key: r.reached for r in indicators.reached_by("channel")}
    assert by_channel == {"village_meeting": 35, "school": 75}
    by_audience = {r.key: r.reached for r in indicators.reached_by("audience")}
    assert by_audience == {"prospective_spouses": 35, "parents": 35, "students": 75}
    assert indicators.people_reached(start=today - dt.timedelta(days=2)).total == 75
    api = client_of(me_officer).get("/api/v1/prevention/indicators").json()
    assert api["reached"] == 110 and api["by_group"]["female_under_18"] == 40
    page = client_of(me_officer).get("/prevention/dissemination/").content.decode()
    assert "Prey Veng" in page and "110" in page


def test_dissemination_bad_input(supervisor_a, dpo):
    base = {"date": timezone.localdate(), "channel": "hotline", "province": "Takeo"}
    with pytest.raises(ValidationError):
        services.dissemination_record(user=supervisor_a, data={**base, "audiences": []})
    with pytest.raises(ValidationError):
        services.dissemination_record(user=supervisor_a, data={**base, "audiences": ["nobody"]})
    with pytest.raises(ValidationError):
        services.dissemination_record(
            user=supervisor_a,
            data={**base, "audiences": ["students"], "date": base["date"] + dt.timedelta(days=2)},
        )
    with pytest.raises(ValidationError):
        services.dissemination_record(
            user=supervisor_a, data={**base, "audiences": ["students"], "unknown": -1}
        )
    with pytest.raises(NotFound):
        services.dissemination_record(user=dpo, data={**base, "audiences": ["students"]})
    assert not DisseminationEvent.objects.exists()
