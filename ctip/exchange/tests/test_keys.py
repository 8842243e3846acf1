"""Pinning a peer by fingerprint, and key rotation with overlap in both directions (matrix #17)."""

from __future__ import annotations

import json
import stat
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ctip.audit.models import Action, AuditEvent
from ctip.exchange import keystore, services
from ctip.exchange.conf import keys_file
from ctip.exchange.core import fingerprint, public_jwks, seal
from ctip.exchange.core.tests.forge import encrypt_to, inner_jws, message_payload
from ctip.exchange.errors import PinRefused
from ctip.exchange.models import InboxMessage, OutboxMessage, Peer, PinnedAnchor

pytestmark = pytest.mark.django_db
DAY = 86_400


def now() -> int:
    return int(time.time())


# --- pinning ------------------------------------------------------------------------------------


def pin_cn(cn_keys, expected: str | None = None, **kwargs):
    return services.peer_pin(
        actor=kwargs.pop("actor", None),
        jwks=kwargs.pop("jwks", public_jwks(cn_keys.public())),
        expected_fingerprint=fingerprint(cn_keys.public()) if expected is None else expected,
        **kwargs,
    )


def test_pin_with_the_right_fingerprint(cn_keys, node_admin):
    peer, changed = pin_cn(cn_keys, url="https://cn.example/", actor=node_admin)
    assert changed and peer.url == "https://cn.example"
    assert peer.pinned.fingerprint == fingerprint(cn_keys.public()) and peer.pinned.version == 1
    event = AuditEvent.objects.get(action=Action.CREATE, object_type="exchange.peer")
    assert event.actor_username == "node_admin" and event.details["version"] == 1
    # Read aloud, typed back in capitals without dashes: still the same fingerprint.
    spoken = fingerprint(cn_keys.public()).replace("-", "").upper()
    assert pin_cn(cn_keys, spoken) == (peer, False)


def test_wrong_fingerprint_pins_nothing(cn_keys, kh_keys):
    other = fingerprint(kh_keys.public())
    with pytest.raises(PinRefused, match="fingerprint mismatch") as info:
        pin_cn(cn_keys, other)
    assert fingerprint(cn_keys.public()) in str(info.value)
    assert Peer.objects.count() == 0 and PinnedAnchor.objects.count() == 0
    event = AuditEvent.objects.get(details__event="peer_pin_refused")
    assert event.details["expected"] == other


def test_our_own_keys_cannot_be_pinned_as_a_peer(kh_keys):
    with pytest.raises(PinRefused, match="own keys"):
        services.peer_pin(
            actor=None,
            jwks=public_jwks(kh_keys.public()),
            expected_fingerprint=fingerprint(kh_keys.public()),
        )


@pytest.mark.parametrize("bad", ["", "1234", "zz" * 16])
def test_a_fingerprint_must_look_like_one(cn_keys, bad):
    with pytest.raises(PinRefused, match="32 hexadecimal"):
        pin_cn(cn_keys, bad)


def test_not_a_key_set(cn_keys):
    with pytest.raises(PinRefused, match="not a valid public key set"):
        pin_cn(cn_keys, jwks={"node_id": "CN", "keys": [{"kty": "RSA"}]})
    private = json.loads(keystore.dump_private_keys(cn_keys))
    with pytest.raises(PinRefused):
        pin_cn(cn_keys, jwks={"node_id": "CN", "keys": private["keys"]})


def test_peer_add_command_fetches_and_compares(cn_keys, fake_cn, capsys):
    with pytest.raises(CommandError, match="fingerprint mismatch"):
        call_command("peer", "add", "--url", fake_cn.url, "--fingerprint", "0" * 32)
    assert Peer.objects.count() == 0
    call_command(
        "peer", "add", "--url", fake_cn.url, "--fingerprint", fingerprint(cn_keys.public())
    )
    assert "Peer CN pinned" in capsys.readouterr().out
    assert Peer.objects.get().url == fake_cn.url


