"""The message types exchange itself defines: ``ping`` (the link check) and ``keys.update``
(a peer announcing its rotated keys)."""

from __future__ import annotations

from ctip.audit.services import audit_security_event
from ctip.exchange import registry
from ctip.exchange.core import HandlerRefused, anchor_from_jwks, fingerprint
from ctip.exchange.models import AnchorSource, Peer
from ctip.exchange.services import _anchor_problems, _new_anchor_version


def handle_ping(message: registry.IncomingMessage) -> None:
    """A ping has no business effect: its signed receipt is the answer."""


def handle_keys_update(message: registry.IncomingMessage) -> None:
    """The peer announces its new keys, signed with a key we already trust.

    The new set must contain the key that signed the announcement (continuity), and keys
    we revoked stay revoked whatever the announcement says.
    """
    try:
        announced = anchor_from_jwks(message.body["jwks"])
    except (ValueError, TypeError, KeyError) as exc:
        raise HandlerRefused(f"not a valid key set: {exc}") from None
    if announced.node_id != message.sender:
        raise HandlerRefused("the key set names another node")
    if announced.get(message.signer_kid, "sig") is None:
        raise HandlerRefused("the new key set must hold the key that signed the announcement")
    peer = Peer.objects.select_for_update().get(node_id=message.sender)
    current = peer.anchor()
    merged = announced
    for entry in current:
        if entry.revoked_at is not None and merged.get(entry.kid, entry.use) is not None:
            mine = merged.get(entry.kid, entry.use)
            if mine.revoked_at is None or mine.revoked_at > entry.revoked_at:
                merged = merged.with_revocation(entry.kid, entry.revoked_at)
    problem = _anchor_problems(merged, int(message.sent_at.timestamp()))
    if problem:
        raise HandlerRefused(problem)
    if fingerprint(merged) == peer.pinned.fingerprint:
        return
    row = _new_anchor_version(
        peer, merged, source=AnchorSource.MESSAGE, pinned_by=f"message {message.msg_id}"
    )
    audit_security_event(
        actor=None,
        event="peer_keys_updated",
        object_type="exchange.peer",
        object_id=peer.node_id,
        details={"fingerprint": row.fingerprint, "version": row.version, "msg_id": message.msg_id},
    )


PING_SCHEMA = {
    "type": "object",
    "properties": {"nonce": {"type": "string", "pattern": "^[0-9a-f]{8,64}$"}},
    "required": ["nonce"],
    "additionalProperties": False,
}
JWK_SCHEMA = {
    "type": "object",
    "properties": {
        "kty": {"const": "OKP"},
        "crv": {"enum": ["Ed25519", "X25519"]},
        "x": {"type": "string", "maxLength": 64},
        "kid": {"type": "string", "maxLength": 64},
        "use": {"enum": ["sig", "enc"]},
        "alg": {"type": "string", "maxLength": 20},
        "not_before": {"type": "integer"},
        "not_after": {"type": "integer"},
        "revoked_at": {"type": "integer"},
    },
    "required": ["kty", "crv", "x", "kid", "use", "alg", "not_before", "not_after"],
    "additionalProperties": False,
}
KEYS_UPDATE_SCHEMA = {
    "type": "object",
    "properties": {
        "jwks": {
            "type": "object",
            "properties": {
                "node_id": {"type": "string", "maxLength": 8},
                "keys": {"type": "array", "items": JWK_SCHEMA, "minItems": 2, "maxItems": 32},
            },
            "required": ["node_id", "keys"],
            "additionalProperties": False,
        }
    },
    "required": ["jwks"],
    "additionalProperties": False,
}


def register_builtin_types() -> None:
    registry.register_message_type("ping", 1, PING_SCHEMA, handle_ping, personal_data=False)
    registry.register_message_type(
        "keys.update", 1, KEYS_UPDATE_SCHEMA, handle_keys_update, personal_data=False
    )
