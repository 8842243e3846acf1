"""Deny by default (security matrix #27): every URL pattern, every role, anonymous, another
agency and another country, GET and POST. The expected answers are derived from each view's
declared permission and ``permissions.CAPABILITIES`` (see ``ctip.testing.urlwalk``).

This module is also a URL configuration (``urlpatterns`` below): the project's routes plus
deliberately broken views, used to show that the walker catches each kind of mistake.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.test import override_settings
from django.urls import include, path
from rest_framework.decorators import api_view
from rest_framework.response import Response

from ctip.accounts.models import Role
from ctip.accounts.permissions import permission
from ctip.audit.models import Action, AuditEvent
from ctip.cases.models import Person
from ctip.cases.services import PersonInput, person_create, person_set_sealed
from ctip.core.demo import load_demo
from ctip.testing import personas as P
from ctip.testing.urlwalk import Persona, iter_routes, undeclared, walk

pytestmark = pytest.mark.django_db


# --- Broken views, reachable only through this module's urlconf ----------------------------


def undeclared_view(request):
    return HttpResponse("anyone")


@permission("person", "view")
def leaky_person(request, pk):
    # Checks the role but not the record's agency: an IDOR.
    get_object_or_404(Person, pk=pk)
    return HttpResponse("record")


@api_view(["GET"])
def unenforced_api(request):
    # Declares a permission but never calls permissions.require.
    return Response({"events": []})


unenforced_api.ctip_permission = ("audit", "view")


@permission("person", "view")
def telling_person(request, pk):
    # Tells "forbidden" (403) apart from "missing" (404): existence leaks.
    person = get_object_or_404(Person, pk=pk)
    if person.owner_agency_id != request.user.agency_id:
        raise PermissionDenied
    return HttpResponse("record")


BROKEN = {"undeclared", "leaky_person", "unenforced_api", "telling_person"}
urlpatterns = [
    path("", include("ctip.urls")),
    path("broken/undeclared/", undeclared_view, name="undeclared"),
    path("broken/persons/<uuid:pk>/leaky/", leaky_person, name="leaky_person"),
    path("broken/api/", unenforced_api, name="unenforced_api"),
    path("broken/persons/<uuid:pk>/telling/", telling_person, name="telling_person"),
]


# --- The world: a user of every role in agency A, a caseworker of another agency (B) and a
# police focal officer of the other country (CN); records owned by each ----------------------


def _world(agency_a, agency_b, agency_cn, *, demo: bool) -> dict:
    if demo:
        load_demo("KH")  # the demo data of every app gives the walker real records to try
    people = {f"a_{role}": P.make_user(f"a_{role}", agency_a, role).user for role in Role.values}
    people["b_caseworker"] = P.make_user("b_caseworker", agency_b, Role.CASEWORKER).user
    people["cn_police_focal"] = P.make_user("cn_police_focal", agency_cn, Role.POLICE_FOCAL).user
    people["cn_caseworker"] = P.make_user("cn_caseworker", agency_cn, Role.CASEWORKER).user
    records = {
        "a": person_create(user=people["a_caseworker"], data=PersonInput(name_latin="REC A")),
        "b": person_create(user=people["b_caseworker"], data=PersonInput(name_latin="REC B")),
        "cn": person_create(user=people["cn_caseworker"], data=PersonInput(name_latin="REC CN")),
    }
    sealed = person_create(user=people["a_supervisor"], data=PersonInput(name_latin="SEALED"))
    records["sealed"] = person_set_sealed(
        user=people["a_supervisor"], person=sealed, sealed=True, reason="witness"
    )
    walkers = [Persona("anonymous", None)] + [
        Persona(label, user, P.verified_client)
        for label, user in people.items()
        if label != "cn_caseworker"
    ]
    return {"users": people, "records": records, "personas": walkers, "agency": agency_a}


@pytest.fixture
def world(agency_a, agency_b, agency_cn):
    return _world(agency_a, agency_b, agency_cn, demo=True)


@pytest.fixture
def small_world(agency_a, agency_b, agency_cn):
    """The same people and records, without the demo data: the broken views below are tried
    with agency A's persons (the focus agency's records), which the demo data has none of."""
    return _world(agency_a, agency_b, agency_cn, demo=False)


def test_every_url_as_every_persona_is_denied_unless_declared(world):
    result = walk(world["personas"], focus_agency=world["agency"])
    assert not result.undeclared and not result.violations, result.report()

    # The walk reached every pattern, as every persona, with both methods.
    routes = {(r.route, r.name) for r in iter_routes()}
    seen = {(o.route.route, o.route.name) for o in result.observations}
    assert routes == seen, routes - seen
    per_route = {}
    for o in result.observations:
        per_route.setdefault((o.route.route, o.route.name), set()).add((o.persona, o.method))
    assert all(len(pairs) == len(world["personas"]) * 2 for pairs in per_route.values())

    # Not vacuous: real records were tried, and allowed people did get them.
    a = world["records"]["a"]
    got = {(o.method, o.url, o.persona): o.status for o in result.observations}
    assert got[("GET", f"/persons/{a.pk}/", "a_caseworker")] == 200
    assert got[("GET", f"/persons/{a.pk}/", "b_caseworker")] == 404
    assert got[("GET", f"/api/v1/persons/{a.pk}", "a_caseworker")] == 200
    assert got[("GET", f"/api/v1/persons/{a.pk}", "cn_police_focal")] == 404
    sealed = world["records"]["sealed"]
    assert got[("GET", f"/persons/{sealed.pk}/", "a_supervisor")] == 200  # holds the grant
    assert got[("GET", f"/persons/{sealed.pk}/", "a_caseworker")] == 404
    assert got[("GET", "/audit/", "a_data_protection_officer")] == 200
    assert got[("GET", "/audit/", "a_caseworker")] == 404
    # ... and every denial of a signed-in person was logged as a security event.
    denied = AuditEvent.objects.filter(action=Action.SECURITY, details__event="access_denied")
    assert denied.filter(actor_username="b_caseworker", object_id=str(a.pk)).exists()


def test_the_project_declares_a_permission_on_every_view():
    assert undeclared() == [], [str(r) for r in undeclared()]


@override_settings(ROOT_URLCONF=__name__)
def test_a_new_view_without_declared_permission_fails_the_walk(small_world):
    assert [r.name for r in undeclared(__name__)] == ["undeclared"]
    result = walk(small_world["personas"][:3], include=lambda r: r.name == "undeclared")
    assert [r.name for r in result.undeclared] == ["undeclared"]
    assert "view without a declared permission: /broken/undeclared/" in result.report()


def _broken(world, name):
    chosen = {"anonymous", "a_caseworker", "b_caseworker", "cn_police_focal", "a_me_officer"}
    personas = [p for p in world["personas"] if p.label in chosen]
    return walk(personas, include=lambda r: r.name == name, focus_agency=world["agency"])


@override_settings(ROOT_URLCONF=__name__)
def test_walker_catches_a_view_that_skips_the_object_rule(small_world):
    a = small_world["records"]["a"]
    result = _broken(small_world, "leaky_person")
    assert f"GET /broken/persons/{a.pk}/leaky/ as b_caseworker: answered 200" in result.report()
    assert f"GET /broken/persons/{a.pk}/leaky/ as cn_police_focal: answered 200" in result.report()
    assert f"/broken/persons/{a.pk}/leaky/ as a_caseworker" not in result.report()


@override_settings(ROOT_URLCONF=__name__)
def test_walker_catches_an_api_view_that_does_not_enforce_its_declaration(small_world):
    result = _broken(small_world, "unenforced_api")
    assert "GET /broken/api/ as a_me_officer: answered 200" in result.report()
    assert "as anonymous" not in result.report()  # DRF still asks anonymous to sign in


@override_settings(ROOT_URLCONF=__name__)
def test_walker_catches_forbidden_told_apart_from_missing(small_world):
    a = small_world["records"]["a"]
    report = _broken(small_world, "telling_person").report()
    assert (
        f"GET /broken/persons/{a.pk}/telling/ as b_caseworker: a denied request must answer 404"
        in (report)
    )
    assert "forbidden and missing must look the same" in report
