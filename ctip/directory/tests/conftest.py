"""Directory fixtures: a directory editor, and builders for valid entries."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest
from django.utils import timezone, translation

from ctip.directory import services
from ctip.testing import personas

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _english():
    """Requests in Khmer or Chinese leave their language active in the thread: start each
    test in English, so that messages compare the same in any order."""
    with translation.override("en"):
        yield


@pytest.fixture
def editor(agency_a):
    return personas.make_user("editor", agency_a, "directory_editor").user


@pytest.fixture
def shelter_agency(db):
    return personas.agency("kh-shelter-test", type="shelter")


def service_input(provider, **overrides) -> services.ServiceInput:
    base = services.ServiceInput(
        service_type="shelter",
        sector="government",
        provider=provider,
        name_en="Phnom Penh Transit Shelter",
        name_km="មណ្ឌលស្នាក់នៅបណ្ដោះអាសន្នភ្នំពេញ",
        name_zh_hans="金边过渡庇护所",
        description_en="Short-stay shelter for women and girls returned from abroad.",
        city="Phnom Penh",
        coverage_areas=["Phnom Penh", "Kandal"],
        languages=["km", "en"],
        nationalities=["KH"],
        serves_women=True,
        serves_men=False,
        serves_children=True,
        capacity=40,
        places_available=12,
        hotline="+855 23 100 200",
        email="intake@shelter.example.org",
        registration_status="registered",
        registration_number="MOSAVY-SH-001",
        registered_on=TODAY - datetime.timedelta(days=400),
        renewal_due=TODAY + datetime.timedelta(days=330),
        published=True,
    )
    return replace(base, **overrides)


def focal_input(agency, **overrides) -> services.FocalPersonInput:
    base = services.FocalPersonInput(
        agency=agency,
        name_en="SOK Dara (demo)",
        name_km="សុខ តារា",
        name_zh_hans="索·达拉",
        title_en="Consular officer",
        post_type="consulate",
        post_city="Shanghai",
        post_country="CN",
        appointed_on=TODAY - datetime.timedelta(days=30),
        languages=[{"code": "km", "level": "native"}, {"code": "zh", "level": "working"}],
        responsibilities=["repatriation", "nationality_verification"],
        phone="+86 21 5555 0101",
        email="consular@embassy.example.org",
        published=True,
    )
    return replace(base, **overrides)


@pytest.fixture
def make_service(editor, shelter_agency):
    def make(**overrides):
        provider = overrides.pop("provider", shelter_agency)
        return services.service_create(user=editor, data=service_input(provider, **overrides))

    return make


@pytest.fixture
def make_focal(editor, agency_a):
    def make(**overrides):
        agency = overrides.pop("agency", agency_a)
        return services.focal_person_create(user=editor, data=focal_input(agency, **overrides))

    return make


# Strings that exist only on entries (or fields) the public must never see.
SECRET_MARKERS = (
    "HIDDEN-SHELTER",
    "隐藏的庇护所",
    "HIDDEN-PERSON",
    "FORMER-PERSON",
    "FUTURE-PERSON",
    "PENDING-LEGAL",
    "12 Secret Street",
    "MOSAVY-SH-001",
    "LETTER-123",
    "+855 99 999 999",
)


@pytest.fixture
def directory(make_service, make_focal, editor, agency_a):
    """Published entries, and unpublished or past ones that must stay hidden."""
    shown = {
        "shelter": make_service(address="12 Secret Street, Phnom Penh"),
        "legal": make_service(
            service_type="legal_aid",
            sector="non_government",
            name_en="Legal Aid Desk",
            name_km="ផ្នែកជំនួយផ្លូវច្បាប់",
            name_zh_hans="法律援助处",
            registration_number="NGO-LA-7",
            languages=["km", "zh", "en"],
            serves_men=True,
            website="https://legal.example.org/help",
        ),
        "consul": make_focal(
            appointment_reference="LETTER-123", wechat="kh_consul_sh", preferred_channel="wechat"
        ),
        "police": make_focal(
            name_en="CHEA Vanna (demo)",
            name_km="ជា វណ្ណា",
            name_zh_hans="",
            title_en="Deputy chief, anti-trafficking police",
            post_type="police",
            post_city="Phnom Penh",
            post_country="KH",
            languages=[{"code": "km", "level": "native"}, {"code": "en", "level": "working"}],
        ),
    }
    make_service(
        name_en="HIDDEN-SHELTER",
        name_zh_hans="隐藏的庇护所",
        registration_number="H-1",
        published=False,
        hotline="+855 99 999 999",
    )
    make_service(
        name_en="PENDING-LEGAL",
        service_type="legal_aid",
        registration_number="",
        registration_status="pending",
        published=False,
    )
    make_focal(name_en="HIDDEN-PERSON", published=False)
    make_focal(
        name_en="FORMER-PERSON",
        appointed_on=TODAY - datetime.timedelta(days=400),
        ends_on=TODAY - datetime.timedelta(days=1),
    )
    make_focal(
        name_en="FUTURE-PERSON",
        appointed_on=TODAY + datetime.timedelta(days=10),
    )
    return shown
