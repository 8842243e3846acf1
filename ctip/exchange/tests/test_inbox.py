"""The inbox over HTTP (in-process): every bad token is refused with a signed reason, logged as
a security event, and changes nothing else (SECURITY.md matrix #1-#12, #16)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid

import pytest
from django.test import Client

from ctip.audit.models import Action, AuditEvent
from ctip.exchange import registry, services
from ctip.exchange.core import (
    MAX_TOKEN_BYTES,
    HandlerRefused,
    digest,
    generate_node_keys,
    seal,
    verify_receipt,
)
from ctip.exchange.core.tests.forge import (
    encrypt_to,
    encrypt_with_header,
    flip_byte,
    inner_jws,
    message_payload,
    sign_raw,
)
from ctip.exchange.models import InboxMessage, LogEntry, OutboxMessage, PinnedAnchor

from .conftest import from_cn, pin

pytestmark = pytest.mark.django_db

HOUR, DAY = 3600, 86_400


@pytest.fixture
def cn_pinned(cn_keys):
    return pin(cn_keys, "http://127.0.0.1:9")


def post(token: str | bytes) -> tuple[int, dict]:
    data = token.encode() if isinstance(token, str) else token
    response = Client().post("/exchange/inbox", data=data, content_type="application/jose")
    return response.status_code, response.json()


def state() -> tuple[int, int, int, int]:
    return (
        InboxMessage.objects.count(),
        LogEntry.objects.count(),
        PinnedAnchor.objects.count(),
        OutboxMessage.objects.count(),
    )


def security_events(event: str = "envelope_rejected"):
    return AuditEvent.objects.filter(action=Action.SECURITY, details__event=event)


def assert_refused(token, code: str, kh_keys, *, http: int = 400) -> dict:
    """Refused with ``code``: a signed negative receipt, a security event, nothing else."""
    before = state()
    events = security_events().count()
    status, body = post(token)
    assert status == http, body
    assert body["status"] == "rejected" and body["reason_code"] == code, body
    if body.get("receipt"):
        raw = token.encode() if isinstance(token, str) else token
        receipt = verify_receipt(
            body["receipt"], sender_anchor=kh_keys.public(), expected_digest=digest(raw)
        )
        assert (receipt.status, receipt.reason_code) == ("rejected", code)
    assert state() == before
    assert security_events().count() == events + 1
    event = security_events().order_by("-seq").first()
    assert event.details["reason"] == code
    assert event.object_type == "exchange.envelope"
    return body


def now() -> int:
    return int(time.time())


# --- the good path ----------------------------------------------------------------------------


def test_accepted_message_is_stored_logged_and_receipted(cn_pinned, cn_keys, kh_keys):
    token = from_cn(cn_keys, kh_keys, seq=4, case_ref="CN-C-0001", purpose="link_check")
    status, body = post(token)
    assert status == 200 and body["status"] == "accepted"
    receipt = verify_receipt(
        body["receipt"], sender_anchor=kh_keys.public(), expected_digest=digest(token)
    )
    stored = InboxMessage.objects.get()
    assert receipt.msg_id == str(stored.msg_id) and receipt.status == "accepted"
    assert (stored.peer.node_id, stored.seq, stored.msg_type, stored.case_ref) == (
        "CN",
        4,
        "ping",
        "CN-C-0001",
    )
    assert json.loads(stored.body) == {"nonce": "0123456789abcdef"}
    assert stored.receipt == body["receipt"] and stored.transport == "http"
    kinds = list(LogEntry.objects.order_by("seq").values_list("kind", flat=True))
    assert kinds == ["message_in", "receipt_out"]
    assert services.log_verify().ok
    created = AuditEvent.objects.get(action=Action.CREATE, object_type="exchange.inboxmessage")
    assert created.details == {"type": "ping", "from": "CN", "seq": 4}


def test_body_is_encrypted_at_rest(cn_pinned, cn_keys, kh_keys):
    from django.db import connection

    post(from_cn(cn_keys, kh_keys, body={"nonce": "feedfacecafe0123"}))
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM exchange_inboxmessage")
        (raw,) = cursor.fetchone()
        cursor.execute("SELECT evidence FROM exchange_logentry")
        evidence = [row[0] for row in cursor.fetchall()]
    assert "feedface" not in raw and raw.startswith("e1:")
    assert all(value.startswith("e1:") for value in evidence)


# --- replays (#5, #6, #12 in-process) ------------------------------------------------------


def test_exact_replay_gets_the_original_receipt_and_no_second_effect(cn_pinned, cn_keys, kh_keys):
    calls = []
    registry.register_message_type(
        "test.count", 1, {"type": "object"}, calls.append, personal_data=False
    )
    try:
        token = from_cn(cn_keys, kh_keys, msg_type="test.count", body={})
        first = post(token)[1]
        before = state()
        status, again = post(token)
    finally:
        registry.unregister_message_type("test.count", 1)
    assert status == 200 and again["status"] == "duplicate"
    assert again["receipt"] == first["receipt"]
    assert state() == before and len(calls) == 1
    assert security_events("envelope_duplicate").count() == 1


def test_malleated_replay_is_a_duplicate_by_message_id(cn_pinned, cn_keys, kh_keys):
    token = from_cn(cn_keys, kh_keys)
    first = post(token)[1]
    # The same signed inner message, re-encrypted into a fresh JWE (another digest).
    inner = services.open_envelope(
        token,
        receiver_keys=kh_keys,
        sender_anchor=cn_keys.public(),
        expected_to="KH",
        now=now(),
    ).jws
    fresh = encrypt_to(inner, kh_keys.public(), now())
    assert digest(fresh) != digest(token)
    before = state()
    status, again = post(fresh)
    assert again["status"] == "duplicate" and again["receipt"] == first["receipt"]
    assert state() == before


# --- tampering (#1) and signers (#2) ---------------------------------------------------------


def test_tampered_ciphertext(cn_pinned, cn_keys, kh_keys):
    assert_refused(flip_byte(from_cn(cn_keys, kh_keys), 3, 5), "decrypt_failed", kh_keys)


def test_tampered_tag(cn_pinned, cn_keys, kh_keys):
    assert_refused(flip_byte(from_cn(cn_keys, kh_keys), 4, 0), "decrypt_failed", kh_keys)


def test_tampered_signature(cn_pinned, cn_keys, kh_keys):
    inner = inner_jws(message_payload("CN", "KH", now()), cn_keys.current("sig", now()))
    token = encrypt_to(flip_byte(inner, 2, 7), kh_keys.public(), now())
    assert_refused(token, "bad_signature", kh_keys)


def test_tampered_signed_payload(cn_pinned, cn_keys, kh_keys):
    inner = inner_jws(message_payload("CN", "KH", now()), cn_keys.current("sig", now()))
    token = encrypt_to(flip_byte(inner, 1, 20), kh_keys.public(), now())
    assert_refused(token, "bad_signature", kh_keys)


def test_unknown_signer(cn_pinned, kh_keys):
    stranger = generate_node_keys("CN", not_before=now() - DAY, not_after=now() + DAY)
    assert_refused(from_cn(stranger, kh_keys), "unknown_signer", kh_keys)


def test_our_own_key_as_signer(cn_pinned, kh_keys):
    reflected = seal(
        msg_type="ping",
        body={"nonce": "0123456789abcdef"},
        seq=1,
        sender_keys=kh_keys,
        receiver_public_keys=kh_keys.public(),
        now=now(),
    )
    assert_refused(reflected, "own_key_signer", kh_keys)


def test_revoked_key(cn_pinned, cn_keys, kh_keys):
    services.peer_revoke_key(
        actor=None, node_id="CN", kid=cn_keys.current("sig", now()).kid, revoked_at=now() - 60
    )
    assert_refused(from_cn(cn_keys, kh_keys), "key_revoked", kh_keys)


def test_message_for_another_node(cn_pinned, cn_keys, kh_keys):
    payload = message_payload("CN", "VN", now())
    token = encrypt_to(inner_jws(payload, cn_keys.current("sig", now())), kh_keys.public(), now())
    assert_refused(token, "wrong_recipient", kh_keys)


def test_from_claim_must_match_the_signer(cn_pinned, cn_keys, kh_keys):
    payload = message_payload("VN", "KH", now())
    token = encrypt_to(inner_jws(payload, cn_keys.current("sig", now())), kh_keys.public(), now())
    assert_refused(token, "wrong_sender", kh_keys)


# --- time (#7) and the receiver policy ---------------------------------------------------------


@pytest.mark.parametrize(
    ("iat_offset", "ttl", "code"),
    [
        (-2 * DAY, DAY, "expired"),
        (HOUR, DAY, "future_iat"),
        (-7 * HOUR, DAY, "too_old"),
        (0, 3 * DAY, "lifetime_too_long"),
    ],
)
def test_stale_future_and_overlong_messages(cn_pinned, cn_keys, kh_keys, iat_offset, ttl, code):
    token = from_cn(cn_keys, kh_keys, now=now() + iat_offset, ttl=ttl)
    assert_refused(token, code, kh_keys)


# --- malformed input (#3, #4, #10, #11) ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"not a token", "malformed"),
        (b"{}", "malformed"),
        (b"a.b.c.d.e", "malformed"),
        ("é.é.é.é.é".encode(), "malformed"),
        (b"", "malformed"),
    ],
)
def test_garbage_is_refused(cn_pinned, kh_keys, raw, code):
    assert_refused(raw, code, kh_keys)


def test_signed_payload_that_is_not_json(cn_pinned, cn_keys, kh_keys):
    inner = inner_jws(b"{not json", cn_keys.current("sig", now()))
    assert_refused(encrypt_to(inner, kh_keys.public(), now()), "invalid_payload", kh_keys)


def test_duplicate_json_members_in_the_payload(cn_pinned, cn_keys, kh_keys):
    payload = message_payload("CN", "KH", now())
    text = json.dumps(payload)[:-1] + ', "to": "KH"}'
    inner = inner_jws(text.encode(), cn_keys.current("sig", now()))
    assert_refused(encrypt_to(inner, kh_keys.public(), now()), "duplicate_key", kh_keys)


def test_duplicate_json_members_in_the_header(cn_pinned, cn_keys, kh_keys):
    key = cn_keys.current("sig", now())
    header = f'{{"alg":"Ed25519","alg":"Ed25519","kid":"{key.kid}","typ":"ctip-msg+jws"}}'
    inner = sign_raw(header, json.dumps(message_payload("CN", "KH", now())).encode(), key)
    assert_refused(encrypt_to(inner, kh_keys.public(), now()), "duplicate_key", kh_keys)


@pytest.mark.parametrize("alg", ["none", "HS256", "EdDSA", "RSA1_5"])
def test_algorithm_confusion(cn_pinned, cn_keys, kh_keys, alg):
    inner = inner_jws(message_payload("CN", "KH", now()), cn_keys.current("sig", now()), alg=alg)
    assert_refused(encrypt_to(inner, kh_keys.public(), now()), "alg_not_allowed", kh_keys)


def test_header_supplied_key_url_is_refused_without_fetching_it(cn_pinned, cn_keys, kh_keys):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    connected = []

    def watch():
        with contextlib.suppress(OSError):
            connected.append(listener.accept())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        inner = inner_jws(
            message_payload("CN", "KH", now()),
            cn_keys.current("sig", now()),
            jku=f"http://127.0.0.1:{port}/jwks.json",
        )
        assert_refused(encrypt_to(inner, kh_keys.public(), now()), "header_key_forbidden", kh_keys)
    finally:
        watcher.join()
        listener.close()
    assert connected == []


def test_zip_header_is_refused_before_decryption(cn_pinned, cn_keys, kh_keys):
    inner = inner_jws(message_payload("CN", "KH", now()), cn_keys.current("sig", now()))
    token = encrypt_with_header(inner, kh_keys.public(), {"zip": "DEF"}, now())
    assert_refused(token, "zip_forbidden", kh_keys)


def test_oversize_body_is_refused_unread(cn_pinned, kh_keys):
    before = state()
    status, body = post(b"A" * (MAX_TOKEN_BYTES + 1))
    assert status == 413 and body == {"status": "rejected", "reason_code": "too_large"}
    assert state() == before
    assert security_events().order_by("-seq").first().details["reason"] == "too_large"


# --- types, schemas and handlers (#16) --------------------------------------------------------


def test_unknown_type(cn_pinned, cn_keys, kh_keys):
    assert_refused(from_cn(cn_keys, kh_keys, msg_type="no.such.type"), "unknown_type", kh_keys)


def test_unknown_schema_version(cn_pinned, cn_keys, kh_keys):
    token = from_cn(cn_keys, kh_keys, schema=7)
    assert_refused(token, "unknown_schema_version", kh_keys)


@pytest.mark.parametrize(
    "body", [{"nonce": 5}, {}, {"nonce": "0123456789abcdef", "name": "Chan Sokha"}]
)
def test_poison_message_gets_a_signed_refusal(cn_pinned, cn_keys, kh_keys, body):
    token = from_cn(cn_keys, kh_keys, body=body)
    answer = assert_refused(token, "schema_invalid", kh_keys)
    receipt = verify_receipt(
        answer["receipt"], sender_anchor=kh_keys.public(), expected_digest=digest(token)
    )
    assert receipt.msg_id  # the signature checked out, so the refusal can name the message
    # The refusal names the message (its signature checked out) and never echoes the value.
    event = security_events().order_by("-seq").first()
    assert event.details["msg_id"] and "Chan" not in json.dumps(event.details)


def test_handler_refusal_rolls_everything_back(cn_pinned, cn_keys, kh_keys):
    from ctip.exchange.models import Peer

    def refuse(message):
        Peer.objects.filter(node_id="CN").update(url="http://changed.example")
        raise HandlerRefused("the case is closed")

    registry.register_message_type("test.refuse", 1, {"type": "object"}, refuse, False)
    try:
        assert_refused(
            from_cn(cn_keys, kh_keys, msg_type="test.refuse", body={}), "handler_refused", kh_keys
        )
    finally:
        registry.unregister_message_type("test.refuse", 1)
    assert Peer.objects.get(node_id="CN").url == "http://127.0.0.1:9"


# --- replies (#9) -------------------------------------------------------------------------------


@pytest.fixture
def our_request(cn_pinned):
    return services.message_send(
        actor=None, to="CN", msg_type="ping", body={"nonce": "00112233aabbccdd"}, enqueue=False
    )


def test_reply_to_a_message_we_never_sent(our_request, cn_keys, kh_keys):
    token = from_cn(cn_keys, kh_keys, in_reply_to=str(uuid.uuid4()), request_hash="a" * 64)
    assert_refused(token, "bad_reply", kh_keys)


def test_reply_with_a_substituted_request_hash(our_request, cn_keys, kh_keys):
    token = from_cn(cn_keys, kh_keys, in_reply_to=str(our_request.id), request_hash="b" * 64)
    assert_refused(token, "bad_reply", kh_keys)
    our_request.refresh_from_db()
    assert our_request.status == "pending"


def test_reply_without_request_hash(our_request, cn_keys, kh_keys):
    token = from_cn(cn_keys, kh_keys, in_reply_to=str(our_request.id))
    assert_refused(token, "bad_reply", kh_keys)


def test_genuine_reply_is_accepted(our_request, cn_keys, kh_keys):
    request_hash = our_request.tokens.get().digest
    token = from_cn(cn_keys, kh_keys, in_reply_to=str(our_request.id), request_hash=request_hash)
    status, body = post(token)
    assert status == 200 and body["status"] == "accepted"
    assert InboxMessage.objects.get().in_reply_to == our_request.id


def test_receipt_is_signed_for_every_refusal_but_names_only_verified_ids(
    cn_pinned, cn_keys, kh_keys
):
    token = flip_byte(from_cn(cn_keys, kh_keys), 3, 0)
    body = assert_refused(token, "decrypt_failed", kh_keys)
    receipt = verify_receipt(
        body["receipt"], sender_anchor=kh_keys.public(), expected_digest=digest(token)
    )
    assert receipt.msg_id is None


def test_get_is_not_allowed_and_csrf_is_not_needed(cn_pinned, cn_keys, kh_keys):
    assert Client().get("/exchange/inbox").status_code == 405
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/exchange/inbox", data=from_cn(cn_keys, kh_keys), content_type="application/jose"
    )
    assert response.status_code == 200


def test_public_keys_endpoint(kh_keys):
    body = Client().get("/exchange/keys").json()
    assert body["node_id"] == "KH"
    assert {k["use"] for k in body["keys"]} == {"sig", "enc"}
    assert not any("d" in k for k in body["keys"])
