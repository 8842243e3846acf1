"""Who signed, for whom, and when: checks on a cryptographically valid inner JWS."""

from __future__ import annotations

import pytest

from ctip.exchange.core import (
    DEFAULT_MAX_SKEW,
    DEFAULT_TTL,
    Expired,
    InvalidPayload,
    NotYetValid,
    OwnKeySigner,
    PeerAnchor,
    UnknownRecipientKey,
    UnknownSigner,
    WrongRecipient,
    WrongSender,
    generate_node_keys,
    open_envelope,
    seal,
)

from .forge import (
    T,
    decrypt_inner,
    encrypt_to,
    inner_jws,
    message_payload,
    rejected,
)

# --- signer ------------------------------------------------------------------------------


def test_valid_signature_by_unknown_key_is_refused(kh, cn, open_at_cn):
    """An impostor ring that calls itself KH signs perfectly, but is not the pinned anchor."""
    impostor = generate_node_keys("KH", not_before=T - 10, not_after=T + 10_000)
    token = seal(
        msg_type="t", body={}, seq=1, sender_keys=impostor, receiver_public_keys=cn.public(), now=T
    )
    with rejected(UnknownSigner, "unknown_signer"):
        open_at_cn(token)


def test_valid_signature_by_receivers_own_key_is_refused(cn, open_at_cn):
    """A reflected message: CN's own signing key, dressed up as coming from KH."""
    inner = inner_jws(message_payload("KH", "CN", T), cn.current("sig", T))
    with rejected(OwnKeySigner, "own_key_signer"):
        open_at_cn(encrypt_to(inner, cn.public()))


def test_own_key_is_refused_even_if_wrongly_pinned_in_the_anchor(kh, cn, open_at_cn):
    polluted = kh.public().with_key(cn.current("sig", T).public())
    inner = inner_jws(message_payload("KH", "CN", T), cn.current("sig", T))
    with rejected(OwnKeySigner, "own_key_signer"):
        open_at_cn(encrypt_to(inner, cn.public()), sender_anchor=polluted)


def test_encryption_kid_cannot_be_used_as_signing_kid(kh, cn, open_at_cn):
    """Kid lookups are per use: KH's X25519 kid does not name a signing key."""
    signer = kh.current("sig", T)
    inner = inner_jws(message_payload("KH", "CN", T), signer, kid=kh.current("enc", T).kid)
    with rejected(UnknownSigner, "unknown_signer"):
        open_at_cn(encrypt_to(inner, cn.public()))


def test_signed_from_must_match_the_anchor(kh, cn, open_at_cn):
    inner = inner_jws(message_payload("VN", "CN", T), kh.current("sig", T))
    with rejected(WrongSender, "wrong_sender"):
        open_at_cn(encrypt_to(inner, cn.public()))


def test_envelope_for_a_key_we_do_not_hold_is_refused(kh, vn, sealed):
    with rejected(UnknownRecipientKey, "unknown_recipient_key"):
        open_envelope(sealed, receiver_keys=vn, sender_anchor=kh.public(), expected_to="VN", now=T)


# --- recipient ---------------------------------------------------------------------------


def test_message_forwarded_to_another_node_is_refused(kh, cn, vn, sealed):
    """CN re-encrypts KH's genuinely signed message to VN; VN must notice it was for CN."""
    forwarded = encrypt_to(decrypt_inner(sealed, cn), vn.public())
    with rejected(WrongRecipient, "wrong_recipient"):
        open_envelope(
            forwarded, receiver_keys=vn, sender_anchor=kh.public(), expected_to="VN", now=T + 1
        )


def test_expected_to_is_enforced_even_for_our_own_keys(sealed, open_at_cn):
    with rejected(WrongRecipient, "wrong_recipient"):
        open_at_cn(sealed, expected_to="CN-backup")


# --- time --------------------------------------------------------------------------------


def test_message_is_accepted_until_just_before_exp(sealed, open_at_cn):
    assert open_at_cn(sealed, now=T + DEFAULT_TTL - 1).payload["exp"] == T + DEFAULT_TTL


@pytest.mark.parametrize("late", [0, 1, 365 * 86_400])
def test_expired_message_is_refused(sealed, open_at_cn, late):
    with rejected(Expired, "expired"):
        open_at_cn(sealed, now=T + DEFAULT_TTL + late)


