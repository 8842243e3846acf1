"""The 2 MiB cap is enforced before any parsing or decryption.

Proof without timing: each oversized token below would, if it were parsed,
produce a *different* outcome (a successful open, UnknownRecipientKey, or
MalformedToken). Getting TokenTooLarge instead shows the size check ran
first and nothing after it did.
"""

from __future__ import annotations

import pytest

from ctip.exchange.core import (
    MAX_TOKEN_BYTES,
    MalformedToken,
    TokenTooLarge,
    jose,
    open_envelope,
    seal,
    verify_receipt,
    verify_signature_at,
)
from ctip.exchange.core.encoding import canonical_json

from .forge import T, message_payload, rejected

BLOB = "x" * MAX_TOKEN_BYTES


@pytest.fixture(scope="module")
def oversized(kh, cn) -> str:
    """A *genuine*, correctly signed and encrypted KH -> CN envelope that is too big."""
    payload = message_payload("KH", "CN", T, body={"blob": BLOB})
    inner = jose.sign_jws(canonical_json(payload), kh.current("sig", T), jose.MESSAGE_TYP)
    token = jose.encrypt_jwe(inner, cn.current("enc", T))
    assert len(token) > MAX_TOKEN_BYTES
    return token


def test_genuine_oversized_envelope_is_refused(oversized, open_at_cn):
    """Would open successfully if decrypted; it is refused instead."""
    with rejected(TokenTooLarge, "too_large"):
        open_at_cn(oversized)


def test_size_check_precedes_key_lookup(oversized, kh, vn):
    """VN holds no key for this token: any header parsing would say unknown_recipient_key."""
    with rejected(TokenTooLarge, "too_large"):
        open_envelope(
            oversized, receiver_keys=vn, sender_anchor=kh.public(), expected_to="VN", now=T
        )


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_oversized_garbage_is_too_large_not_malformed(open_at_cn, as_bytes):
    """Garbage one byte over the cap is too_large; the same garbage at the cap is malformed."""
    over = "A" * (MAX_TOKEN_BYTES + 1)
    at_cap = "A" * MAX_TOKEN_BYTES
    with rejected(TokenTooLarge, "too_large"):
        open_at_cn(over.encode() if as_bytes else over)
    with rejected(MalformedToken, "malformed"):
        open_at_cn(at_cap.encode() if as_bytes else at_cap)


def test_oversized_non_ascii_is_too_large_before_encoding(open_at_cn):
    with rejected(TokenTooLarge, "too_large"):
        open_at_cn("é" * (MAX_TOKEN_BYTES + 1))


def test_receipt_and_archive_paths_share_the_cap(kh):
    big = "A" * (MAX_TOKEN_BYTES + 1)
    with rejected(TokenTooLarge, "too_large"):
        verify_receipt(big, sender_anchor=kh.public(), expected_digest="0" * 64)
    with rejected(TokenTooLarge, "too_large"):
        verify_signature_at(big, kh.public(), T)


def test_seal_refuses_to_emit_an_oversized_token(kh, cn):
    with rejected(TokenTooLarge, "too_large"):
        seal(
            msg_type="t",
            body={"blob": BLOB},
            seq=1,
            sender_keys=kh,
            receiver_public_keys=cn.public(),
            now=T,
        )


def test_large_but_permitted_envelope_round_trips(kh, cn, open_at_cn):
    """1 MiB of body (about 1.8 MiB on the wire) is under the cap and must work end to end."""
    body = {"blob": "y" * (1024 * 1024)}
    token = seal(
        msg_type="t", body=body, seq=1, sender_keys=kh, receiver_public_keys=cn.public(), now=T
    )
    assert len(token) <= MAX_TOKEN_BYTES
    assert open_at_cn(token).body == body
