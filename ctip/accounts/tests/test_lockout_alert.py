"""SECURITY.md #30, the alert: when django-axes locks sign-in after too many failures (the
real lock, by wrong passwords through the sign-in page), a security event is recorded and
the node's data protection officers are told at once, once per lock, with references only:
no username, no password, no address. The lock itself is tested in ``test_auth.py``."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client, TestCase

from ctip.accounts import alerts
from ctip.accounts.lockout import name_token
from ctip.audit.models import Action, AuditEvent
from ctip.testing import personas

pytestmark = pytest.mark.django_db

WRONG = "Canarypassword wrong 1"


def fail(username: str, address: str = "127.0.0.1", password: str = WRONG):
    return Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def locked_events():
    return AuditEvent.objects.filter(action=Action.SECURITY, details__event="account_locked_out")


@pytest.fixture
def dpo_with_address(dpo):
    dpo.email = "dpo@example.org"
    dpo.save(update_fields=["email"])
    return dpo


def test_one_username_from_many_addresses_is_locked_and_the_dpo_told_once(
    dpo_with_address, caseworker_a, agency_a
):
    # A second DPO without an address and a caseworker with one: only DPOs with an address
    # are written to.
    personas.make_user("dpo_no_mail", agency_a, "data_protection_officer")
    caseworker_a.email = "caseworker@example.org"
    caseworker_a.save(update_fields=["email"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        answers = [fail("caseworker_a", f"10.0.0.{i}") for i in range(1, 5)]
    assert [a.status_code for a in answers] == [400] * 4
    assert mail.outbox == [] and not locked_events().exists()  # four failures lock nothing

    with TestCase.captureOnCommitCallbacks(execute=True):
        fifth = fail("caseworker_a", "10.0.0.5")
    assert fifth.status_code == 429

    event = locked_events().get()
    assert event.object_type == "accounts.user" and event.object_id == str(caseworker_a.pk)
    assert event.details == {
        "event": "account_locked_out",
        "account_exists": True,
        "failures": 5,
        "unlocks_after_minutes": 30,
    }
    assert event.ip == "10.0.0.5" and event.actor_id is None
    assert [m.to for m in mail.outbox] == [["dpo@example.org"]]
    alert = mail.outbox[0]
    assert "locked" in alert.subject
    assert f"id {caseworker_a.pk}" in alert.body and f"number {event.seq}" in alert.body
    assert f"/accounts/users/{caseworker_a.pk}/" in alert.body
    text = alert.subject + alert.body
    for secret in ("caseworker_a", "Canarypassword", "10.0.0."):
        assert secret not in text, secret
    assert not any("Canarypassword" in str(e.details) for e in AuditEvent.objects.all())

    # Tries while the lock holds, even with the right password, tell nobody again.
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert fail("caseworker_a", "10.0.0.6").status_code == 429
        assert fail("caseworker_a", password=personas.PASSWORD).status_code == 429
    assert locked_events().count() == 1 and len(mail.outbox) == 1


def test_a_forged_forwarded_address_neither_moves_the_lock_nor_reaches_the_alert(
    dpo_with_address, caseworker_a, colleague_a
):
    with TestCase.captureOnCommitCallbacks(execute=True):
        for i in range(5):
            Client(HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").post(
                "/accounts/login/", {"username": "caseworker_a", "password": WRONG}
            )
    event = locked_events().get()
    assert event.ip == "127.0.0.1"  # the socket address, not the header
    assert "203.0.113" not in mail.outbox[0].body
    # A colleague behind the same address signs in as usual, and no alert names them.
    assert (
        Client()
        .post("/accounts/login/", {"username": "colleague_a", "password": personas.PASSWORD})
        .status_code
        == 302
    )
    assert len(mail.outbox) == 1


def test_names_that_are_no_account_are_recorded_and_told_once_per_period(dpo_with_address):
    with TestCase.captureOnCommitCallbacks(execute=True):
        for name in ("Canaryname one", "Canaryname two"):
            for _ in range(5):
                fail(name)
    events = list(locked_events().order_by("seq"))
    assert len(events) == 2
    assert all(e.object_id == "" and e.details["account_exists"] is False for e in events)
    # Each name by its keyed token: told apart, and never as typed.
    assert [e.details["name_token"] for e in events] == [
        name_token("Canaryname one"),
        name_token("Canaryname two"),
    ]
    assert len(mail.outbox) == 1  # the second lock in the period is in the audit log only
    alert = mail.outbox[0]
    assert "no account" in alert.subject
    assert "Canaryname" not in alert.subject + alert.body
    assert not any("Canaryname" in str(e.details) for e in events)


@pytest.mark.parametrize("failure", ["no address", "mail server down"])
def test_an_alert_that_cannot_be_sent_is_recorded_not_pretended(
    failure, dpo, caseworker_a, monkeypatch
):
    if failure == "mail server down":
        dpo.email = "dpo@example.org"
        dpo.save(update_fields=["email"])

        def refuse(*args, **kwargs):
            raise ConnectionRefusedError("no mail server")

        monkeypatch.setattr(alerts, "send_mail", refuse)
    with TestCase.captureOnCommitCallbacks(execute=True):
        for _ in range(5):
            fail("caseworker_a")
    assert locked_events().count() == 1 and mail.outbox == []
    not_sent = AuditEvent.objects.get(action=Action.SECURITY, details__event="dpo_alert_not_sent")
    assert not_sent.object_type == "accounts.user"
    assert not_sent.object_id == str(caseworker_a.pk)
    assert not_sent.details == {
        "event": "dpo_alert_not_sent",
        "recipients": 0 if failure == "no address" else 1,
        "about": "account_locked_out",
    }
