"""Named people who cover the permission model, for tests (see conftest.py)."""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from ctip.accounts.models import Agency
from ctip.accounts.services import AgencyInput, agency_upsert, user_create


def agency(code: str, country: str = "KH", type: str = "ministry") -> Agency:
    return agency_upsert(actor=None, data=AgencyInput(code, f"Agency {code}", type, country))


PASSWORD = "correct horse battery"  # noqa: S105 - test personas only


def make_user(username: str, agency: Agency, *roles: str, password: str = PASSWORD):
    return user_create(
        actor=None, username=username, agency=agency, roles=list(roles), password=password
    )


def verified_client(user) -> Client:
    """A browser session that completed password and two-factor sign-in."""
    client = Client()
    client.force_login(user)
    device = user.totpdevice_set.get()
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
