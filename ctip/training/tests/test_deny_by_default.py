"""The deny-by-default walk (security matrix #27) over this app's pages and API, with the
training demo loaded, so that real trainings, participants and certificates are tried by
every role, another agency and another country (see ctip.testing.urlwalk)."""

from __future__ import annotations

import pytest

from ctip.accounts.models import Role
from ctip.accounts.permissions import CAPABILITIES
from ctip.core.demo import load_demo as load_core_demo
from ctip.testing import personas as P
from ctip.testing.urlwalk import Persona, walk
from ctip.training.demo import load_demo
from ctip.training.models import Certificate, Participant

pytestmark = pytest.mark.django_db

RECORD_ROLES = [role for role in Role.values if "pii" in CAPABILITIES.get(role, {})]


def test_every_training_url_as_every_persona(agency_a, agency_b, agency_cn):
    load_core_demo("KH")
    load_demo("KH")
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
        include=lambda r: (
            r.name.startswith("training:")
            or r.name.startswith("api:training")
            or r.name == "api:trainings"
        ),
    )
    assert not result.undeclared and not result.violations, result.report()

    got = {(o.method, o.url, o.persona): o.status for o in result.observations}
    # Real records were tried: a certificate and a participant of the demo training, which
    # none of the walker's personas organises or holds, so all of them are told "not found".
    certificates = {str(pk) for pk in Certificate.objects.values_list("pk", flat=True)}
    participants = {str(pk) for pk in Participant.objects.values_list("pk", flat=True)}
    # (The walker also tries records of other apps' models of the same name, e.g. the
    # prevention app's certificates: each route's tried ids are a set.)
    tried: dict[str, set[str]] = {}
    for o in result.observations:
        if not o.sample_missing and o.route.name in (
            "training:certificate",
            "training:participant_detail",
        ):
            tried.setdefault(o.route.name, set()).add(o.url.split("/")[-2])
    [certificate] = tried["training:certificate"] & certificates
    [participant] = tried["training:participant_detail"] & participants
    for persona in ("a_supervisor", "a_me_officer", "cn_caseworker", "b_caseworker"):
        url = f"/training/certificates/{certificate}/"
        assert got[("GET", url, persona)] == 404
        url = f"/training/participants/{participant}/"
        assert got[("GET", url, persona)] == 404
    assert got[("GET", "/training/verify/", "anonymous")] == 200
    assert got[("GET", "/training/", "a_caseworker")] == 200
    assert got[("GET", "/training/", "a_data_protection_officer")] == 404
