"""Personas covering the permission model (STYLE.md): a caseworker of agency A, a colleague
at A, a caseworker of agency B, the other country's focal officer, a DPO, an M&E officer,
a node administrator. Every view or API test includes "the other user cannot see it"."""

from __future__ import annotations

import pytest
from hypothesis import settings as hypothesis_settings

from ctip.testing import personas

# Property tests check properties, never speed: Hypothesis's default deadline of 200 ms per
# example fails a test when a shared machine is busy, so no test has one.
hypothesis_settings.register_profile("ctip", deadline=None)
hypothesis_settings.load_profile("ctip")


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Argon2 stays the production hasher (tested in test_accounts); tests hash faster.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def agency_a(db):
    return personas.agency("kh-agency-a")


@pytest.fixture
def agency_b(db):
    return personas.agency("kh-agency-b", type="ngo")


@pytest.fixture
def agency_cn(db):
    return personas.agency("cn-agency", country="CN", type="police")


@pytest.fixture
def caseworker_a(agency_a):
    return personas.make_user("caseworker_a", agency_a, "caseworker").user


@pytest.fixture
def colleague_a(agency_a):
    return personas.make_user("colleague_a", agency_a, "caseworker").user


@pytest.fixture
def caseworker_b(agency_b):
    return personas.make_user("caseworker_b", agency_b, "caseworker").user


@pytest.fixture
def supervisor_a(agency_a):
    return personas.make_user("supervisor_a", agency_a, "supervisor").user


@pytest.fixture
def cn_focal(agency_cn):
    return personas.make_user("cn_focal", agency_cn, "police_focal").user


@pytest.fixture
def dpo(agency_a):
    return personas.make_user("dpo", agency_a, "data_protection_officer").user


@pytest.fixture
def me_officer(agency_a):
    return personas.make_user("me_officer", agency_a, "me_officer").user


@pytest.fixture
def node_admin(agency_a):
    return personas.make_user("node_admin", agency_a, "node_admin").user


@pytest.fixture
def client_of():
    return personas.verified_client
