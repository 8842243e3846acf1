"""Sign-in: two-factor for the roles that need it, lockout, sessions, tokens, Argon2."""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ctip.accounts.lockout import name_token
from ctip.accounts.models import ApiToken
from ctip.accounts.permissions import TWO_FACTOR_ROLES, needs_two_factor
from ctip.accounts.services import token_create
from ctip.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def code_for(user, seconds_ago: int = 0) -> str:
    """The code the user's authenticator shows now, or showed ``seconds_ago``."""
    device = TOTPDevice.objects.get(user=user)
    value = totp(device.bin_key, step=device.step, t0=device.t0 + seconds_ago, digits=device.digits)
    return f"{value:0{device.digits}d}"


def test_two_factor_required_for_roles_that_see_personal_data():
    assert {
        "caseworker",
        "supervisor",
        "shelter_staff",
        "police_focal",
        "consular_focal",
        "node_admin",
        "directory_editor",
        "civil_registrar",
        "me_officer",  # manages training participants: names and contacts of officials
        "data_protection_officer",  # reads the audit log, reviews break-glass grants
    } <= set(TWO_FACTOR_ROLES)


def test_password_only_session_cannot_open_personal_data(caseworker_a):
    client = Client()
    response = sign_in(client, "caseworker_a")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/verify/")
    assert client.get("/persons/")["Location"] == "/accounts/verify/"
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/persons").status_code in (401, 403)


def test_totp_completes_sign_in_once_and_rejects_reuse_and_old_codes(caseworker_a, settings):
    # Failed codes slow further tries (django-otp throttling); off here to test each reason.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client = Client()
    sign_in(client, "caseworker_a")
    stale = code_for(caseworker_a, seconds_ago=90)
    assert client.post("/accounts/verify/", {"token": stale}).status_code == 400
    code = code_for(caseworker_a)
    assert client.post("/accounts/verify/", {"token": code})["Location"] == "/"
    assert client.get("/persons/").status_code == 200
    # The same code on a second session (another worker) is refused.
    other = Client()
    sign_in(other, "caseworker_a")
    assert other.post("/accounts/verify/", {"token": code}).status_code == 400
    assert (
        AuditEvent.objects.filter(
            action=Action.SECURITY, details__event="two_factor_failed"
        ).count()
        == 2
    )


def test_me_officer_needs_the_second_factor_then_lands_on_the_plan(me_officer):
    # SECURITY.md #29: the M&E officer manages training participants (names, positions
    # and contacts of officials), so a password alone opens nothing.
    assert needs_two_factor(me_officer)
    client = Client()
    assert sign_in(client, "me_officer")["Location"].startswith("/accounts/verify/")
    assert client.get("/plan/")["Location"] == "/accounts/verify/"
    assert client.get("/training/")["Location"] == "/accounts/verify/"
    assert client.get("/api/v1/me").status_code in (401, 403)
    assert client.post("/accounts/verify/", {"token": code_for(me_officer)})["Location"] == "/"
    # The secretariat's home is the Plan of Action dashboard.
    assert client.get("/")["Location"] == "/plan/"
    assert client.get("/plan/").status_code == 200
    assert client.get("/api/v1/me").json()["roles"] == ["me_officer"]


def test_the_dpo_needs_the_second_factor_before_the_audit_log(dpo, caseworker_a):
    # SECURITY.md #29: the audit log says who opened which record, from which address;
    # a DPO's password alone opens neither the page nor the API.
    assert needs_two_factor(dpo)
    client = Client()
    assert sign_in(client, "dpo")["Location"].startswith("/accounts/verify/")
    assert client.get("/audit/")["Location"] == "/accounts/verify/"
    assert client.get("/api/v1/audit/events").status_code in (401, 403)
    assert client.get("/api/v1/me").status_code in (401, 403)
    assert client.post("/accounts/verify/", {"token": code_for(dpo)})["Location"] == "/"
    assert client.get("/audit/").status_code == 200
    assert client.get("/api/v1/me").json()["roles"] == ["data_protection_officer"]