def test_short_ttl_is_honoured(kh, cn, open_at_cn):
    token = seal(
        msg_type="t",
        body={},
        seq=1,
        sender_keys=kh,
        receiver_public_keys=cn.public(),
        now=T,
        ttl=60,
    )
    assert open_at_cn(token, now=T + 59)
    with rejected(Expired, "expired"):
        open_at_cn(token, now=T + 60)


def test_iat_within_skew_is_accepted(sealed, open_at_cn):
    assert open_at_cn(sealed, now=T - DEFAULT_MAX_SKEW)


@pytest.mark.parametrize("ahead", [DEFAULT_MAX_SKEW + 1, 3600, 30 * 86_400])
def test_message_from_the_future_is_refused(sealed, open_at_cn, ahead):
    with rejected(NotYetValid, "future_iat"):
        open_at_cn(sealed, now=T - ahead)


def test_max_skew_is_configurable(sealed, open_at_cn):
    with rejected(NotYetValid, "future_iat"):
        open_at_cn(sealed, now=T - 10, max_skew=5)


# --- payload shape -----------------------------------------------------------------------

BAD_FIELDS = [
    pytest.param({"msg_id": "not-a-uuid"}, id="msg_id-not-uuid"),
    pytest.param({"msg_id": "00000000-0000-1000-8000-000000000000"}, id="msg_id-uuid1"),
    pytest.param({"msg_id": "8C2F6F3E-5B7A-4C1D-9E2F-3A4B5C6D7E8F"}, id="msg_id-upper"),
    pytest.param({"from": 7}, id="from-int"),
    pytest.param({"to": ""}, id="to-empty"),
    pytest.param({"iat": "1750000000"}, id="iat-str"),
    pytest.param({"iat": True}, id="iat-bool"),
    pytest.param({"exp": 1.75e9}, id="exp-float"),
    pytest.param({"exp": T}, id="exp-not-after-iat"),
    pytest.param({"seq": -1}, id="seq-negative"),
    pytest.param({"seq": None}, id="seq-null"),
    pytest.param({"type": ["a"]}, id="type-list"),
    pytest.param({"schema": 0}, id="schema-zero"),
    pytest.param({"request_hash": "ABC"}, id="request_hash-bad"),
    pytest.param({"request_hash": "A" * 64}, id="request_hash-upper"),
    pytest.param({"body": []}, id="body-list"),
    pytest.param({"body": "x"}, id="body-str"),
    pytest.param({"purpose": 5}, id="purpose-int"),
    pytest.param({"admin": True}, id="unknown-field"),
]


@pytest.mark.parametrize("override", BAD_FIELDS)
def test_ill_typed_payload_field_is_refused(kh, cn, open_at_cn, override):
    payload = message_payload("KH", "CN", T, **override)
    inner = inner_jws(payload, kh.current("sig", T))
    with rejected(InvalidPayload, "invalid_payload"):
        open_at_cn(encrypt_to(inner, cn.public()))


@pytest.mark.parametrize(
    "field",
    ["msg_id", "from", "to", "iat", "exp", "seq", "type", "schema", "request_hash", "body"],
)
def test_missing_required_field_is_refused(kh, cn, open_at_cn, field):
    payload = message_payload("KH", "CN", T)
    del payload[field]
    inner = inner_jws(payload, kh.current("sig", T))
    with rejected(InvalidPayload, "invalid_payload"):
        open_at_cn(encrypt_to(inner, cn.public()))


@pytest.mark.parametrize("payload", [b"[]", b"not json", b'"str"'])
def test_signed_non_object_payload_is_refused(kh, cn, open_at_cn, payload):
    inner = inner_jws(payload, kh.current("sig", T))
    with rejected(InvalidPayload, "invalid_payload"):
        open_at_cn(encrypt_to(inner, cn.public()))


def test_seal_refuses_to_send_a_bad_payload(kh, cn):
    with rejected(InvalidPayload, "invalid_payload"):
        seal(msg_type="", body={}, seq=1, sender_keys=kh, receiver_public_keys=cn.public(), now=T)


def test_peer_anchor_refuses_private_keys(kh):
    with pytest.raises(ValueError, match="private"):
        PeerAnchor("KH", kh.keys)
