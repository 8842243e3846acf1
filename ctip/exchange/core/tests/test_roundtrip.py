"""The happy path: what a correct sender produces, a correct receiver accepts."""

from __future__ import annotations

import uuid

from ctip.exchange.core import (
    digest,
    open_envelope,
    seal,
    verify_signature_at,
)
from ctip.exchange.core.jose import MESSAGE_TYP

from .forge import T, decoded_header


def test_round_trip_returns_payload_signer_and_digest(kh, cn, sealed, open_at_cn):
    message = open_at_cn(sealed)

    assert message.payload["from"] == "KH"
    assert message.payload["to"] == "CN"
    assert message.body == {"case": "K-1", "names": ["Sok", "李"]}
    assert message.seq == 7
    assert message.type == "case.refer"
    assert message.payload["iat"] == T
    assert message.payload["request_hash"] is None
    assert uuid.UUID(message.msg_id).version == 4
    assert message.signer_kid == kh.current("sig", T).kid
    assert message.digest == digest(sealed)
    assert len(message.digest) == 64


def test_round_trip_accepts_bytes_token(sealed, open_at_cn):
    assert open_at_cn(sealed.encode("ascii")).digest == digest(sealed)


def test_outer_header_is_exactly_what_the_policy_allows(cn, sealed):
    header = decoded_header(sealed)
    assert set(header) == {"alg", "enc", "kid", "epk", "cty"}
    assert header["alg"] == "ECDH-ES+A256KW"
    assert header["enc"] == "A256GCM"
    assert header["kid"] == cn.current("enc", T).kid
    assert header["epk"]["crv"] == "X25519"


def test_inner_jws_is_ed25519_typed_and_archivable(kh, sealed, open_at_cn):
    message = open_at_cn(sealed)
    assert decoded_header(message.jws) == {
        "alg": "Ed25519",
        "kid": kh.current("sig", T).kid,
        "typ": MESSAGE_TYP,
    }
    archived = verify_signature_at(message.jws, kh.public(), at_time=T)
    assert archived.payload == message.payload
    assert archived.typ == MESSAGE_TYP


def test_reply_carries_request_hash_and_optional_fields(kh, cn, sealed, open_at_cn):
    reply = seal(
        msg_type="case.refer.ack",
        body={},
        seq=1,
        sender_keys=cn,
        receiver_public_keys=kh.public(),
        now=T + 10,
        request_hash=digest(sealed),
        purpose="victim_return",
        legal_basis="MOU-2019 art. 5",
        consent_ref="consent/abc",
    )
    message = open_envelope(
        reply, receiver_keys=kh, sender_anchor=cn.public(), expected_to="KH", now=T + 11
    )
    assert message.payload["request_hash"] == digest(sealed)
    assert message.payload["purpose"] == "victim_return"
    assert message.payload["legal_basis"] == "MOU-2019 art. 5"
    assert message.payload["consent_ref"] == "consent/abc"


def test_each_seal_is_fresh(kh, cn):
    def once() -> str:
        return seal(
            msg_type="t", body={}, seq=1, sender_keys=kh, receiver_public_keys=cn.public(), now=T
        )

    first, second = once(), once()
    assert first != second  # new ephemeral key, IV and msg_id every time
