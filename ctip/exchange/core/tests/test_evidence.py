"""seal_envelope's evidence, the in_reply_to/case_ref claims, and receipt key choice."""

from __future__ import annotations

import uuid

import pytest

from ctip.exchange.core import (
    DigestMismatch,
    InvalidPayload,
    KeySelectionError,
    digest,
    make_receipt,
    seal_envelope,
    verify_receipt,
    verify_signature_at,
)

from .forge import DAY, T, decoded_header, rejected


def test_sealed_envelope_carries_its_evidence(kh, cn, open_at_cn):
    request = str(uuid.uuid4())
    sealed = seal_envelope(
        msg_type="case.reply",
        body={"ok": True},
        seq=3,
        sender_keys=kh,
        receiver_public_keys=cn.public(),
        now=T,
        in_reply_to=request,
        case_ref="KH-C-00A1",
    )
    assert sealed.digest == digest(sealed.token)
    assert sealed.signer_kid == kh.current("sig", T).kid == decoded_header(sealed.jws)["kid"]
    opened = open_at_cn(sealed.token)
    assert opened.jws == sealed.jws and opened.msg_id == sealed.msg_id
    assert (opened.in_reply_to, opened.case_ref, opened.schema) == (request, "KH-C-00A1", 1)
    archived = verify_signature_at(sealed.jws, kh.public(), T)
    assert archived.payload == sealed.payload


@pytest.mark.parametrize(
    "field",
    [
        {"in_reply_to": "not-a-uuid"},
        {"case_ref": "Chan Sokha"},  # a space: names are not references
        {"case_ref": "x" * 65},
        {"case_ref": "../etc"},
    ],
)
def test_reply_and_case_claims_are_validated(kh, cn, field):
    with pytest.raises(InvalidPayload):
        seal_envelope(
            msg_type="t",
            body={},
            seq=1,
            sender_keys=kh,
            receiver_public_keys=cn.public(),
            now=T,
            **field,
        )


def test_messages_without_the_new_claims_still_open(sealed, open_at_cn):
    opened = open_at_cn(sealed)
    assert opened.in_reply_to is None and opened.case_ref is None


def test_receipt_signed_with_a_named_key_and_any_of_several_digests(kh, sealed):
    old = kh.current("sig", T)
    receipt = make_receipt(
        envelope_digest=digest(sealed),
        msg_id=None,
        status="accepted",
        reason_code=None,
        signer_keys=kh,
        now=T,
        signing_kid=old.kid,
    )
    verified = verify_receipt(
        receipt, sender_anchor=kh.public(), expected_digest=["0" * 64, digest(sealed)]
    )
    assert verified.signer_kid == old.kid
    with rejected(DigestMismatch, "digest_mismatch"):
        verify_receipt(receipt, sender_anchor=kh.public(), expected_digest=["0" * 64, "1" * 64])
    with rejected(DigestMismatch, "digest_mismatch"):
        verify_receipt(receipt, sender_anchor=kh.public(), expected_digest=[])


def test_receipt_refuses_an_unknown_or_expired_signing_kid(kh, sealed):
    for kid, now in (("nope", T), (kh.current("sig", T).kid, T + 400 * DAY)):
        with pytest.raises(KeySelectionError):
            make_receipt(
                envelope_digest=digest(sealed),
                msg_id=None,
                status="accepted",
                reason_code=None,
                signer_keys=kh,
                now=now,
                signing_kid=kid,
            )
