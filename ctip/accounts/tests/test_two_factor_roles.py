"""SECURITY.md #29 for every role, taken from the role definitions rather than a hand list:
each role marked as needing two factors (``TWO_FACTOR_ROLES``: every role that may see
personal data, plus the node administrator, the directory editor, the civil registration
officer, the M&E officer and the data protection officer) gets no page and no API answer
with a password alone; the others sign in with a password (today there are none)."""

from __future__ import annotations

import pytest
from django.test import Client

from ctip.accounts.models import Role
from ctip.accounts.permissions import CAPABILITIES, TWO_FACTOR_ROLES, needs_two_factor
from ctip.testing import personas

pytestmark = pytest.mark.django_db


def test_the_two_factor_roles_follow_from_the_capabilities():
    seeing_personal_data = {role for role, caps in CAPABILITIES.items() if "pii" in caps}
    assert seeing_personal_data, "no role sees personal data: the rule is broken"
    assert seeing_personal_data <= TWO_FACTOR_ROLES
    assert set(Role.values) >= TWO_FACTOR_ROLES  # no stale role names
    # Not seeing personal fields, but managing what the public sees, the accounts,
    # reading holders' names and numbers on certificates, managing training
    # participants (names and contacts of officials), or reading the audit log.
    assert {
        Role.NODE_ADMIN,
        Role.DIRECTORY_EDITOR,
        Role.CIVIL_REGISTRAR,
        Role.ME_OFFICER,
        Role.DATA_PROTECTION_OFFICER,
    } <= TWO_FACTOR_ROLES


@pytest.mark.parametrize("role", Role.values)
def test_a_password_alone_is_enough_only_for_roles_without_two_factors(role, agency_a):
    user = personas.make_user(f"user_{role}", agency_a, role).user
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": personas.PASSWORD}
    )
    assert response.status_code == 302
    home = client.get("/")
    api = client.get("/api/v1/me")
    if role in TWO_FACTOR_ROLES:
        assert needs_two_factor(user)
        assert response["Location"].startswith("/accounts/verify/")
        assert home.status_code == 302 and home["Location"] == "/accounts/verify/"
        assert api.status_code in (401, 403)
        # The verified session of the same user gets in: the refusal was the second factor
        # (the home page, or the role's own start page: the M&E officer's is the plan).
        verified = personas.verified_client(user).get("/", follow=True)
        assert verified.status_code == 200
        assert not verified.redirect_chain or verified.redirect_chain[-1][0] == "/plan/"
    else:
        assert not needs_two_factor(user)
        assert not response["Location"].startswith("/accounts/verify/")
        # The home page, or the role's own start page.
        assert home.status_code == 200 or not home["Location"].startswith("/accounts/")
        assert api.status_code == 200
