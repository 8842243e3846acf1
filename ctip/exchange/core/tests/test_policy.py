"""Receiver policy: lifetime and age caps close the backdated-iat hole of old keys."""

from __future__ import annotations

import pytest

from ctip.exchange.core import (
    DEFAULT_TTL,
    KeyRevoked,
    LifetimeTooLong,
    NodeKeys,
    ReceiverPolicy,
    TooOld,
    generate_node_keys,
    seal,
)

from .forge import DAY, T, rejected

HOUR = 3600


def test_default_policy_accepts_the_default_lifetime(sealed, open_at_cn):
    assert open_at_cn(sealed, policy=ReceiverPolicy()).msg_id


def test_lifetime_longer_than_policy_is_refused(kh, cn, open_at_cn):
    token = seal(
        msg_type="t",
        body={},
        seq=1,
        sender_keys=kh,
        receiver_public_keys=cn.public(),
        now=T,
        ttl=30 * DAY,
    )
    with rejected(LifetimeTooLong, "lifetime_too_long"):
        open_at_cn(token)
    # The same token is fine under a looser policy (bundle files travel for days).
    loose = ReceiverPolicy(max_lifetime=30 * DAY, max_age=30 * DAY)
    assert open_at_cn(token, policy=loose).msg_id


def test_message_older_than_max_age_is_refused(sealed, open_at_cn):
    policy = ReceiverPolicy(max_age=6 * HOUR)
    assert open_at_cn(sealed, now=T + 6 * HOUR, policy=policy)
    with rejected(TooOld, "too_old"):
        open_at_cn(sealed, now=T + 6 * HOUR + 1, policy=policy)


def test_bare_max_skew_keeps_the_rest_of_the_policy(kh, cn, open_at_cn):
    token = seal(
        msg_type="t",
        body={},
        seq=1,
        sender_keys=kh,
        receiver_public_keys=cn.public(),
        now=T,
        ttl=2 * DAY,
    )
    with rejected(LifetimeTooLong, "lifetime_too_long"):
        open_at_cn(token, max_skew=5)


@pytest.mark.parametrize(
    "kwargs", [{"max_skew": -1}, {"max_lifetime": 0}, {"max_age": 0}, {"max_age": 1.5}]
)
def test_policy_values_are_checked(kwargs):
    with pytest.raises(ValueError):
        ReceiverPolicy(**kwargs)


def test_revoked_key_cannot_backdate_beyond_the_policy(cn):
    """The flagged gap: a thief of KH's signing key, revoked at R, backdates iat to R - 1.

    Accepted at most ``min(max_lifetime, max_age)`` after R; a far ``exp`` is refused.
    """
    kh_stolen = generate_node_keys("KH", not_before=T - 100 * DAY, not_after=T + 365 * DAY)
    revoked_at = T
    anchor = kh_stolen.public().with_revocation(kh_stolen.current("sig", T).kid, revoked_at)
    policy = ReceiverPolicy(max_lifetime=DEFAULT_TTL, max_age=6 * HOUR)

    def forged(ttl: int) -> str:
        return seal(
            msg_type="t",
            body={},
            seq=1,
            sender_keys=kh_stolen,
            receiver_public_keys=cn.public(),
            now=revoked_at - 1,  # backdated into the key's valid window
            ttl=ttl,
        )

    def open_(token: str, now: int):
        from ctip.exchange.core import open_envelope

        return open_envelope(
            token,
            receiver_keys=cn,
            sender_anchor=anchor,
            expected_to="CN",
            now=now,
            policy=policy,
        )

    with rejected(LifetimeTooLong, "lifetime_too_long"):
        open_(forged(365 * DAY), now=revoked_at + 30 * DAY)
    with rejected(TooOld, "too_old"):
        open_(forged(DEFAULT_TTL), now=revoked_at + 7 * HOUR)
    # Signed *after* the revocation with an honest iat: refused as revoked.
    honest = seal(
        msg_type="t",
        body={},
        seq=1,
        sender_keys=kh_stolen,
        receiver_public_keys=cn.public(),
        now=revoked_at + 10,
    )
    with rejected(KeyRevoked, "key_revoked"):
        open_(honest, now=revoked_at + 11)


def test_opening_with_several_anchors_picks_the_signer(kh, cn, vn, sealed):
    from ctip.exchange.core import UnknownSigner, open_envelope

    message = open_envelope(
        sealed,
        receiver_keys=cn,
        sender_anchor=[vn.public(), kh.public()],
        expected_to="CN",
        now=T + 1,
    )
    assert message.sender == "KH"
    with rejected(UnknownSigner, "unknown_signer"):
        open_envelope(
            sealed, receiver_keys=cn, sender_anchor=[vn.public()], expected_to="CN", now=T + 1
        )
    # Two anchors claiming one key: trust neither.
    clash = NodeKeys("VN", kh.keys).public()
    with rejected(UnknownSigner, "unknown_signer"):
        open_envelope(
            sealed,
            receiver_keys=cn,
            sender_anchor=[kh.public(), clash],
            expected_to="CN",
            now=T + 1,
        )


def test_own_key_is_named_when_picking_among_anchors(kh, cn):
    from ctip.exchange.core import OwnKeySigner, open_envelope

    reflected = seal(
        msg_type="t", body={}, seq=1, sender_keys=cn, receiver_public_keys=cn.public(), now=T
    )
    with rejected(OwnKeySigner, "own_key_signer"):
        open_envelope(
            reflected,
            receiver_keys=cn,
            sender_anchor=[kh.public(), cn.public()],
            expected_to="CN",
            now=T + 1,
        )
