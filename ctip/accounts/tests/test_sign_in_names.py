"""No name typed at sign-in is kept (SECURITY.md #30, DP-6): someone who types their
password into the name field must not find it in the audit log, in django-axes' tables or
in the log lines. A failed sign-in names an existing account by its id; another name is
kept only as a keyed token, the same for every try of that name, so repeated tries can be
followed. The lock per account still works, counted by that token."""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client, TestCase

from ctip.accounts import lockout
from ctip.accounts.lockout import name_token
from ctip.audit.models import Action, AuditEvent
from ctip.testing import personas

pytestmark = pytest.mark.django_db

# A password typed into the name field: it must end up nowhere.
TYPED_PASSWORD = "Canary-Passw0rd-Xq7"  # noqa: S105 - a canary, no account has it
WRONG = "wrong but harmless"  # noqa: S105 - no account has it


def sign_in(username: str, password: str = WRONG, address: str = "127.0.0.1"):
    return Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def everything_kept() -> str:
    """Every audit row and every row of axes' tables, as text."""
    rows = [
        (e.actor_username, e.object_type, e.object_id, e.fields, e.details, e.ip)
        for e in AuditEvent.objects.all()
    ]
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        rows += list(model.objects.values_list())
    return repr(rows)


def test_a_password_typed_as_the_name_is_kept_nowhere(caseworker_a, dpo, client_of, caplog):
    caplog.set_level(logging.DEBUG)
    with TestCase.captureOnCommitCallbacks(execute=True):
        answers = [sign_in(TYPED_PASSWORD, address=f"10.1.1.{i}") for i in range(6)]
    # The name was tried five times and locked, as any name is.
    assert [a.status_code for a in answers] == [400] * 4 + [429] * 2
    failed = AuditEvent.objects.filter(action=Action.LOGIN_FAILED)
    assert failed.count() == 6
    expected = {"account_exists": False, "name_token": name_token(TYPED_PASSWORD)}
    assert [(e.object_id, e.details) for e in failed] == [("", expected)] * 6
    locked = AuditEvent.objects.get(details__event="account_locked_out")
    assert locked.details["name_token"] == name_token(TYPED_PASSWORD)
    # axes counted the tries by the token.
    attempts = AccessAttempt.objects.all()
    assert {a.username for a in attempts} == {name_token(TYPED_PASSWORD)}
    assert sum(a.failures_since_start for a in attempts) == 5

    # The DPO's audit page and API show the failed sign-ins, without the name.
    dpo_client = client_of(dpo)
    page = dpo_client.get("/audit/", {"action": "login_failed"})
    assert page.status_code == 200 and page.content.decode().count("accounts.user") == 6
    api = dpo_client.get("/api/v1/audit/events", {"action": "login_failed"})
    assert api.status_code == 200 and len(api.json()["results"]) == 6

    kept = everything_kept() + page.content.decode() + api.content.decode() + caplog.text
    for form in (TYPED_PASSWORD, TYPED_PASSWORD.lower(), "Canary-Passw0rd"):
        assert form not in kept, form


def test_an_existing_account_is_named_by_its_id_not_by_the_name_typed(caseworker_a):
    sign_in("caseworker_a")
    sign_in("Caseworker_A")  # not the account (usernames match exactly): a token
    known, other = AuditEvent.objects.filter(action=Action.LOGIN_FAILED).order_by("seq")
    assert (known.object_type, known.object_id) == ("accounts.user", str(caseworker_a.pk))
    assert known.details == {"account_exists": True}
    assert other.object_id == ""
    assert other.details == {"account_exists": False, "name_token": name_token("Caseworker_A")}
    assert "caseworker_a" not in repr([known.details, other.details])


def test_one_unknown_name_tried_again_can_be_followed_and_told_from_another(db):
    for name in ("Canaryname Sokha", "canaryname  SOKHA", "Canaryname Dara"):
        sign_in(name)
    tokens = [
        e.details["name_token"]
        for e in AuditEvent.objects.filter(action=Action.LOGIN_FAILED).order_by("seq")
    ]
    # Case and spacing do not make another name; another name is another token.
    assert tokens[0] == tokens[1] != tokens[2]
    assert all(len(t) == 32 and "anary" not in t for t in tokens)
    # The token is keyed, with its own purpose: not a plain hash of the name, and not the
    # token the person search makes of the same words.
    import hashlib

    from ctip.core.crypto import index_token

    assert tokens[0] not in hashlib.sha256(b"canaryname sokha").hexdigest()
    assert tokens[0] != index_token("Canaryname Sokha", "person.name")


def test_the_lock_per_account_still_counts_by_the_token_and_a_sign_in_clears_it(
    caseworker_a, colleague_a
):
    for _ in range(3):
        sign_in("caseworker_a", address="10.2.2.2")
    assert lockout.lock_state("caseworker_a").failures == 3
    # The right password clears the count (AXES_RESET_ON_SUCCESS), through the same token.
    assert sign_in("caseworker_a", personas.PASSWORD).status_code == 302
    assert lockout.lock_state("caseworker_a").failures == 0
    assert not AccessAttempt.objects.exists()
    for _ in range(5):
        sign_in("caseworker_a")
    state = lockout.lock_state("caseworker_a")
    assert state.locked and state.failures == 5
    assert sign_in("caseworker_a", personas.PASSWORD).status_code == 429
    # Another account is not locked by it.
    assert not lockout.lock_state("colleague_a").locked
    assert sign_in("colleague_a", personas.PASSWORD).status_code == 302
    # axes keeps no log of its own of who signed in (the audit log has it).
    assert not AccessLog.objects.exists() and not AccessFailureLog.objects.exists()


def test_tries_recorded_before_the_upgrade_become_tokens_and_keep_counting(caseworker_a):
    from importlib import import_module

    migration = import_module("ctip.accounts.migrations.0005_axes_names_as_tokens")
    common = {"user_agent": "ua", "ip_address": "10.3.3.3", "get_data": "", "post_data": ""}
    common |= {"http_accept": "", "path_info": "/accounts/login/"}
    AccessAttempt.objects.create(username="caseworker_a", failures_since_start=3, **common)
    AccessAttempt.objects.create(username="CASEWORKER_A ", failures_since_start=2, **common)
    AccessAttempt.objects.create(username=TYPED_PASSWORD, failures_since_start=1, **common)

    migration.names_to_tokens(django_apps, connection.schema_editor())

    assert sorted(AccessAttempt.objects.values_list("username", "failures_since_start")) == sorted(
        [(name_token("caseworker_a"), 5), (name_token(TYPED_PASSWORD), 1)]
    )
    assert lockout.lock_state("caseworker_a").locked
    assert sign_in("caseworker_a", personas.PASSWORD).status_code == 429
    assert TYPED_PASSWORD not in everything_kept()
