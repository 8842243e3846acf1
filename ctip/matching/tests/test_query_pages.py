"""The person's matching page sends cross-border match queries and identity requests: what
each form puts in the exchange outbox, and what it refuses (signed out, a role without the
change right, a person or a handle the user may not use, a purpose outside the list, a
request without its CSRF token). Identities are shown only to roles that see personal data.
The answers are written as the exchange hands them over (no second node is started)."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from ctip.accounts import permissions
from ctip.accounts.models import Role
from ctip.audit.models import AuditEvent
from ctip.cases.services import PersonInput, person_create
from ctip.exchange.models import OutboxMessage
from ctip.matching import xborder
from ctip.matching.models import IdentityRequest, MatchQuery, QueryDirection
from ctip.matching.services import RESOURCE
from ctip.matching.tests.test_xborder import IDENTITY
from ctip.testing import personas
from ctip.testing.peers import pin_offline_peer, received_from_peer

pytestmark = pytest.mark.django_db


@pytest.fixture
def cn_peer(db):
    peer = pin_offline_peer("CN")
    xborder.key_rotate(actor=None, peer="CN")
    return peer


def make_person(user, **data):
    return person_create(user=user, data=PersonInput(sex="female", **data))


@pytest.fixture
def sokha(caseworker_a):
    return make_person(caseworker_a, name_km="សុខា ចាន់", name_latin="CHAN SOKHA", birth_year=2001)


def answered_query(person, user, *scores: float, peer="CN", answered_at=None) -> MatchQuery:
    """A query about ``person`` that the peer answered with one handle per score."""
    return MatchQuery.objects.create(
        direction=QueryDirection.OUT,
        peer=peer,
        query_id="q" + secrets.token_hex(8),
        key_id="k1",
        person=person,
        asked_by=user,
        answered_at=answered_at or timezone.now(),
        answer=[{"handle": secrets.token_urlsafe(18), "score": s} for s in scores],
    )


@pytest.fixture
def answered(cn_peer, caseworker_a, sokha):
    query = answered_query(sokha, caseworker_a, 0.91, 0.83)
    return SimpleNamespace(
        query=query, handle=query.answer[0]["handle"], person=sokha, peer=cn_peer
    )


def page_url(person) -> str:
    return f"/matching/persons/{person.pk}/"


def outbox(msg_type) -> list[dict]:
    return [json.loads(m.body) for m in OutboxMessage.objects.filter(msg_type=msg_type)]


def nothing_sent() -> bool:
    return not (
        MatchQuery.objects.filter(direction=QueryDirection.OUT, answered_at__isnull=True).exists()
        or IdentityRequest.objects.exists()
        or outbox(xborder.QUERY_TYPE)
        or outbox(xborder.IDENTITY_REQUEST_TYPE)
    )


def flash(response) -> str:
    """The message the response's request added last (earlier ones wait for the next page)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def ask(client, person, handle, purpose="family_tracing", **extra):
    return client.post(
        f"/matching/persons/{person.pk}/identity/", {"handle": handle, "purpose": purpose}, **extra
    )


# --- the happy paths ---------------------------------------------------------------------------


def test_send_a_match_query_from_the_page(cn_peer, caseworker_a, sokha, client_of):
    client = client_of(caseworker_a)
    page = client.get(page_url(sokha)).content.decode()
    assert 'id="send-query"' in page and '<option value="CN">CN</option>' in page
    assert "No match query has been sent" in page

    response = client.post(f"/matching/persons/{sokha.pk}/query/", {"to": "CN"})
    assert response.status_code == 302 and response.url == page_url(sokha)
    query = MatchQuery.objects.get(direction=QueryDirection.OUT)
    assert (query.person_id, query.asked_by_id, query.peer) == (sokha.pk, caseworker_a.pk, "CN")
    (body,) = outbox(xborder.QUERY_TYPE)
    assert body["query_id"] == query.query_id and "SOKHA" not in json.dumps(body).upper()
    assert flash(response) == "Match query sent to CN. Its answer will be listed here."
    assert AuditEvent.objects.filter(
        object_type="matching.matchquery", object_id=str(query.pk), actor_id=caseworker_a.pk
    ).exists()

    page = client.get(page_url(sokha)).content.decode()
    assert 'data-state="waiting"' in page and "Waiting for the answer." in page


