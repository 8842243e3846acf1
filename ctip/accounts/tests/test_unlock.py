"""SECURITY.md #30, lifting a lock: the node administrator unlocks an account that
django-axes locked after failed sign-ins, from the account's page (a POST with the CSRF
token, shown only while the account is locked) or with ``ctip user unlock``. The failed
attempts of that account alone are forgotten, the user signs in at once, and the audit log
says who unlocked whom. Nobody else may do it, a GET does nothing, and a request without
the CSRF token is refused."""

from __future__ import annotations

from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from ctip.accounts import lockout
from ctip.accounts.lockout import name_token
from ctip.audit.models import Action, AuditEvent
from ctip.testing import personas

pytestmark = pytest.mark.django_db

WRONG = "not the password"  # noqa: S105 - no account has it
UNLOCK_BUTTON = "Unlock</button>"


def lock(username: str) -> None:
    for i in range(5):
        Client(REMOTE_ADDR=f"10.4.4.{i}").post(
            "/accounts/login/", {"username": username, "password": WRONG}
        )
    assert lockout.lock_state(username).locked


def password_works(username: str) -> bool:
    answer = Client().post(
        "/accounts/login/", {"username": username, "password": personas.PASSWORD}
    )
    return answer.status_code == 302


def unlocked_events(user=None):
    events = AuditEvent.objects.filter(action=Action.SECURITY, details__event="account_unlocked")
    return events.filter(object_id=str(user.pk)) if user is not None else events


def test_the_administrator_unlocks_a_locked_account_from_its_page(
    node_admin, caseworker_a, colleague_a, client_of
):
    lock("caseworker_a")
    lock("colleague_a")
    admin = client_of(node_admin)
    page = admin.get(f"/accounts/users/{caseworker_a.pk}/").content.decode()
    assert "locked after too many failed attempts" in page and UNLOCK_BUTTON in page
    assert f'action="/accounts/users/{caseworker_a.pk}/unlock/"' in page

    response = admin.post(f"/accounts/users/{caseworker_a.pk}/unlock/", follow=True)

    assert response.redirect_chain == [(f"/accounts/users/{caseworker_a.pk}/", 302)]
    body = response.content.decode()
    assert "Sign-in to caseworker_a is unlocked" in body
    assert '<dd id="sign-in-lock">not locked</dd>' in body and UNLOCK_BUTTON not in body
    assert not AccessAttempt.objects.filter(username=name_token("caseworker_a")).exists()
    assert password_works("caseworker_a")
    # Only that account: the colleague stays locked.
    assert lockout.lock_state("colleague_a").locked and not password_works("colleague_a")
    event = unlocked_events(caseworker_a).get()
    assert event.actor_username == "node_admin" and event.object_type == "accounts.user"
    assert event.details == {"event": "account_unlocked", "was_locked": True, "failures": 5}
    assert not unlocked_events(colleague_a).exists()


def test_an_account_that_is_not_locked_shows_no_unlock_and_a_post_changes_nothing(
    node_admin, caseworker_a, client_of
):
    admin = client_of(node_admin)
    page = admin.get(f"/accounts/users/{caseworker_a.pk}/").content.decode()
    assert '<dd id="sign-in-lock">not locked</dd>' in page and UNLOCK_BUTTON not in page
    response = admin.post(f"/accounts/users/{caseworker_a.pk}/unlock/", follow=True)
    assert "caseworker_a was not locked." in response.content.decode()
    assert not unlocked_events().exists()


def test_a_get_unlocks_nothing(node_admin, caseworker_a, client_of):
    lock("caseworker_a")
    admin = client_of(node_admin)
    assert admin.get(f"/accounts/users/{caseworker_a.pk}/unlock/").status_code == 405
    assert lockout.lock_state("caseworker_a").locked and not unlocked_events().exists()


def test_an_unlock_without_the_csrf_token_is_refused(node_admin, caseworker_a):
    lock("caseworker_a")
    # The administrator's own verified browser, checking CSRF as a real one does.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(node_admin)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = node_admin.totpdevice_set.get().persistent_id
    session.save()
    url = f"/accounts/users/{caseworker_a.pk}/unlock/"
    assert browser.post(url).status_code == 403  # a forged form from another site
    assert lockout.lock_state("caseworker_a").locked and not unlocked_events().exists()
    # The same browser with the page's token gets through: the refusal was the token.
    page = browser.get(f"/accounts/users/{caseworker_a.pk}/")
    token = page.context["csrf_token"]
    assert browser.post(url, {"csrfmiddlewaretoken": str(token)}).status_code == 302
    assert not lockout.lock_state("caseworker_a").locked


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("caseworker_a", 404),
        ("supervisor_a", 404),
        ("dpo", 404),
        ("me_officer", 404),
        ("cn_focal", 404),
        ("anonymous", 302),
    ],
)
def test_nobody_but_the_administrator_unlocks(who, expected, request, colleague_a, client_of):
    lock("colleague_a")
    client = Client() if who == "anonymous" else client_of(request.getfixturevalue(who))
    for url in (
        f"/accounts/users/{colleague_a.pk}/unlock/",
        "/accounts/users/987654/unlock/",  # a user that does not exist: the same answer
    ):
        response = client.post(url)
        assert response.status_code == expected, url
        if expected == 302:
            assert response["Location"].startswith("/accounts/login/")
    assert lockout.lock_state("colleague_a").locked and not unlocked_events().exists()
    if who != "anonymous":
        denied = AuditEvent.objects.filter(
            action=Action.SECURITY, details__event="access_denied", actor_username=who
        )
        assert denied.filter(object_type="user", details__action="change").count() == 2


def test_a_password_alone_does_not_unlock(node_admin, colleague_a):
    lock("colleague_a")
    client = Client()
    client.post("/accounts/login/", {"username": "node_admin", "password": personas.PASSWORD})
    response = client.post(f"/accounts/users/{colleague_a.pk}/unlock/")
    assert response["Location"] == "/accounts/verify/"
    assert lockout.lock_state("colleague_a").locked and not unlocked_events().exists()


def test_the_command_unlocks_and_says_what_it_did(caseworker_a, colleague_a):
    lock("caseworker_a")
    out = StringIO()
    call_command("user", "unlock", "--username", "caseworker_a", stdout=out)
    assert out.getvalue() == "Unlocked sign-in of caseworker_a\n"
    assert password_works("caseworker_a")
    event = unlocked_events(caseworker_a).get()
    assert event.actor_id is None and event.details["was_locked"] is True

    out = StringIO()
    call_command("user", "unlock", "--username", "colleague_a", stdout=out)
    assert out.getvalue() == "colleague_a was not locked\n"
    assert unlocked_events().count() == 1
    with pytest.raises(CommandError, match="--username"):
        call_command("user", "unlock", "--username", "nobody")
