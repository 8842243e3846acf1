"""Every finance URL (pages and API), as every role, anonymous and the other country, with
real finance records: only the roles the finance resource names get an answer; every other
signed-in person gets the one "not found", logged (security matrix #27)."""

from __future__ import annotations

import pytest

from ctip.accounts.models import Role
from ctip.core.demo import load_demo as core_demo
from ctip.finance.demo import load_demo
from ctip.finance.models import Meeting
from ctip.testing import personas as P
from ctip.testing.urlwalk import Persona, walk

pytestmark = pytest.mark.django_db


def test_every_finance_url_as_every_role(agency_a, agency_cn):
    core_demo("KH")  # may already load the finance demo
    load_demo("KH")
    assert Meeting.objects.count() == 2
    people = [Persona("anonymous", None)]
    for prefix, agency in (("a", agency_a), ("cn", agency_cn)):
        for role in Role.values:
            user = P.make_user(f"{prefix}_{role}", agency, role).user
            people.append(Persona(f"{prefix}_{role}", user, P.verified_client))

    result = walk(people, include=lambda r: "finance" in r.route)
    assert not result.undeclared and not result.violations, result.report()

    # Not vacuous: a real meeting was tried, and the allowed roles did get it.
    got = {(o.method, o.url, o.persona): o.status for o in result.observations}
    tried = [
        m
        for m in Meeting.objects.all()
        if ("GET", f"/finance/meetings/{m.pk}/", "anonymous") in got
    ]
    assert tried, "the walk tried no recorded meeting"
    meeting = tried[0]
    page = f"/finance/meetings/{meeting.pk}/"
    assert got[("GET", page, "a_me_officer")] == 200
    assert got[("GET", page, "cn_me_officer")] == 200  # the node's finance, not an agency's
    assert got[("GET", page, "a_supervisor")] == 200
    assert got[("GET", page, "a_node_admin")] == 200
    for persona in ("a_caseworker", "a_data_protection_officer", "cn_police_focal"):
        assert got[("GET", page, persona)] == 404
    assert got[("POST", f"/finance/meetings/{meeting.pk}/costs/", "a_supervisor")] == 404
    api = f"/api/v1/finance/meetings/{meeting.pk}"
    assert got[("GET", api, "a_me_officer")] == 200
    assert got[("GET", api, "a_shelter_staff")] == 404
