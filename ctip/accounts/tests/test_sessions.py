"""SECURITY.md #31, "admin kill": the node administrator ends every session of a user (page
and ``ctip user end-sessions``), and deactivating a user, a new password or a role taken
away end their sessions at once. The killed browser's next request is signed out (pages go
to sign-in, the API answers 401), the stored sessions are gone, and the audit log says who
ended whose sessions and why. Nobody else may do it, and they learn nothing by trying."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ctip.accounts import services
from ctip.accounts.models import Role
from ctip.audit.models import Action, AuditEvent
from ctip.testing import personas

pytestmark = pytest.mark.django_db


def sessions_of(user) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user.pk))


def signed_out(client: Client) -> bool:
    """The page answers with the sign-in page and the API with 401: the cookie is dead."""
    page = client.get("/persons/")
    api = client.get("/api/v1/me")
    return (
        page.status_code == 302
        and page["Location"].startswith("/accounts/login/")
        and (api.status_code == 401)
    )


def signed_in_as(client: Client, username: str) -> bool:
    response = client.get("/api/v1/me")
    return response.status_code == 200 and response.json()["username"] == username


def ended_events(user):
    return AuditEvent.objects.filter(
        action=Action.SECURITY,
        details__event="sessions_ended",
        object_type="accounts.user",
        object_id=str(user.pk),
    )


def test_the_administrator_ends_every_session_of_a_user(
    node_admin, caseworker_a, colleague_a, client_of
):
    laptop, phone = client_of(caseworker_a), client_of(caseworker_a)
    colleague = client_of(colleague_a)
    assert signed_in_as(laptop, "caseworker_a") and signed_in_as(phone, "caseworker_a")
    admin = client_of(node_admin)
    listing = admin.get("/accounts/users/")
    assert listing.status_code == 200 and "caseworker_a" in listing.content.decode()
    page = admin.get(f"/accounts/users/{caseworker_a.pk}/")
    assert page.status_code == 200
    assert '<dd id="open-sessions">2</dd>' in page.content.decode()

    response = admin.post(f"/accounts/users/{caseworker_a.pk}/end-sessions/", follow=True)

    assert response.status_code == 200
    assert '<dd id="open-sessions">0</dd>' in response.content.decode()
    assert "All sessions of caseworker_a were ended (2 open)." in response.content.decode()
    assert signed_out(laptop) and signed_out(phone)
    assert sessions_of(caseworker_a) == 0
    # Only that user: the colleague and the administrator carry on.
    assert signed_in_as(colleague, "colleague_a") and signed_in_as(admin, "node_admin")
    event = ended_events(caseworker_a).get()
    assert event.actor_username == "node_admin"
    assert event.details == {"event": "sessions_ended", "reason": "administrator", "sessions": 2}
    # The user signs in again as usual: the kill ended sessions, not the account.
    caseworker_a.refresh_from_db()  # a sign-in reads the account afresh
    assert signed_in_as(client_of(caseworker_a), "caseworker_a")


def test_the_killed_cookie_stays_dead_when_replayed(node_admin, caseworker_a, client_of):
    victim = client_of(caseworker_a)
    cookie = victim.cookies["sessionid"].value
    services.user_sessions_end(actor=node_admin, user=caseworker_a)
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert signed_out(replay)
    replay.cookies["sessionid"] = cookie  # the first answer cleared it; send it once more
    assert replay.get("/api/v1/me").status_code == 401


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
def test_nobody_but_the_administrator_ends_sessions(
    who, expected, request, colleague_a, client_of, node_admin
):
    victim = client_of(colleague_a)
    client = Client() if who == "anonymous" else client_of(request.getfixturevalue(who))
    for url in (
        f"/accounts/users/{colleague_a.pk}/end-sessions/",
        "/accounts/users/987654/end-sessions/",  # a user that does not exist: the same answer
    ):
        response = client.post(url)
        assert response.status_code == expected, url
        if expected == 302:
            assert response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/users/").status_code == expected
    assert client.get(f"/accounts/users/{colleague_a.pk}/").status_code == expected
    assert signed_in_as(victim, "colleague_a")
    assert not ended_events(colleague_a).exists()
    if who != "anonymous":
        denied = AuditEvent.objects.filter(
            action=Action.SECURITY, details__event="access_denied", actor_username=who
        )
        assert denied.filter(object_type="user").count() == 4


def test_a_password_alone_does_not_open_the_accounts_pages(node_admin, colleague_a, client_of):
    victim = client_of(colleague_a)
    client = Client()
    client.post("/accounts/login/", {"username": "node_admin", "password": personas.PASSWORD})
    assert client.get("/accounts/users/")["Location"] == "/accounts/verify/"
    response = client.post(f"/accounts/users/{colleague_a.pk}/end-sessions/")
    assert response["Location"] == "/accounts/verify/"
    assert signed_in_as(victim, "colleague_a") and not ended_events(colleague_a).exists()


def test_an_administrator_who_ends_their_own_sessions_is_signed_out_at_once(node_admin, client_of):
    admin, other_browser = client_of(node_admin), client_of(node_admin)
    response = admin.post(f"/accounts/users/{node_admin.pk}/end-sessions/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert signed_out(admin) and signed_out(other_browser)
    assert ended_events(node_admin).get().details["sessions"] == 2


def test_a_missing_account_is_not_found_for_the_administrator(node_admin, client_of):
    admin = client_of(node_admin)
    assert admin.get("/accounts/users/987654/").status_code == 404
    assert admin.post("/accounts/users/987654/end-sessions/").status_code == 404
    assert (
        AuditEvent.objects.filter(
            details__event="access_denied", object_type="user", object_id="987654"
        ).count()
        == 2
    )


@pytest.mark.parametrize("change", ["deactivated", "password_changed", "role_removed"])
def test_deactivation_a_new_password_or_a_role_taken_away_end_sessions_at_once(
    change, node_admin, supervisor_a, client_of
):
    browser = client_of(supervisor_a)
    assert signed_in_as(browser, "supervisor_a")
    if change == "deactivated":
        services.user_set_active(actor=node_admin, user=supervisor_a, active=False)
    elif change == "password_changed":
        services.user_set_password(
            actor=node_admin, user=supervisor_a, password="a new long passphrase 42"
        )
    else:
        services.role_remove(actor=node_admin, user=supervisor_a, role=Role.SUPERVISOR)
    assert signed_out(browser)
    assert sessions_of(supervisor_a) == 0
    event = ended_events(supervisor_a).get()
    assert event.details["reason"] == change and event.details["sessions"] == 1
    assert event.actor_username == "node_admin"
    # The password itself is never in the audit log.
    assert all("passphrase" not in str(e.details) for e in AuditEvent.objects.all())


def test_a_weak_password_is_refused_naming_the_field_and_ends_nothing(
    node_admin, caseworker_a, client_of
):
    from django.core.exceptions import ValidationError

    browser = client_of(caseworker_a)
    with pytest.raises(ValidationError) as refused:
        services.user_set_password(actor=node_admin, user=caseworker_a, password="short")
    assert list(refused.value.message_dict) == ["password"]
    assert signed_in_as(browser, "caseworker_a") and not ended_events(caseworker_a).exists()


def test_removing_a_role_the_user_does_not_hold_is_refused(node_admin, caseworker_a):
    with pytest.raises(ValueError, match="does not hold"):
        services.role_remove(actor=node_admin, user=caseworker_a, role=Role.NODE_ADMIN)
    assert not ended_events(caseworker_a).exists()


def test_the_command_ends_sessions_and_says_what_it_did(caseworker_a, colleague_a, client_of):
    browser, colleague = client_of(caseworker_a), client_of(colleague_a)
    out = StringIO()
    call_command("user", "end-sessions", "--username", "caseworker_a", stdout=out)
    assert out.getvalue() == "Ended the sessions of caseworker_a (1 open)\n"
    assert signed_out(browser) and signed_in_as(colleague, "colleague_a")
    assert ended_events(caseworker_a).get().details["reason"] == "administrator"

    caseworker_a.refresh_from_db()  # a sign-in reads the account afresh
    browser = client_of(caseworker_a)
    assert signed_in_as(browser, "caseworker_a")
    out = StringIO()
    call_command("user", "deactivate", "--username", "caseworker_a", stdout=out)
    assert "Deactivated" in out.getvalue()
    assert signed_out(browser)
    caseworker_a.refresh_from_db()
    assert not caseworker_a.is_active

    out = StringIO()
    call_command("user", "activate", "--username", "caseworker_a", stdout=out)
    caseworker_a.refresh_from_db()
    assert caseworker_a.is_active and signed_in_as(client_of(caseworker_a), "caseworker_a")

    browser = client_of(colleague_a)
    assert signed_in_as(browser, "colleague_a")
    out = StringIO()
    call_command("user", "password", "--username", "colleague_a", stdout=out)
    new_password = out.getvalue().rsplit(": ", 1)[1].strip()
    assert signed_out(browser)
    assert (
        Client()
        .post("/accounts/login/", {"username": "colleague_a", "password": new_password})
        .status_code
        == 302
    )

    with pytest.raises(CommandError, match="--username"):
        call_command("user", "end-sessions", "--username", "nobody")
    with pytest.raises(CommandError, match="--role"):
        call_command("user", "remove-role", "--username", "colleague_a", "--role", "node_admin")


def test_a_cookie_replayed_after_sign_out_is_refused(caseworker_a, client_of):
    browser = client_of(caseworker_a)
    cookie = browser.cookies["sessionid"].value
    assert browser.post("/accounts/logout/")["Location"] == "/accounts/login/"
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert signed_out(replay)


def test_the_accounts_list_takes_the_same_queries_for_more_users(
    node_admin, agency_a, client_of, django_assert_max_num_queries
):
    admin = client_of(node_admin)
    admin.get("/accounts/users/")  # warm: the session and the user are read once per request
    with CaptureQueriesContext(connection) as few:
        assert admin.get("/accounts/users/").status_code == 200
    for i in range(5):
        personas.make_user(f"extra_{i}", agency_a, Role.CASEWORKER, Role.SUPERVISOR)
    with django_assert_max_num_queries(len(few)):
        page = admin.get("/accounts/users/")
    assert page.status_code == 200 and "extra_4" in page.content.decode()


def test_the_side_menu_links_to_the_accounts_for_the_administrator_only(
    node_admin, caseworker_a, client_of
):
    link = 'href="/accounts/users/"'
    assert link in client_of(node_admin).get("/").content.decode()
    assert link not in client_of(caseworker_a).get("/").content.decode()
