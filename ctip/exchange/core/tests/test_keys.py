"""Key rings: rotation overlap, expiry, revocation, archive checks, pinning, storage."""

from __future__ import annotations

import json

import pytest

from ctip.exchange.core import (
    KeyNotValid,
    KeyRevoked,
    KeySelectionError,
    NodeKeys,
    anchor_from_jwks,
    canonical_json,
    dump_private_keys,
    fingerprint,
    generate_key,
    generate_node_keys,
    jose,
    load_private_keys,
    open_envelope,
    public_jwks,
    seal,
    verify_signature_at,
)
from ctip.exchange.core.envelope import build_payload

from .forge import DAY, T, rejected

OLD_END = T + 10 * DAY  # old CN signing key's not_after
NEW_START = T  # new CN signing key's not_before: 10 days of overlap


@pytest.fixture(scope="module")
def rotating_cn() -> NodeKeys:
    """CN mid-rotation: old signing key ends at OLD_END, new one started at T."""
    ring = generate_node_keys("CN", not_before=T - 100 * DAY, not_after=T + 365 * DAY)
    old = ring.current("sig", T - DAY)
    ring = NodeKeys("CN", tuple(k for k in ring.keys if k.kid != old.kid))
    ring = ring.with_key(generate_key("sig", not_before=T - 100 * DAY, not_after=OLD_END))
    return ring.with_key(generate_key("sig", not_before=NEW_START, not_after=T + 400 * DAY))


def _kids(ring: NodeKeys) -> tuple[str, str]:
    """(old, new) signing kids, told apart by their windows."""
    sig = sorted(ring.by_use("sig"), key=lambda k: k.not_before)
    return sig[0].kid, sig[1].kid


def _cn_to_kh(ring: NodeKeys, kh: NodeKeys, now: int, kid: str | None = None) -> str:
    return seal(
        msg_type="t",
        body={},
        seq=1,
        sender_keys=ring,
        receiver_public_keys=kh.public(),
        now=now,
        signing_kid=kid,
    )


def _open_at_kh(token: str, kh: NodeKeys, anchor, now: int):
    return open_envelope(token, receiver_keys=kh, sender_anchor=anchor, expected_to="KH", now=now)


# --- rotation ----------------------------------------------------------------------------


def test_both_keys_verify_during_overlap(rotating_cn, kh):
    old, new = _kids(rotating_cn)
    now = T + DAY
    for kid in (old, new):
        message = _open_at_kh(_cn_to_kh(rotating_cn, kh, now, kid), kh, rotating_cn.public(), now)
        assert message.signer_kid == kid


def test_sender_prefers_the_newest_key_during_overlap(rotating_cn, kh):
    _, new = _kids(rotating_cn)
    token = _cn_to_kh(rotating_cn, kh, T + DAY)
    assert _open_at_kh(token, kh, rotating_cn.public(), T + DAY).signer_kid == new


def test_sender_refuses_an_expired_signing_key(rotating_cn, kh):
    old, _ = _kids(rotating_cn)
    with pytest.raises(KeySelectionError):
        _cn_to_kh(rotating_cn, kh, OLD_END, old)


def test_new_message_signed_with_old_key_after_not_after_is_refused(rotating_cn, kh):
    """A stale sender (or a thief of the retired key) signs a fresh message with it."""
    old, _ = _kids(rotating_cn)
    now = OLD_END + DAY
    payload = build_payload(sender="CN", recipient="KH", msg_type="t", body={}, seq=9, now=now)
    key = rotating_cn.get(old, "sig")
    inner = jose.sign_jws(canonical_json(payload), key, jose.MESSAGE_TYP)
    token = jose.encrypt_jwe(inner, kh.current("enc", now))
    with rejected(KeyNotValid, "key_not_valid"):
        _open_at_kh(token, kh, rotating_cn.public(), now)


def test_archived_message_signed_inside_window_still_verifies_later(rotating_cn, kh):
    old, _ = _kids(rotating_cn)
    signed_at = T + DAY
    message = _open_at_kh(
        _cn_to_kh(rotating_cn, kh, signed_at, old), kh, rotating_cn.public(), signed_at
    )
    # Years later, long after the old key's not_after, the evidence still checks out.
    archived = verify_signature_at(message.jws, rotating_cn.public(), at_time=signed_at)
    assert archived.signer_kid == old
    assert archived.payload == message.payload
    # But the archive will not vouch for that key at a time outside its window.
    with rejected(KeyNotValid, "key_not_valid"):
        verify_signature_at(message.jws, rotating_cn.public(), at_time=OLD_END)


def test_key_not_yet_valid_at_iat_is_refused(rotating_cn, kh):
    _, new = _kids(rotating_cn)
    now = NEW_START - DAY
    payload = build_payload(sender="CN", recipient="KH", msg_type="t", body={}, seq=1, now=now)
    inner = jose.sign_jws(canonical_json(payload), rotating_cn.get(new, "sig"), jose.MESSAGE_TYP)
    token = jose.encrypt_jwe(inner, kh.current("enc", now))
    with rejected(KeyNotValid, "key_not_valid"):
        _open_at_kh(token, kh, rotating_cn.public(), now)


# --- revocation --------------------------------------------------------------------------