def test_wrong_password_plain_error_audit_and_lockout(caseworker_a):
    client = Client()
    first = sign_in(client, "caseworker_a", "wrong password")
    assert first.status_code == 400 and "not right" in first.content.decode()
    failed = AuditEvent.objects.filter(action=Action.LOGIN_FAILED).get()
    # The account by its id, never the name as typed (see test_sign_in_names.py).
    assert (failed.object_type, failed.object_id) == ("accounts.user", str(caseworker_a.pk))
    assert failed.details == {"account_exists": True}
    for _ in range(4):
        sign_in(client, "caseworker_a", "wrong password")
    locked = sign_in(client, "caseworker_a")  # even the right password is refused now
    assert locked.status_code == 429
    assert "locked" in locked.content.decode().lower()
    # Another address does not help (the lock is on the username) ...
    assert sign_in(Client(REMOTE_ADDR="10.9.9.9"), "caseworker_a").status_code == 429
    # ... and another user behind the same address is not affected.


def test_tries_during_a_lockout_do_not_prolong_it(caseworker_a):
    """Lockout abuse: a try every few minutes must not keep someone's account locked."""
    import datetime as dt

    from axes.models import AccessAttempt

    client = Client()
    for _ in range(5):
        sign_in(client, "caseworker_a", "wrong password")
    key = name_token("caseworker_a")  # what axes counts by (ctip.accounts.lockout)
    locked_at = AccessAttempt.objects.get(username=key).attempt_time
    for _ in range(3):
        assert sign_in(Client(REMOTE_ADDR="10.9.9.8"), "caseworker_a", "guess").status_code == 429
    attempt = AccessAttempt.objects.get(username=key)
    assert attempt.attempt_time == locked_at  # the tries did not restart the lock
    # Half an hour after the lock began, the right password works again.
    attempt.attempt_time = locked_at - dt.timedelta(minutes=31)
    attempt.save(update_fields=["attempt_time"])
    assert sign_in(Client(), "caseworker_a").status_code == 302


def test_lockout_does_not_hit_other_users_on_same_address(caseworker_a, colleague_a):
    client = Client()
    for _ in range(5):
        sign_in(client, "caseworker_a", "wrong password")
    assert sign_in(Client(), "colleague_a").status_code == 302


def test_session_rotates_at_login_and_idle_expiry(caseworker_a):
    client = Client()
    client.get("/accounts/login/")
    sign_in(client, "caseworker_a")
    first_key = client.session.session_key
    client.post("/accounts/verify/", {"token": code_for(caseworker_a)})
    assert client.session.session_key != first_key
    assert client.get("/persons/").status_code == 200
    session = client.session
    session["ctip_seen_at"] = int(time.time()) - django_settings.CTIP_SESSION_IDLE_SECONDS - 5
    session.save()
    response = client.get("/persons/")
    assert response.status_code == 302 and "expired=idle" in response["Location"]
    assert client.get("/persons/")["Location"].startswith("/accounts/login/")


def test_absolute_session_expiry(caseworker_a, client_of):
    client = client_of(caseworker_a)
    assert client.get("/persons/").status_code == 200
    session = client.session
    session["ctip_login_at"] = int(time.time()) - django_settings.SESSION_COOKIE_AGE - 5
    session.save()
    assert "expired=absolute" in client.get("/persons/")["Location"]


def test_api_tokens_are_stored_hashed_and_can_be_revoked(caseworker_a):
    raw = token_create(actor=None, user=caseworker_a)
    stored = ApiToken.objects.get()
    assert raw not in (stored.key_hash, stored.prefix) and len(stored.prefix) == 8
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/me", **auth).json()["username"] == "caseworker_a"
    stored.revoked_at = stored.created_at
    stored.save()
    assert client.get("/api/v1/me", **auth).status_code == 401
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401


def test_production_hasher_is_argon2():
    from ctip import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_totp_secret_is_not_in_plain_text_anywhere_but_the_device_row(caseworker_a):
    # django-otp keeps the seed in its own row (it must read it to check codes); the
    # key ring-encrypted backup covers it. Here: it is never in the audit log.
    device = TOTPDevice.objects.get(user=caseworker_a)
    assert all(device.key not in str(e.details) for e in AuditEvent.objects.all())
