"""A peer node pinned in this node's exchange, for tests that only need messages to wait in
the outbox (no address: nothing is delivered). Shared by the apps' exchange tests."""

from __future__ import annotations

import time

from django.conf import settings


def pin_offline_peer(node: str = "CN", *, valid_from_ago: int = 60, valid_for: int = 86_400):
    """This node's exchange keys (made if missing), and ``node`` pinned as its peer with a
    fresh key pair valid from ``valid_from_ago`` seconds ago for ``valid_for`` seconds."""
    from ctip.exchange import keystore, services
    from ctip.exchange.conf import keys_file
    from ctip.exchange.core import fingerprint, generate_node_keys, public_jwks
    from ctip.exchange.models import AnchorSource

    if not keys_file().exists():
        keystore.create_keys(
            settings.CTIP_HOME, settings.CTIP_NODE, now=int(time.time()) - 30 * 86_400
        )
    services._keys_cache.clear()
    now = int(time.time())
    keys = generate_node_keys(node, not_before=now - valid_from_ago, not_after=now + valid_for)
    peer, _ = services.peer_pin(
        actor=None,
        jwks=public_jwks(keys.public()),
        expected_fingerprint=fingerprint(keys.public()),
        url="",
        source=AnchorSource.FILE,
    )
    return peer


def received_from_peer(peer, msg_type: str, body: dict, *, purpose="", in_reply_to=None):
    """A message from ``peer`` as the exchange hands it to a handler: verified, schema-valid
    and in the inbox (so that an answer can reply to it)."""
    import json
    import secrets
    import uuid

    from django.utils import timezone

    from ctip.exchange.models import InboxMessage
    from ctip.exchange.registry import IncomingMessage, message_type, validate_body

    validate_body(message_type(msg_type, 1), body)
    msg_id = str(uuid.uuid4())
    InboxMessage.objects.create(
        peer=peer,
        msg_id=msg_id,
        seq=InboxMessage.objects.count() + 1,
        msg_type=msg_type,
        schema_version=1,
        purpose=purpose,
        in_reply_to=in_reply_to,
        body=json.dumps(body),
        envelope_digest=secrets.token_hex(32),
        signer_kid=f"{peer.node_id.lower()}-test",
        transport="https",
        receipt="",
        sent_at=timezone.now(),
    )
    return IncomingMessage(
        msg_id=msg_id,
        sender=peer.node_id,
        msg_type=msg_type,
        schema_version=1,
        body=body,
        case_ref=None,
        purpose=purpose or None,
        in_reply_to=in_reply_to,
        signer_kid=f"{peer.node_id.lower()}-test",
        sent_at=timezone.now(),
        transport="https",
    )