def test_answer_lists_candidates_and_the_identity_is_asked(answered, caseworker_a, client_of):
    client = client_of(caseworker_a)
    page = client.get(page_url(answered.person)).content.decode()
    assert 'data-state="answered"' in page and "2 candidates." in page
    assert answered.handle in page and "0.91" in page and "0.83" in page
    assert page.count('action="/matching/persons/') >= 3  # send, and one ask per candidate

    response = ask(client, answered.person, answered.handle, "family_tracing")
    assert response.status_code == 302 and response.url == page_url(answered.person)
    asked = IdentityRequest.objects.get()
    assert (asked.direction, asked.handle, asked.purpose, asked.peer) == (
        "out",
        answered.handle,
        "family_tracing",
        "CN",
    )
    assert (asked.person_id, asked.asked_by_id, asked.query_id) == (
        answered.person.pk,
        caseworker_a.pk,
        answered.query.pk,
    )
    (message,) = OutboxMessage.objects.filter(msg_type=xborder.IDENTITY_REQUEST_TYPE)
    assert json.loads(message.body)["handle"] == answered.handle
    assert message.purpose == "family_tracing" and asked.msg_id == str(message.pk)
    assert flash(response).startswith("Identity request sent.")

    # The candidate now shows the request waiting, and offers no second request.
    page = client.get(page_url(answered.person)).content.decode()
    row = page.split(f'data-handle="{answered.handle}"')[1].split("</tr>")[0]
    assert "Waiting for the answer" in row and "family tracing" in row
    assert 'name="purpose"' not in row
    other = page.split(f'data-handle="{answered.query.answer[1]["handle"]}"')[1].split("</tr>")[0]
    assert 'name="purpose"' in other

    # Asking again while waiting: the service refuses, the page says why.
    response = ask(client, answered.person, answered.handle, "repatriation")
    assert flash(response) == (
        "The identity request was not sent: "
        "This identity was already asked for; the answer is awaited."
    )
    assert IdentityRequest.objects.count() == 1


def test_the_services_refusals_are_shown(answered, caseworker_a, client_of, monkeypatch):
    client = client_of(caseworker_a)
    monkeypatch.setattr(xborder, "USER_DAILY_LIMIT", 0)
    monkeypatch.setattr(xborder, "IDENTITY_USER_DAILY_LIMIT", 0)
    response = client.post(f"/matching/persons/{answered.person.pk}/query/", {"to": "CN"})
    assert flash(response) == "The match query was not sent: At most 0 match queries a day."
    response = ask(client, answered.person, answered.handle)
    assert flash(response) == (
        "The identity request was not sent: At most 0 identity requests a day."
    )
    assert nothing_sent()
    shown = client.get(page_url(answered.person)).content.decode().split('class="messages"')[1]
    assert "At most 0 match queries a day." in shown.split("</ul>")[0]
    assert "At most 0 identity requests a day." in shown.split("</ul>")[0]


def test_refused_answers_and_expired_handles(cn_peer, caseworker_a, sokha, client_of):
    refused = answered_query(sokha, caseworker_a)
    MatchQuery.objects.filter(pk=refused.pk).update(refused="unknown_key")
    none = answered_query(sokha, caseworker_a)
    old = answered_query(
        sokha,
        caseworker_a,
        0.95,
        answered_at=timezone.now() - xborder.HANDLE_LIFETIME - timedelta(minutes=1),
    )
    client = client_of(caseworker_a)
    page = client.get(page_url(sokha)).content.decode()
    assert "Not answered: the encoding key is unknown or expired on the other side." in page
    assert "no one there is similar enough" in page and none.query_id not in page
    assert "These candidates have expired" in page
    row = page.split(f'data-handle="{old.answer[0]["handle"]}"')[1].split("</tr>")[0]
    assert 'name="purpose"' not in row
    response = ask(client, sokha, old.answer[0]["handle"])
    assert response.status_code == 302
    assert flash(response).startswith("This candidate can no longer be asked about")
    assert nothing_sent()