def test_peer_add_command_reports_an_unreachable_peer():
    with pytest.raises(CommandError, match="cannot fetch the peer's keys"):
        call_command("peer", "add", "--url", "http://127.0.0.1:9", "--fingerprint", "0" * 32)


def test_peer_add_from_a_file(cn_keys, tmp_path, capsys):
    path = tmp_path / "cn.jwks.json"
    path.write_text(json.dumps(public_jwks(cn_keys.public())))
    call_command("peer", "add", "--jwks", str(path), "--fingerprint", fingerprint(cn_keys.public()))
    assert "(bundle files only)" in capsys.readouterr().out
    call_command("peer", "list")
    assert fingerprint(cn_keys.public()) in capsys.readouterr().out


def test_key_file_is_private_and_rewritten_atomically(kh_keys, tmp_path):
    path = keys_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys = keystore.create_keys(tmp_path, "CN", now=now())
    assert stat.S_IMODE((tmp_path / keystore.KEYS_FILE).stat().st_mode) == 0o600
    with pytest.raises(keystore.KeyStoreError, match="already exists"):
        keystore.create_keys(tmp_path, "CN")
    assert keystore.read_keys(tmp_path / keystore.KEYS_FILE, "CN").public() == keys.public()
    with pytest.raises(keystore.KeyStoreError, match="not KH"):
        keystore.read_keys(tmp_path / keystore.KEYS_FILE, "KH")
    assert not list(tmp_path.glob("*.tmp"))


# --- our rotation (outbound) ---------------------------------------------------------------------


def test_rotation_announces_new_keys_signed_with_the_old_one(
    restore_kh_keys, kh_keys, cn_peer, fake_cn
):
    t = now()
    old_sig = kh_keys.current("sig", t)
    new = services.keys_rotate(actor=None, now=t, overlap=2 * DAY)
    assert len(new.keys) == 4
    assert new.get(old_sig.kid, "sig").not_after == t + 2 * DAY
    assert services.our_keys().public() == new.public()
    cn_peer.refresh_from_db()
    assert cn_peer.sign_with == old_sig.kid
    announcement = OutboxMessage.objects.get(msg_type="keys.update")
    assert json.loads(announcement.body)["jwks"] == public_jwks(new.public())
    assert AuditEvent.objects.filter(details__event="exchange_keys_rotated").count() == 1

    services.outbox_relay(peer=cn_peer)
    (received,) = fake_cn.received
    assert received.signer_kid == old_sig.kid  # CN can verify it with what it pinned
    cn_peer.refresh_from_db()
    assert cn_peer.sign_with == ""  # CN acknowledged: sign with the new key from now on

    fake_cn.sender_anchor = new.public()  # CN pins the announced keys (its handler's job)
    services.message_send(
        actor=None, to="CN", msg_type="ping", body={"nonce": "aaaabbbbccccdddd"}, enqueue=False
    )
    services.outbox_relay(peer=cn_peer)
    assert fake_cn.received[-1].signer_kid == new.current("sig", t).kid != old_sig.kid
    assert services.log_verify().ok  # old and new signatures, both still verify


def test_rotate_keys_command(restore_kh_keys, kh_keys, capsys, db):
    call_command("exchange", "rotate-keys", "--overlap-days", "1")
    out = capsys.readouterr().out
    assert f"fingerprint {fingerprint(services.our_keys().public())}" in out
    assert "Announced to: none" in out


# --- the peer's rotation (inbound) ------------------------------------------------------------


@pytest.fixture
def cn_rotated(cn_keys, kh_keys):
    """CN pinned here with its current keys, then rotated at T with a one-day overlap."""
    from .conftest import pin

    pin(cn_keys, "")
    t = now() - 3600
    return t, cn_keys, keystore.rotated(cn_keys, now=t, overlap=DAY)


