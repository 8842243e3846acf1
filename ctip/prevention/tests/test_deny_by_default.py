"""The deny-by-default walk (security matrix #27) over this app's pages and API with the
demo loaded, so real strategy versions, packages and certificates are tried by every role,
another agency and another country (see ctip.testing.urlwalk)."""

from __future__ import annotations

import pytest

from ctip.accounts.models import Role
from ctip.core.demo import load_demo as load_core_demo
from ctip.prevention.models import CivilCertificate
from ctip.testing import personas as P
from ctip.testing.urlwalk import Persona, walk

pytestmark = pytest.mark.django_db


@pytest.mark.urls("ctip.prevention.tests.urls")
def test_every_prevention_url_as_every_persona(agency_a, agency_b, agency_cn):
    load_core_demo("KH")
    people = {}
    for prefix, agency, roles in (
        ("a", agency_a, Role.values),
        ("b", agency_b, [Role.CIVIL_REGISTRAR, Role.ME_OFFICER]),
        ("cn", agency_cn, [Role.CIVIL_REGISTRAR]),
    ):
        for role in roles:
            people[f"{prefix}_{role}"] = P.make_user(f"{prefix}_{role}", agency, role).user
    walkers = [Persona("anonymous", None)] + [
        Persona(label, user, P.verified_client) for label, user in people.items()
    ]
    result = walk(
        walkers,
        include=lambda r: (
            r.name.startswith("prevention:")
            or r.name.startswith("api:prevention")
            or r.name == "verify"
        ),
    )
    assert not result.undeclared and not result.violations, result.report()
    got = {(o.method, o.url, o.persona): o.status for o in result.observations}
    certificate = CivilCertificate.objects.get()
    url = f"/prevention/certificates/{certificate.pk}/"
    # The demo certificate is of kh-moi-gdi: no walker's registrar is of that authority.
    for persona in ("a_civil_registrar", "b_civil_registrar", "cn_civil_registrar"):
        assert got[("GET", url, persona)] == 404