def test_a_disclosed_identity_is_shown_and_audited(answered, caseworker_a, client_of):
    asked = xborder.identity_request_send(
        user=caseworker_a, handle=answered.handle, purpose="nationality_verification"
    )
    xborder.handle_identity(
        received_from_peer(
            answered.peer,
            xborder.IDENTITY_TYPE,
            {"request_id": asked.request_id, "identity": IDENTITY},
            purpose="nationality_verification",
            in_reply_to=asked.msg_id,
        )
    )
    page = client_of(caseworker_a).get(page_url(answered.person)).content.decode()
    row = page.split(f'data-handle="{answered.handle}"')[1].split("</tr>")[0]
    assert 'href="#identities"' in row and "Identity disclosed" in row
    assert 'name="purpose"' not in row  # not offered again
    assert "索卡·占" in page.split('id="identities"')[1]
    assert AuditEvent.objects.filter(
        action="view", object_id=str(asked.pk), actor_id=caseworker_a.pk
    ).exists()


def test_the_page_costs_the_same_queries_for_one_or_many_answers(
    cn_peer, caseworker_a, sokha, client_of
):
    client = client_of(caseworker_a)
    answered_query(sokha, caseworker_a, 0.9)
    client.get(page_url(sokha))
    with CaptureQueriesContext(connection) as one:
        assert client.get(page_url(sokha)).status_code == 200
    for _ in range(4):
        answered_query(sokha, caseworker_a, 0.9, 0.88, 0.85)
    with CaptureQueriesContext(connection) as many:
        page = client.get(page_url(sokha)).content.decode()
    assert page.count("<tr data-handle=") == 13
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]


# --- the attacks ------------------------------------------------------------------------------


def test_signed_out_is_sent_to_sign_in(answered):
    client = Client()
    for response in (
        client.get(page_url(answered.person)),
        client.post(f"/matching/persons/{answered.person.pk}/query/", {"to": "CN"}),
        ask(client, answered.person, answered.handle),
    ):
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert nothing_sent()


def test_roles_without_the_change_right_are_refused(answered, agency_a, dpo, client_of):
    police = personas.make_user("police_a", agency_a, "police_focal").user  # may query by CLI
    for user in (dpo, police):
        client = client_of(user)
        assert client.get(page_url(answered.person)).status_code == 404
        assert (
            client.post(f"/matching/persons/{answered.person.pk}/query/", {"to": "CN"}).status_code
            == 404
        )
        assert ask(client, answered.person, answered.handle).status_code == 404
        assert AuditEvent.objects.filter(
            actor_id=user.pk, details__event="access_denied", object_type="matching"
        ).exists()
    assert nothing_sent()


def test_a_person_the_user_may_not_see(answered, caseworker_b, client_of):
    client = client_of(caseworker_b)
    assert client.get(page_url(answered.person)).status_code == 404
    response = client.post(f"/matching/persons/{answered.person.pk}/query/", {"to": "CN"})
    assert response.status_code == 404
    assert ask(client, answered.person, answered.handle).status_code == 404
    assert (
        AuditEvent.objects.filter(
            actor_id=caseworker_b.pk, details__event="access_denied", object_type="person"
        ).count()
        == 3
    )
    assert nothing_sent()


def test_a_handle_of_another_persons_query_or_of_none(
    answered, caseworker_a, colleague_a, client_of
):
    # Another person the same user may see, with an answered query of its own.
    dara = make_person(caseworker_a, name_latin="KEO DARA", birth_year=1999)
    theirs = answered_query(dara, colleague_a, 0.97).answer[0]["handle"]
    client = client_of(caseworker_a)
    for handle in (theirs, secrets.token_urlsafe(18), "", "x" * 5000):
        assert ask(client, answered.person, handle).status_code == 404
    denied = AuditEvent.objects.filter(
        actor_id=caseworker_a.pk, details__event="access_denied", object_type="matching_handle"
    )
    assert denied.count() == 4
    assert set(denied.values_list("object_id", flat=True)) >= {theirs, "(malformed)"}
    assert nothing_sent()
    # The same handle on its own person's page is accepted.
    assert ask(client, dara, theirs).status_code == 302
    assert IdentityRequest.objects.get().handle == theirs


