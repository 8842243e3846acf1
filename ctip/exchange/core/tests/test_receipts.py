"""Signed receipts: round trip, tampering, and confusion with messages."""

from __future__ import annotations

import pytest

from ctip.exchange.core import (
    BadSignature,
    DigestMismatch,
    InvalidPayload,
    KeyNotValid,
    MalformedToken,
    UnknownSigner,
    WrongSender,
    WrongType,
    digest,
    jose,
    make_receipt,
    verify_receipt,
)
from ctip.exchange.core.encoding import b64url_encode, canonical_json

from .forge import T, decoded_header, encrypt_to, flip_byte, rejected, sign_raw


@pytest.fixture(scope="module")
def accepted(cn, sealed, open_at_cn) -> str:
    message = open_at_cn(sealed)
    return make_receipt(
        envelope_digest=message.digest,
        msg_id=message.msg_id,
        status="accepted",
        reason_code=None,
        signer_keys=cn,
        now=T + 2,
    )


def test_receipt_round_trip(cn, sealed, accepted):
    receipt = verify_receipt(accepted, sender_anchor=cn.public(), expected_digest=digest(sealed))
    assert receipt.status == "accepted"
    assert receipt.reason_code is None
    assert receipt.envelope_digest == digest(sealed)
    assert receipt.signer_kid == cn.current("sig", T).kid
    assert receipt.payload["from"] == "CN"
    assert receipt.digest == digest(accepted)
    assert decoded_header(accepted)["typ"] == jose.RECEIPT_TYP


def test_negative_receipt_carries_the_rejection_code(cn, sealed):
    token = make_receipt(
        envelope_digest=digest(sealed),
        msg_id=None,  # refused before decryption: no readable msg_id
        status="rejected",
        reason_code="decrypt_failed",
        signer_keys=cn,
        now=T,
    )
    receipt = verify_receipt(token, sender_anchor=cn.public(), expected_digest=digest(sealed))
    assert (receipt.status, receipt.reason_code, receipt.msg_id) == (
        "rejected",
        "decrypt_failed",
        None,
    )


@pytest.mark.parametrize(
    ("segment", "position"),
    [(1, 0), (1, 20), (1, -1), (2, 0), (2, 31), (2, -1)],
    ids=["payload-0", "payload-20", "payload-last", "sig-0", "sig-31", "sig-last"],
)
def test_tampered_receipt_is_refused(cn, sealed, accepted, segment, position):
    tampered = flip_byte(accepted, segment, position)
    with rejected(BadSignature, "bad_signature"):
        verify_receipt(tampered, sender_anchor=cn.public(), expected_digest=digest(sealed))


def test_receipt_with_flipped_status_is_refused(cn, sealed, accepted):
    """A re-serialised payload saying 'rejected' keeps the original signature: refused."""
    header, payload, signature = accepted.split(".")
    forged_payload = canonical_json(
        {
            "from": "CN",
            "iat": T + 2,
            "msg_id": None,
            "envelope_digest": digest(sealed),
            "status": "rejected",
            "reason_code": "expired",
        }
    )
    forged = f"{header}.{b64url_encode(forged_payload)}.{signature}"
    with rejected(BadSignature, "bad_signature"):
        verify_receipt(forged, sender_anchor=cn.public(), expected_digest=digest(sealed))


def test_receipt_for_a_different_envelope_is_refused(cn, accepted):
    with rejected(DigestMismatch, "digest_mismatch"):
        verify_receipt(accepted, sender_anchor=cn.public(), expected_digest="0" * 64)


def test_receipt_from_an_unpinned_key_is_refused(kh, sealed, accepted):
    with rejected(UnknownSigner, "unknown_signer"):
        verify_receipt(accepted, sender_anchor=kh.public(), expected_digest=digest(sealed))


def test_receipt_naming_another_sender_is_refused(cn, sealed):
    payload = {
        "from": "VN",
        "iat": T,
        "msg_id": None,
        "envelope_digest": digest(sealed),
        "status": "accepted",
        "reason_code": None,
    }
    key = cn.current("sig", T)
    token = sign_raw(
        {"alg": "Ed25519", "kid": key.kid, "typ": jose.RECEIPT_TYP}, canonical_json(payload), key
    )
    with rejected(WrongSender, "wrong_sender"):
        verify_receipt(token, sender_anchor=cn.public(), expected_digest=digest(sealed))


def test_receipt_signed_outside_key_window_is_refused(cn, sealed):
    key = cn.current("sig", T)
    payload = {
        "from": "CN",
        "iat": key.not_after,
        "msg_id": None,
        "envelope_digest": digest(sealed),
        "status": "accepted",
        "reason_code": None,
    }
    token = jose.sign_jws(canonical_json(payload), key, jose.RECEIPT_TYP)
    with rejected(KeyNotValid, "key_not_valid"):
        verify_receipt(token, sender_anchor=cn.public(), expected_digest=digest(sealed))


def test_signed_message_cannot_pass_as_receipt(kh, cn, sealed, open_at_cn):
    inner = open_at_cn(sealed).jws
    with rejected(WrongType, "wrong_typ"):
        verify_receipt(inner, sender_anchor=kh.public(), expected_digest=digest(sealed))


def test_receipt_cannot_pass_as_message(cn, kh, accepted, open_at_cn):
    """Even wrapped in a valid JWE, a receipt is not a message."""
    with rejected(WrongType, "wrong_typ"):
        open_at_cn(encrypt_to(accepted, cn.public()), sender_anchor=cn.public())


def test_receipt_is_not_an_envelope(accepted, open_at_cn):
    with rejected(MalformedToken, "malformed"):
        open_at_cn(accepted)


@pytest.mark.parametrize(
    ("status", "reason"),
    [("rejected", None), ("accepted", "expired"), ("maybe", None), ("rejected", "Bad Code")],
)
def test_make_receipt_validates_status_and_reason(cn, sealed, status, reason):
    with rejected(InvalidPayload, "invalid_payload"):
        make_receipt(
            envelope_digest=digest(sealed),
            msg_id=None,
            status=status,
            reason_code=reason,
            signer_keys=cn,
            now=T,
        )
