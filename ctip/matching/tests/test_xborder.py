"""Cross-border match queries in one process: what a query puts in the exchange outbox
(encodings only, never a name or a date), the per-user rate limit, the key agreement, and
the audit rows. The whole round trip between two node processes is in test_two_nodes."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from ctip.audit.models import AuditEvent
from ctip.cases import services
from ctip.cases.services import PersonInput, person_create
from ctip.exchange.models import OutboxMessage
from ctip.exchange.registry import IncomingMessage
from ctip.matching import xborder
from ctip.matching.models import (
    IdentityRequest,
    MatchHandle,
    MatchKey,
    MatchQuery,
    QueryDirection,
)
from ctip.testing.peers import received_from_peer

pytestmark = pytest.mark.django_db


def test_query_holds_only_encodings_and_is_audited(cn_peer, caseworker_a, sokha):
    with pytest.raises(xborder.QueryRefused, match="No encoding key"):
        xborder.query_send(user=caseworker_a, person=sokha, to="CN")
    key = xborder.key_rotate(actor=None, peer="CN")
    sent_key = json.loads(OutboxMessage.objects.get(msg_type=xborder.KEY_TYPE).body)
    assert sent_key["key_id"] == key.key_id and MatchKey.objects.get().secret == sent_key["secret"]
    query = xborder.query_send(user=caseworker_a, person=sokha, to="CN")
    body = json.loads(OutboxMessage.objects.get(msg_type=xborder.QUERY_TYPE).body)
    assert set(body) == {"query_id", "key_id", "encoding"}
    assert set(body["encoding"]) == {"name", "birth"}
    text = json.dumps(body)
    assert "SOKHA" not in text.upper() and "2001" not in text and "សុខា" not in text
    assert query.query_id == body["query_id"]
    audit = AuditEvent.objects.filter(object_type="matching.matchquery", object_id=str(query.pk))
    assert audit.count() == 1 and audit.get().details["peer"] == "CN"


def test_user_rate_limit(cn_peer, caseworker_a, sokha, monkeypatch):
    xborder.key_rotate(actor=None, peer="CN")
    monkeypatch.setattr(xborder, "USER_DAILY_LIMIT", 2)
    for _ in range(2):
        xborder.query_send(user=caseworker_a, person=sokha, to="CN")
    with pytest.raises(xborder.QueryRefused, match="At most 2"):
        xborder.query_send(user=caseworker_a, person=sokha, to="CN")
    assert MatchQuery.objects.count() == 2
    assert AuditEvent.objects.filter(details__event="match_query_rate_limited").exists()


def test_only_people_the_user_may_see_and_roles_allowed(cn_peer, caseworker_b, me_officer, sokha):
    from ctip.accounts.permissions import NotFound

    xborder.key_rotate(actor=None, peer="CN")
    for outsider in (caseworker_b, me_officer):
        with pytest.raises(NotFound):
            xborder.query_send(user=outsider, person=sokha, to="CN")
    assert not MatchQuery.objects.exists()


# --- identity requests: resolving a handle under the consent rules -------------------------

DOCUMENT = "N0001234"  # must never cross the border in an identity answer


def consent(case, user, purpose="nationality_verification", country="CN"):
    from ctip.cases.consent import PURPOSE_CATEGORIES

    return services.consent_record(
        user=user,
        case=case,
        data=services.ConsentInput(
            decision="given",
            purpose=purpose,
            recipient_country=country,
            data_categories=PURPOSE_CATEGORIES[purpose],
            given_on=timezone.localdate(),
            how_given="written",
            language="km",
        ),
    )


@pytest.fixture
def issued(cn_peer, caseworker_a):
    """KH answered a query of CN with a handle for Sokha, who has a case here and agreed to
    nationality verification with CN."""
    person = person_create(
        user=caseworker_a,
        data=PersonInput(
            name_km="សុខា ចាន់",
            name_latin="CHAN SOKHA",
            sex="female",
            birth_year=2001,
            birth_month=3,
            birth_day=14,
            nationality="KH",
            document_type="passport",
            document_number=DOCUMENT,
            notes="exploitation narrative canary",
        ),
    )
    case = services.case_open(user=caseworker_a, person=person, track="cross_border")
    query = MatchQuery.objects.create(
        direction=QueryDirection.IN, peer="CN", query_id="q" + secrets.token_hex(8), key_id="k1"
    )
    handle = MatchHandle.objects.create(
        handle=secrets.token_urlsafe(18), query=query, person=person, score=0.93
    )
    return SimpleNamespace(person=person, case=case, handle=handle, peer=cn_peer)


def incoming(peer, msg_type, body, *, purpose="", in_reply_to=None) -> IncomingMessage:
    return received_from_peer(peer, msg_type, body, purpose=purpose, in_reply_to=in_reply_to)


def ask(issued, handle=None, purpose="nationality_verification", envelope_purpose=None):
    body = {
        "request_id": secrets.token_urlsafe(18),
        "handle": handle or issued.handle.handle,
        "purpose": purpose,
        "asking_ref": "CN-C-ABCD1234",
        "officer": {"name": "Officer Canary", "agency": "cn-police"},
    }
    message = incoming(
        issued.peer,
        xborder.IDENTITY_REQUEST_TYPE,
        body,
        purpose=envelope_purpose if envelope_purpose is not None else purpose,
    )
    xborder.handle_identity_request(message)
    return IdentityRequest.objects.get(direction="in", request_id=body["request_id"])


def sent(msg_type):
    return [
        (m, json.loads(m.body))
        for m in OutboxMessage.objects.filter(msg_type=msg_type).order_by("seq")
    ]


def test_identity_disclosed_minimal_under_consent(issued, caseworker_a):
    given = consent(issued.case, caseworker_a)
    asked = ask(issued)
    assert asked.outcome == "disclosed" and asked.case_ref == issued.case.reference
    assert asked.identity is None  # the issuing side keeps no copy of what it sent
    ((msg, body),) = sent(xborder.IDENTITY_TYPE)
    assert not sent(xborder.IDENTITY_REFUSAL_TYPE)
    assert body == {
        "request_id": asked.request_id,
        "identity": {
            "case_ref": issued.case.reference,
            "name_km": "សុខា ចាន់",
            "name_latin": "CHAN SOKHA",
            "sex": "female",
            "nationality": "KH",
            "born_from": 2001,
            "born_to": 2001,
        },
    }
    # The envelope claims: purpose, the consent relied on, the case; a reply to the request.
    assert (msg.purpose, msg.legal_basis, msg.consent_ref) == (
        "nationality_verification",
        "consent",
        str(given.pk),
    )
    assert msg.case_ref == issued.case.reference and msg.in_reply_to is not None
    # Audited on the issuing side: who asked, which handle, the outcome; never the data.
    rows = AuditEvent.objects.filter(object_id__in=[str(asked.pk), str(issued.person.pk)])
    export = rows.get(action="export")
    assert export.details["handle"] == issued.handle.handle and export.details["to"] == "CN"
    assert rows.filter(object_type="matching.identityrequest").get().details["officer_agency"] == (
        "cn-police"
    )
    audited = json.dumps([r.details for r in AuditEvent.objects.all()], ensure_ascii=False)
    for value in ("SOKHA", "សុខា", DOCUMENT, "Officer Canary"):
        assert value not in audited


@pytest.mark.parametrize(
    ("setup", "code", "reason"),
    [
        ("unknown", "unknown_handle", "unknown_handle"),
        ("wrong_peer", "unknown_handle", "wrong_peer"),
        ("expired", "expired", "expired"),
        ("sealed", "not_disclosed", "sealed"),
        ("no_consent", "not_disclosed", "no_consent"),
        ("refused_consent", "not_disclosed", "no_consent"),
        ("other_country", "not_disclosed", "no_consent"),
        ("purpose_mismatch", "bad_request", "purpose_mismatch"),
    ],
)
def test_identity_refusals_carry_no_data(issued, caseworker_a, supervisor_a, setup, code, reason):
    handle, envelope_purpose = None, None
    if setup != "no_consent":
        consent(
            issued.case,
            caseworker_a,
            "repatriation" if setup == "other_country" else "nationality_verification",
            country="CN",
        )
    if setup == "unknown":
        handle = secrets.token_urlsafe(18)
    elif setup == "wrong_peer":  # the handle was given to another node's query
        MatchQuery.objects.filter(pk=issued.handle.query_id).update(peer="TH")
    elif setup == "expired":
        MatchHandle.objects.filter(pk=issued.handle.pk).update(
            created_at=timezone.now() - xborder.HANDLE_LIFETIME - timedelta(minutes=1)
        )
    elif setup == "sealed":
        services.person_set_sealed(
            user=supervisor_a, person=issued.person, sealed=True, reason="witness in a trial"
        )
    elif setup == "refused_consent":
        services.consent_record(
            user=caseworker_a,
            case=issued.case,
            data=services.ConsentInput(
                decision="refused",
                purpose="nationality_verification",
                recipient_country="CN",
                data_categories=(),
                given_on=timezone.localdate(),
                how_given="oral",
                language="km",
            ),
        )
    elif setup == "purpose_mismatch":
        envelope_purpose = "repatriation"
    asked = ask(issued, handle=handle, envelope_purpose=envelope_purpose)
    assert (asked.outcome, asked.refused, asked.reason) == ("refused", code, reason)
    assert not sent(xborder.IDENTITY_TYPE)  # no identity queued, whatever the reason
    ((msg, body),) = sent(xborder.IDENTITY_REFUSAL_TYPE)
    assert body == {"request_id": asked.request_id, "refused": code}
    assert not msg.case_ref and not msg.consent_ref
    assert AuditEvent.objects.filter(
        object_id=str(asked.pk), details__event=f"match_identity_{reason}"
    ).exists()
    if setup == "no_consent":  # the block is on the case's timeline, as for every action
        assert issued.case.events.filter(kind="blocked").exists()


def test_identity_requests_rate_limited_per_peer(issued, caseworker_a, monkeypatch):
    consent(issued.case, caseworker_a)
    monkeypatch.setattr(xborder, "IDENTITY_PEER_DAILY_LIMIT", 1)
    assert ask(issued).outcome == "disclosed"
    second = ask(issued)
    assert (second.outcome, second.refused) == ("refused", "rate_limited")
    assert len(sent(xborder.IDENTITY_TYPE)) == 1


def test_attack_handle_of_another_peer_or_guessed_is_unknown(issued, caseworker_a):
    """A node holding a handle given to another peer, or guessing handles, learns nothing:
    both are answered exactly like an unknown handle, although the person consented."""
    consent(issued.case, caseworker_a)
    MatchQuery.objects.filter(pk=issued.handle.query_id).update(peer="TH")
    stolen = ask(issued)
    guesses = [ask(issued, handle=secrets.token_urlsafe(18)) for _ in range(3)]
    near = ask(
        issued, handle=issued.handle.handle[:-1] + ("A" if issued.handle.handle[-1] != "A" else "B")
    )
    bodies = [body for _, body in sent(xborder.IDENTITY_REFUSAL_TYPE)]
    assert [b["refused"] for b in bodies] == ["unknown_handle"] * 5
    assert all(set(b) == {"request_id", "refused"} for b in bodies)
    assert not sent(xborder.IDENTITY_TYPE)
    assert stolen.reason == "wrong_peer" and {g.reason for g in [*guesses, near]} == {
        "unknown_handle"
    }


# --- the asking side -------------------------------------------------------------------------


@pytest.fixture
def answered(cn_peer, caseworker_a, sokha):
    """KH asked CN about Sokha and CN answered one handle."""
    handle = secrets.token_urlsafe(18)
    query = MatchQuery.objects.create(
        direction=QueryDirection.OUT,
        peer="CN",
        query_id="q" + secrets.token_hex(8),
        key_id="k1",
        person=sokha,
        asked_by=caseworker_a,
        answered_at=timezone.now(),
        answer=[{"handle": handle, "score": 0.91}],
    )
    return SimpleNamespace(handle=handle, query=query, person=sokha, peer=cn_peer)


def test_identity_request_holds_no_personal_data_and_checks_access(
    answered, caseworker_a, caseworker_b, me_officer
):
    from ctip.accounts.permissions import NotFound

    for outsider in (caseworker_b, me_officer):
        with pytest.raises(NotFound):
            xborder.identity_request_send(
                user=outsider, handle=answered.handle, purpose="nationality_verification"
            )
    with pytest.raises(NotFound):
        xborder.identity_request_send(
            user=caseworker_a, handle=secrets.token_urlsafe(18), purpose="family_tracing"
        )
    with pytest.raises(xborder.QueryRefused):
        xborder.identity_request_send(
            user=caseworker_a, handle=answered.handle, purpose="case_information"
        )
    assert not IdentityRequest.objects.exists()
    asked = xborder.identity_request_send(
        user=caseworker_a, handle=answered.handle, purpose="family_tracing"
    )
    ((msg, body),) = sent(xborder.IDENTITY_REQUEST_TYPE)
    assert set(body) == {"request_id", "handle", "purpose", "asking_ref", "officer"}
    assert body["handle"] == answered.handle and body["asking_ref"] == answered.person.reference
    assert msg.purpose == "family_tracing" and asked.msg_id == str(msg.pk)
    assert "SOKHA" not in msg.body.upper() and "សុខា" not in msg.body
    assert AuditEvent.objects.filter(
        object_type="matching.identityrequest", object_id=str(asked.pk)
    ).exists()
    with pytest.raises(xborder.QueryRefused, match="already"):
        xborder.identity_request_send(
            user=caseworker_a, handle=answered.handle, purpose="family_tracing"
        )


def test_identity_request_user_rate_limit(answered, caseworker_a, monkeypatch):
    monkeypatch.setattr(xborder, "IDENTITY_USER_DAILY_LIMIT", 1)
    xborder.identity_request_send(
        user=caseworker_a, handle=answered.handle, purpose="nationality_verification"
    )
    IdentityRequest.objects.update(outcome="refused")
    with pytest.raises(xborder.QueryRefused, match="At most 1"):
        xborder.identity_request_send(
            user=caseworker_a, handle=answered.handle, purpose="nationality_verification"
        )
    assert IdentityRequest.objects.count() == 1
    assert AuditEvent.objects.filter(details__event="match_identity_rate_limited").exists()


IDENTITY = {
    "case_ref": "CN-C-ABCD1234",
    "name_zh": "索卡·占",
    "sex": "female",
    "nationality": "KH",
    "born_from": 2000,
    "born_to": 2002,
}


def test_received_identity_is_encrypted_bound_and_shown_to_who_may_see(
    answered, caseworker_a, caseworker_b, client_of
):
    from django.db import connection

    asked = xborder.identity_request_send(
        user=caseworker_a, handle=answered.handle, purpose="nationality_verification"
    )
    body = {"request_id": asked.request_id, "identity": IDENTITY}
    # Not a reply to our request, or for another purpose: refused, nothing stored.
    for purpose, reply_to in (
        ("nationality_verification", str(uuid.uuid4())),
        ("repatriation", asked.msg_id),
    ):
        with pytest.raises(xborder.UnknownIdentityRequest):
            xborder.handle_identity(
                incoming(
                    answered.peer,
                    xborder.IDENTITY_TYPE,
                    body,
                    purpose=purpose,
                    in_reply_to=reply_to,
                )
            )
    asked.refresh_from_db()
    assert asked.outcome == "pending" and asked.identity is None
    xborder.handle_identity(
        incoming(
            answered.peer,
            xborder.IDENTITY_TYPE,
            body,
            purpose="nationality_verification",
            in_reply_to=asked.msg_id,
        )
    )
    asked.refresh_from_db()
    assert asked.outcome == "disclosed" and xborder.identity_of(asked) == IDENTITY
    with connection.cursor() as cursor:
        cursor.execute(
            "select identity from matching_identityrequest where id = %s", [asked.pk.hex]
        )
        (raw,) = cursor.fetchone()
    assert "索卡" not in raw and "CN-C-ABCD1234" not in raw
    # A second answer to the same request is refused.
    with pytest.raises(xborder.UnknownIdentityRequest):
        xborder.handle_identity(
            incoming(
                answered.peer,
                xborder.IDENTITY_TYPE,
                body,
                purpose="nationality_verification",
                in_reply_to=asked.msg_id,
            )
        )
    page = client_of(caseworker_a).get(f"/matching/persons/{answered.person.pk}/")
    assert page.status_code == 200 and "索卡·占" in page.content.decode()
    assert AuditEvent.objects.filter(
        action="view", object_id=str(asked.pk), actor_id=caseworker_a.pk
    ).exists()
    assert (
        client_of(caseworker_b).get(f"/matching/persons/{answered.person.pk}/").status_code == 404
    )


def test_received_refusal_is_stored_without_data(answered, caseworker_a):
    asked = xborder.identity_request_send(
        user=caseworker_a, handle=answered.handle, purpose="nationality_verification"
    )
    xborder.handle_identity_refusal(
        incoming(
            answered.peer,
            xborder.IDENTITY_REFUSAL_TYPE,
            {"request_id": asked.request_id, "refused": "not_disclosed"},
            in_reply_to=asked.msg_id,
        )
    )
    asked.refresh_from_db()
    assert (asked.outcome, asked.refused, asked.identity) == ("refused", "not_disclosed", None)
    assert xborder.identity_of(asked) == {}


def test_an_opaque_id_never_begins_with_a_dash(monkeypatch):
    """Handles are pasted after ``--handle`` on the command line: a leading "-" would be
    taken for an option (it happened to one in 64 handles)."""
    from ctip.matching import xborder

    drawn = iter(["-ZuhOXfNWyTSZT-ZZhOuv52J", "ZuhOXfNWyTSZT-ZZhOuv52J-"])
    monkeypatch.setattr(xborder.secrets, "token_urlsafe", lambda n: next(drawn))
    assert xborder.opaque_id() == "ZuhOXfNWyTSZT-ZZhOuv52J-"