def from_cn(keys, kh_keys, t, **kwargs):
    kwargs.setdefault("msg_type", "ping")
    kwargs.setdefault("body", {"nonce": "0123456789abcdef"})
    kwargs.setdefault("seq", 1)
    return seal(sender_keys=keys, receiver_public_keys=kh_keys.public(), now=t, **kwargs)


def test_peer_rotation_with_overlap(cn_rotated, kh_keys):
    t, old, new = cn_rotated
    old_kid, new_kid = old.current("sig", t).kid, new.current("sig", t).kid
    # Before the announcement, the new key is unknown here.
    early = from_cn(new, kh_keys, t + 5)
    assert services.envelope_receive(token=early, transport="http").reason_code == "unknown_signer"

    announcement = from_cn(
        new,
        kh_keys,
        t + 10,
        msg_type="keys.update",
        body={"jwks": public_jwks(new.public())},
        signing_kid=old_kid,
    )
    assert services.envelope_receive(token=announcement, transport="http").status == "accepted"
    pinned = Peer.objects.get(node_id="CN").pinned
    assert (pinned.version, pinned.source, pinned.fingerprint) == (
        2,
        "message",
        fingerprint(new.public()),
    )
    assert AuditEvent.objects.filter(details__event="peer_keys_updated").count() == 1

    # During the overlap both keys verify.
    assert services.envelope_receive(token=early, transport="http").status == "accepted"
    with_old = from_cn(new, kh_keys, t + 20, seq=2, signing_kid=old_kid)
    assert services.envelope_receive(token=with_old, transport="http").status == "accepted"

    # After the old key's end, a message under it is refused ...
    after = t + DAY + 60
    payload = message_payload("CN", "KH", after)
    payload.update(type="ping", body={"nonce": "0123456789abcdef"})
    late = encrypt_to(inner_jws(payload, old.current("sig", t)), kh_keys.public(), after)
    refused = services.envelope_receive(token=late, transport="http", now=after + 1)
    assert refused.reason_code == "key_not_valid"
    assert InboxMessage.objects.count() == 3
    assert new_kid in {m.signer_kid for m in InboxMessage.objects.all()}
    # ... while what was signed with it before still verifies in the archive.
    assert services.log_verify().ok


def test_announcement_must_carry_its_own_signing_key(cn_rotated, kh_keys):
    t, old, new = cn_rotated
    without_old = public_jwks(new.public())
    without_old["keys"] = [k for k in without_old["keys"] if k["kid"] != old.current("sig", t).kid]
    token = from_cn(old, kh_keys, t, msg_type="keys.update", body={"jwks": without_old})
    result = services.envelope_receive(token=token, transport="http")
    assert result.reason_code == "handler_refused"
    assert Peer.objects.get(node_id="CN").pinned.version == 1


def test_an_announcement_cannot_undo_our_revocation(cn_rotated, kh_keys):
    t, old, new = cn_rotated
    old_enc = old.current("enc", t).kid
    services.peer_revoke_key(actor=None, node_id="CN", kid=old_enc, revoked_at=t + 30)
    token = from_cn(
        old,
        kh_keys,
        t + 60,
        msg_type="keys.update",
        body={"jwks": public_jwks(new.public())},
    )
    assert services.envelope_receive(token=token, transport="http").status == "accepted"
    anchor = Peer.objects.get(node_id="CN").anchor()
    assert anchor.get(old_enc, "enc").revoked_at == t + 30


def test_revoke_key_command(cn_rotated, capsys):
    t, old, _ = cn_rotated
    kid = old.current("sig", t).kid
    # A kid may start with "-": give it as --kid=KID.
    call_command("peer", "revoke-key", "--peer", "CN", f"--kid={kid}", "--at", str(t))
    assert f"Key {kid} of CN revoked from {t}" in capsys.readouterr().out
    assert Peer.objects.get().anchor().get(kid, "sig").revoked_at == t
    with pytest.raises(CommandError, match="has no key"):
        call_command("peer", "revoke-key", "--peer", "CN", "--kid", "nope")
