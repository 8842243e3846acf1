"""Bundle files both ways (in-process; CN is played with the envelope core), and every way a
file can be damaged on its way across the air gap (matrix #20)."""

from __future__ import annotations

import json
import time

import pytest

from ctip.audit.models import Action, AuditEvent
from ctip.exchange import services
from ctip.exchange.core import (
    digest,
    make_bundle,
    make_receipt,
    open_bundle,
    open_envelope,
    seal,
    verify_receipt,
)
from ctip.exchange.core.tests.forge import flip_byte
from ctip.exchange.errors import BundleRefused
from ctip.exchange.models import InboxMessage, LogEntry, OutboxMessage

from .conftest import pin

pytestmark = pytest.mark.django_db
DAY = 86_400


@pytest.fixture
def cn_offline(cn_keys):
    """CN pinned without an address: an air-gapped peer, reached by bundle files only."""
    return pin(cn_keys, "")


def now() -> int:
    return int(time.time())


def queue(n: int) -> list[OutboxMessage]:
    return [
        services.message_send(
            actor=None, to="CN", msg_type="ping", body={"nonce": f"{i:016x}"}, enqueue=False
        )
        for i in range(n)
    ]


def cn_processes(bundle: bytes, cn_keys, kh_keys) -> bytes:
    """What the CN node does with our bundle: open it, open each envelope, sign receipts."""
    opened = open_bundle(bundle, anchors=kh_keys.public(), expected_to="CN", own_keys=cn_keys)
    receipts = []
    for item in opened.items:
        message = open_envelope(
            item,
            receiver_keys=cn_keys,
            sender_anchor=kh_keys.public(),
            expected_to="CN",
            now=now(),
            policy=services.conf().bundle_policy,
        )
        receipts.append(
            make_receipt(
                envelope_digest=message.digest,
                msg_id=message.msg_id,
                status="accepted",
                reason_code=None,
                signer_keys=cn_keys,
                now=now(),
            )
        )
    return make_bundle(
        kind="receipts", items=receipts, signer_keys=cn_keys, recipient="KH", now=now()
    )


def cn_bundle(cn_keys, kh_keys, count: int = 2, *, iat: int | None = None, ttl: int = DAY):
    tokens = [
        seal(
            msg_type="ping",
            body={"nonce": f"{seq:016x}"},
            seq=seq,
            sender_keys=cn_keys,
            receiver_public_keys=kh_keys.public(),
            now=iat or now(),
            ttl=ttl,
        )
        for seq in range(1, count + 1)
    ]
    data = make_bundle(
        kind="envelopes", items=tokens, signer_keys=cn_keys, recipient="KH", now=now()
    )
    return data, tokens


def counts():
    return (InboxMessage.objects.count(), LogEntry.objects.count(), OutboxMessage.objects.count())


def test_export_then_receipts_back(cn_offline, cn_keys, kh_keys, node_admin):
    messages = queue(3)
    out = services.bundle_export(actor=node_admin, to="CN")
    assert out.count == 3
    assert all(
        (m.status, m.transport, m.attempts) == ("sent", "bundle", 1)
        for m in OutboxMessage.objects.all()
    )
    exported = AuditEvent.objects.get(action=Action.EXPORT, object_type="exchange.bundle")
    assert exported.details == {"to": "CN", "count": 3, "kind": "envelopes"}
    assert exported.actor_username == "node_admin"

    receipts = cn_processes(out.data, cn_keys, kh_keys)
    result = services.bundle_import(actor=node_admin, data=receipts)
    assert (result.kind, result.sender, result.acknowledged) == ("receipts", "CN", 3)
    assert [m.status for m in OutboxMessage.objects.order_by("seq")] == ["acknowledged"] * 3
    assert {str(m.id) for m in messages} == {
        str(e.msg_id) for e in LogEntry.objects.filter(kind="receipt_in")
    }
    # Importing the same receipts again changes nothing.
    before = counts()
    again = services.bundle_import(actor=None, data=receipts)
    assert again.acknowledged == 0 and again.unmatched == 3 and counts() == before
    assert services.log_verify().ok


def test_export_of_nothing_is_an_empty_bundle(cn_offline, cn_keys, kh_keys):
    out = services.bundle_export(actor=None, to="CN")
    opened = open_bundle(out.data, anchors=kh_keys.public(), expected_to="CN")
    assert out.count == 0 and opened.items == ()


