"""Law-enforcement fixtures: police focal officers of two agencies, taskforce members of
both countries (from directory focal persons), a law-enforcement case, and a pinned peer."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from ctip.directory.models import FocalPerson
from ctip.enforcement import services
from ctip.enforcement.models import TaskforceMember
from ctip.testing import personas
from ctip.testing.peers import pin_offline_peer


@pytest.fixture
def police_agency(db):
    return personas.agency("kh-police-a", type="police")


@pytest.fixture
def police_agency_b(db):
    return personas.agency("kh-police-b", type="police")


@pytest.fixture
def police(police_agency):
    return personas.make_user("police_a", police_agency, "police_focal").user


@pytest.fixture
def police_b(police_agency_b):
    return personas.make_user("police_b", police_agency_b, "police_focal").user


def focal_person(agency, name: str, country: str) -> FocalPerson:
    """A focal person as the directory holds it (written directly: a fixture of another
    app's table, like a received copy)."""
    return FocalPerson.objects.create(
        agency=agency,
        country=country,
        published=True,
        name_en=name,
        title_en="Police focal officer",
        post_type="police",
        post_city="Capital",
        post_country=country,
        responsibilities=["law_enforcement"],
        languages=[{"code": "km" if country == "KH" else "zh", "level": "native"}],
        phone="+855 23 555 0000" if country == "KH" else "+86 10 555 0000",
        appointed_on=timezone.localdate() - dt.timedelta(days=400),
    )


@pytest.fixture
def own_member(police, police_agency):
    return services.member_save(
        user=police,
        data=services.MemberInput(
            focal_person=focal_person(police_agency, "Officer A (test)", "KH"),
            taskforce_role="focal_officer",
            since=timezone.localdate() - dt.timedelta(days=100),
            user=police,
        ),
    )


@pytest.fixture
def cn_member(db, agency_cn):
    """The other country's focal officer, as the roster message leaves it here."""
    return TaskforceMember.objects.create(
        id=uuid.uuid4(),
        country="CN",
        focal_person=focal_person(agency_cn, "Officer CN (test)", "CN"),
        taskforce_role="focal_officer",
        since=timezone.localdate() - dt.timedelta(days=100),
    )


@pytest.fixture
def le_case(police):
    return services.le_case_open(
        user=police,
        data=services.LeCaseInput(
            offences=("labour_trafficking",),
            summary="Recruitment for a fishing boat (test)",
            locations="Sihanoukville",
        ),
    )


@pytest.fixture
def cn_peer(db):
    """This (KH) node's exchange keys, and CN pinned as its peer (no address: nothing is
    delivered, messages wait in the outbox)."""
    return pin_offline_peer("CN")


@pytest.fixture
def caseworker_p(police_agency):
    """A social worker of the police agency (the victim case below is owned by that agency,
    so its police focal officers may open it while it is not sealed)."""
    return personas.make_user("caseworker_p", police_agency, "caseworker").user


@pytest.fixture
def supervisor_p(police_agency):
    return personas.make_user("supervisor_p", police_agency, "supervisor").user


@pytest.fixture
def shelter_p(police_agency):
    return personas.make_user("shelter_p", police_agency, "shelter_staff").user


@pytest.fixture
def victim_case(caseworker_p):
    from ctip.cases.services import (
        PersonInput,
        case_open,
        person_create,
        screening_start,
        screening_submit,
    )
    from ctip.cases.tests.conftest import VICTIM_ANSWERS

    person = person_create(
        user=caseworker_p, data=PersonInput(name_latin="Victim Test", sex="female")
    )
    screening = screening_submit(
        user=caseworker_p,
        screening=screening_start(user=caseworker_p, person=person),
        raw=dict(VICTIM_ANSWERS),
    )
    return case_open(user=caseworker_p, person=person, screening=screening, track="cross_border")