def test_revocation_at_t(kh, cn):
    """KH revokes CN's signing key at R: messages claiming iat < R pass, iat >= R do not."""
    revoked_at = T + 5 * DAY
    sig = cn.current("sig", T)
    anchor = cn.public().with_revocation(sig.kid, revoked_at)

    before = seal(
        msg_type="t",
        body={},
        seq=1,
        sender_keys=cn,
        receiver_public_keys=kh.public(),
        now=revoked_at - 1,
    )
    message = _open_at_kh(before, kh, anchor, revoked_at)
    assert message.signer_kid == sig.kid

    # The thief still has the unrevoked private ring and keeps signing.
    after = seal(
        msg_type="t",
        body={},
        seq=2,
        sender_keys=cn,
        receiver_public_keys=kh.public(),
        now=revoked_at,
    )
    with rejected(KeyRevoked, "key_revoked"):
        _open_at_kh(after, kh, anchor, revoked_at + 1)

    verify_signature_at(message.jws, anchor, at_time=revoked_at - 1)
    with rejected(KeyRevoked, "key_revoked"):
        verify_signature_at(message.jws, anchor, at_time=revoked_at)


def test_sender_will_not_sign_with_its_own_revoked_key(cn, kh):
    sig = cn.current("sig", T)
    revoked = cn.with_revocation(sig.kid, T)
    with pytest.raises(KeySelectionError):
        seal(
            msg_type="t",
            body={},
            seq=1,
            sender_keys=revoked,
            receiver_public_keys=kh.public(),
            now=T,
        )


# --- pinning and storage -----------------------------------------------------------------


def test_public_jwks_has_no_private_parts_and_round_trips(kh):
    jwks = public_jwks(kh)
    text = canonical_json(jwks).decode("utf-8")
    assert '"d"' not in text
    assert {k["use"] for k in jwks["keys"]} == {"sig", "enc"}
    assert {k["alg"] for k in jwks["keys"]} == {"Ed25519", "ECDH-ES+A256KW"}
    anchor = anchor_from_jwks(text)
    assert fingerprint(anchor) == fingerprint(kh) == fingerprint(kh.public())
    assert public_jwks(anchor) == jwks


def test_fingerprint_is_short_grouped_hex_and_stable(kh):
    value = fingerprint(kh)
    groups = value.split("-")
    assert len(groups) == 8
    assert all(len(g) == 4 and int(g, 16) >= 0 for g in groups)
    assert fingerprint(anchor_from_jwks(json.dumps(public_jwks(kh), indent=4))) == value


def test_fingerprint_changes_with_any_key_or_window_change(kh, cn):
    base = fingerprint(kh)
    sig = kh.current("sig", T)
    assert fingerprint(cn) != base
    assert fingerprint(kh.with_revocation(sig.kid, T)) != base
    extra = generate_key("sig", not_before=T, not_after=T + DAY)
    assert fingerprint(kh.with_key(extra)) != base


def test_key_order_does_not_change_fingerprint(kh):
    reordered = NodeKeys("KH", tuple(reversed(kh.keys)))
    assert fingerprint(reordered) == fingerprint(kh)


def test_private_keys_round_trip_through_json(kh, cn):
    restored = load_private_keys(dump_private_keys(kh))
    assert fingerprint(restored) == fingerprint(kh)
    token = seal(
        msg_type="t", body={}, seq=1, sender_keys=restored, receiver_public_keys=cn.public(), now=T
    )
    message = open_envelope(
        token, receiver_keys=cn, sender_anchor=kh.public(), expected_to="CN", now=T
    )
    assert message.sender == "KH"


def test_anchor_refuses_private_jwk(kh):
    leaked = {"node_id": "KH", "keys": [k.to_jwk(private=True) for k in kh.keys]}
    with pytest.raises(ValueError, match="public key expected"):
        anchor_from_jwks(leaked)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(lambda k: k.update(kid="attacker-chosen"), "thumbprint", id="kid"),
        pytest.param(
            lambda k: k.update(alg="EdDSA" if k["use"] == "sig" else "RSA1_5"), "alg", id="alg"
        ),
        pytest.param(
            lambda k: k.update(crv="X25519" if k["use"] == "sig" else "Ed25519"),
            "must be",
            id="crv-swapped",
        ),
        pytest.param(lambda k: k.update(use="both"), "use", id="use"),
        pytest.param(lambda k: k.update(jku="https://evil.example"), "unexpected", id="jku"),
        pytest.param(lambda k: k.update(not_after=k["not_before"]), "earlier", id="empty-window"),
        pytest.param(lambda k: k.update(not_before="0"), "integers", id="window-str"),
    ],
)
def test_anchor_refuses_inconsistent_jwk(kh, mutate, message):
    jwks = public_jwks(kh)
    for key in jwks["keys"]:
        mutate(key)
    with pytest.raises(ValueError, match=message):
        anchor_from_jwks(jwks)


def test_anchor_refuses_duplicate_members_in_jwks_text(kh):
    text = canonical_json(public_jwks(kh)).decode("utf-8")
    with pytest.raises(ValueError, match="duplicate_key"):
        anchor_from_jwks('{"node_id":"CN",' + text[1:])


def test_load_private_keys_refuses_other_documents(kh):
    with pytest.raises(ValueError):
        load_private_keys(json.dumps(public_jwks(kh)))