@pytest.mark.parametrize("purpose", ["law_enforcement", "case_information", "", "repatriation "])
def test_a_purpose_outside_the_choices(answered, caseworker_a, client_of, purpose):
    response = ask(client_of(caseworker_a), answered.person, answered.handle, purpose)
    assert response.status_code == 302
    assert flash(response) == (
        "Choose a purpose: nationality verification, family tracing, repatriation."
    )
    assert nothing_sent()


def test_a_country_outside_the_choices(answered, caseworker_a, client_of):
    client = client_of(caseworker_a)
    for to in ("TH", "KH", "", "cn"):
        response = client.post(f"/matching/persons/{answered.person.pk}/query/", {"to": to})
        assert flash(response) == "Choose a country this node shares an encoding key with."
    assert nothing_sent()


def test_csrf_is_enforced(answered, caseworker_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(caseworker_a)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = caseworker_a.totpdevice_set.get().persistent_id
    session.save()
    query_url = f"/matching/persons/{answered.person.pk}/query/"
    assert client.post(query_url, {"to": "CN"}).status_code == 403
    assert ask(client, answered.person, answered.handle).status_code == 403
    assert nothing_sent()
    # With the page's token the same requests go through (so the 403 was the CSRF check).
    client.get(page_url(answered.person))
    token = client.cookies["csrftoken"].value
    assert client.post(query_url, {"to": "CN", "csrfmiddlewaretoken": token}).status_code == 302
    response = client.post(
        f"/matching/persons/{answered.person.pk}/identity/",
        {"handle": answered.handle, "purpose": "family_tracing", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert len(outbox(xborder.QUERY_TYPE)) == 1 and IdentityRequest.objects.count() == 1


def test_a_user_without_personal_data_never_sees_identities(
    answered, caseworker_a, me_officer, client_of, monkeypatch
):
    """A role that may open the matching page but not see personal data (none has that
    today: M&E is given it here) gets the candidates and outcomes, never the identity."""
    asked = xborder.identity_request_send(
        user=caseworker_a, handle=answered.handle, purpose="nationality_verification"
    )
    xborder.handle_identity(
        received_from_peer(
            answered.peer,
            xborder.IDENTITY_TYPE,
            {"request_id": asked.request_id, "identity": IDENTITY},
            purpose="nationality_verification",
            in_reply_to=asked.msg_id,
        )
    )
    grants = {
        "statistics": {permissions.VIEW},
        "person": {permissions.VIEW},
        RESOURCE: {permissions.VIEW},
        "matching_query": {permissions.VIEW},
    }
    monkeypatch.setitem(permissions.CAPABILITIES, Role.ME_OFFICER, grants)
    assert not permissions.sees_pii(me_officer)
    response = client_of(me_officer).get(page_url(answered.person))
    page = response.content.decode()
    assert response.status_code == 200 and answered.handle in page  # the page is there
    assert "Identity disclosed" in page
    for value in ("索卡", "CN-C-ABCD1234", "CHAN SOKHA"):
        assert value not in page
    assert 'name="purpose"' not in page and 'id="send-query"' not in page  # no change right
    assert not AuditEvent.objects.filter(
        actor_id=me_officer.pk, action="view", object_id=str(asked.pk)
    ).exists()
    # Without the right to view match queries, the section is not there at all.
    grants["matching_query"] = set()
    page = client_of(me_officer).get(page_url(answered.person)).content.decode()
    assert 'id="queries"' not in page and answered.handle not in page
    # The same page for the caseworker shows it (so the check above can fail).
    assert "索卡·占" in client_of(caseworker_a).get(page_url(answered.person)).content.decode()


def test_every_refusal_of_a_match_answer_has_a_translatable_label():
    from ctip.matching.views import QUERY_REFUSAL_TEXT

    codes = set(xborder.ANSWER_SCHEMA["properties"]["refused"]["enum"]) - {""}
    assert codes == set(QUERY_REFUSAL_TEXT)