def test_import_envelopes_and_answer_with_receipts(cn_offline, cn_keys, kh_keys):
    data, tokens = cn_bundle(cn_keys, kh_keys)
    result = services.bundle_import(actor=None, data=data)
    assert (result.kind, result.accepted, result.duplicates, result.rejected) == (
        "envelopes",
        2,
        0,
        [],
    )
    assert set(InboxMessage.objects.values_list("transport", flat=True)) == {"bundle"}
    receipts = open_bundle(result.receipts.data, anchors=kh_keys.public(), expected_to="CN")
    assert receipts.kind == "receipts" and len(receipts.items) == 2
    for token, receipt in zip(tokens, receipts.items, strict=True):
        assert (
            verify_receipt(
                receipt, sender_anchor=kh_keys.public(), expected_digest=digest(token)
            ).status
            == "accepted"
        )
    # The same file imported twice: duplicates, the original receipts, no second effect.
    before = counts()
    again = services.bundle_import(actor=None, data=data)
    assert (again.accepted, again.duplicates) == (0, 2) and counts() == before
    second = open_bundle(again.receipts.data, anchors=kh_keys.public(), expected_to="CN")
    assert second.items == receipts.items


def test_a_bad_envelope_inside_a_good_bundle_is_refused_alone(cn_offline, cn_keys, kh_keys):
    _, tokens = cn_bundle(cn_keys, kh_keys, 3)
    tokens[1] = flip_byte(tokens[1], 3, 2)
    data = make_bundle(
        kind="envelopes", items=tokens, signer_keys=cn_keys, recipient="KH", now=now()
    )
    result = services.bundle_import(actor=None, data=data)
    assert result.accepted == 2 and result.rejected == [(2, "decrypt_failed")]
    assert result.receipts.count == 3  # a signed refusal travels back too


def test_bundles_allow_a_longer_journey_than_http(cn_offline, cn_keys, kh_keys):
    """Ten days on the road is fine for a bundle file; over HTTP the same token is refused."""
    data, tokens = cn_bundle(cn_keys, kh_keys, 1, iat=now() - 10 * DAY, ttl=14 * DAY)
    over_http = services.envelope_receive(token=tokens[0], transport="http")
    assert over_http.reason_code == "lifetime_too_long"
    assert services.bundle_import(actor=None, data=data).accepted == 1


def _edit(data: bytes, change) -> bytes:
    document = json.loads(data)
    change(document)
    return json.dumps(document).encode()


def _swap_first(document):
    document["items"][0] = document["items"][1]


DAMAGE = {
    "truncated": (lambda data: data[: len(data) // 2], "bundle_truncated"),
    "cut_at_the_end": (lambda data: data[:-3], "bundle_truncated"),
    "empty": (lambda data: b"", "bundle_truncated"),
    "not_json": (lambda data: b"PK\x03\x04" + data, "bundle_malformed"),
    "item_changed": (lambda data: _edit(data, _swap_first), "bundle_item_altered"),
    "item_removed": (
        lambda data: _edit(data, lambda d: d["items"].pop()),
        "bundle_item_missing",
    ),
    "item_added": (
        lambda data: _edit(data, lambda d: d["items"].append(d["items"][0])),
        "bundle_item_extra",
    ),
    "manifest_dropped": (
        lambda data: _edit(data, lambda d: d.pop("manifest")),
        "bundle_malformed",
    ),
    "manifest_forged": (
        lambda data: _edit(data, lambda d: d.update(manifest=d["items"][0])),
        "malformed",
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_bundle_is_refused_whole(cn_offline, cn_keys, kh_keys, damage):
    data, _ = cn_bundle(cn_keys, kh_keys, 3)
    change, code = DAMAGE[damage]
    before = counts()
    with pytest.raises(BundleRefused) as info:
        services.bundle_import(actor=None, data=change(data))
    assert info.value.code == code
    assert code in str(info.value)
    assert counts() == before
    event = AuditEvent.objects.get(action=Action.SECURITY, details__event="bundle_rejected")
    assert event.details["reason"] == code


def test_bundle_from_a_stranger_or_for_another_node(cn_offline, cn_keys, kh_keys):
    from ctip.exchange.core import generate_node_keys

    stranger = generate_node_keys("CN", not_before=now() - DAY, not_after=now() + DAY)
    data = make_bundle(kind="envelopes", items=[], signer_keys=stranger, recipient="KH", now=now())
    with pytest.raises(BundleRefused) as info:
        services.bundle_import(actor=None, data=data)
    assert info.value.code == "unknown_signer"
    data = make_bundle(kind="envelopes", items=[], signer_keys=cn_keys, recipient="CN", now=now())
    with pytest.raises(BundleRefused) as info:
        services.bundle_import(actor=None, data=data)
    assert info.value.code == "wrong_recipient"


def test_a_refused_bundle_is_logged_even_when_its_caller_rolls_back(cn_offline, cn_keys, kh_keys):
    from django.db import transaction

    data, _ = cn_bundle(cn_keys, kh_keys, 1)
    change, code = DAMAGE["manifest_dropped"]
    with pytest.raises(BundleRefused), transaction.atomic():
        services.bundle_import(actor=None, data=change(data))
    event = AuditEvent.objects.get(action=Action.SECURITY, details__event="bundle_rejected")
    assert event.details["reason"] == code
