"""The deny-by-default walk (security matrix #27) over this app's pages and API, with the
enforcement demo loaded, so that real law-enforcement cases, requests and meetings are
tried by every role, another agency and another country (see ctip.testing.urlwalk)."""

from __future__ import annotations

import pytest

from ctip.accounts.models import Role
from ctip.accounts.permissions import CAPABILITIES
from ctip.core.demo import load_demo as load_core_demo
from ctip.enforcement.models import LeCase
from ctip.testing import personas as P
from ctip.testing.urlwalk import Persona, walk

pytestmark = pytest.mark.django_db

RECORD_ROLES = [role for role in Role.values if "pii" in CAPABILITIES.get(role, {})]


def test_every_enforcement_url_as_every_persona(agency_a, agency_b, agency_cn):
    load_core_demo("KH")  # runs this app's demo too
    people = {}
    for prefix, agency, roles in (
        ("a", agency_a, Role.values),
        ("b", agency_b, RECORD_ROLES),
        ("cn", agency_cn, RECORD_ROLES),
    ):
        for role in roles:
            people[f"{prefix}_{role}"] = P.make_user(f"{prefix}_{role}", agency, role).user
    walkers = [Persona("anonymous", None)] + [
        Persona(label, user, P.verified_client) for label, user in people.items()
    ]
    result = walk(
        walkers,
        include=lambda r: r.name.startswith("enforcement:") or r.name.startswith("api:enforcement"),
    )
    assert not result.undeclared and not result.violations, result.report()

    got = {(o.method, o.url, o.persona): o.status for o in result.observations}
    # The demo's law-enforcement case (of the demo police agency) was tried: police of other
    # agencies get "not found", and so does every social worker.
    cases = {str(pk) for pk in LeCase.objects.values_list("pk", flat=True)}
    tried = [
        o
        for o in result.observations
        if o.route.name == "enforcement:case" and not o.sample_missing
    ]
    assert tried and tried[0].url.split("/")[-2] in cases
    url = tried[0].url
    for persona in ("a_police_focal", "cn_police_focal", "a_caseworker", "a_supervisor"):
        assert got[("GET", url, persona)] == 404
    assert got[("GET", "/enforcement/", "a_police_focal")] == 200
    for persona in ("a_caseworker", "a_supervisor", "a_shelter_staff", "a_node_admin"):
        assert got[("GET", "/enforcement/", persona)] == 404
    assert got[("GET", "/enforcement/indicators/", "a_me_officer")] == 200
