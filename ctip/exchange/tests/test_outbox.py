"""The outbox and its relay against a fake CN node on loopback: order, backoff with jitter,
outages, lost answers, refusals, re-sealing, alerts and the link check (matrix #13-#16)."""

from __future__ import annotations

import json
import random
import time

import pytest
from django.db import connection

from ctip.audit.models import Action, AuditEvent
from ctip.exchange import services
from ctip.exchange.conf import conf
from ctip.exchange.core import generate_node_keys
from ctip.exchange.errors import NoSuchPeer, PingFailed
from ctip.exchange.models import LogEntry, OutboxMessage, OutboxToken

pytestmark = pytest.mark.django_db
HOUR = 3600


def send(n: int = 1, **kwargs) -> list[OutboxMessage]:
    return [
        services.message_send(
            actor=None,
            to="CN",
            msg_type="ping",
            body={"nonce": f"{i:016x}"},
            enqueue=False,
            **kwargs,
        )
        for i in range(n)
    ]


def statuses() -> list[str]:
    return list(OutboxMessage.objects.order_by("seq").values_list("status", flat=True))


def later(seconds: int = HOUR) -> int:
    return int(time.time()) + seconds


def test_send_queues_a_sealed_message_with_evidence_and_audit(cn_peer):
    (msg,) = send(case_ref="KH-C-0007", purpose="link_check")
    assert (msg.seq, msg.status, msg.attempts, msg.peer.node_id) == (1, "pending", 0, "CN")
    token = OutboxToken.objects.get(message=msg)
    assert token.digest == services.digest(msg.token)
    entry = LogEntry.objects.get()
    assert (entry.kind, str(entry.msg_id), entry.envelope_digest) == (
        "message_out",
        str(msg.id),
        token.digest,
    )
    created = AuditEvent.objects.get(action=Action.CREATE, object_type="exchange.outboxmessage")
    assert created.details == {"type": "ping", "to": "CN", "seq": 1, "case_ref": "KH-C-0007"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM exchange_outboxmessage")
        assert cursor.fetchone()[0].startswith("e1:")
    assert json.loads(OutboxMessage.objects.get().body)["nonce"] == "0" * 16


def test_relay_delivers_in_order_once_each(cn_peer, fake_cn):
    messages = send(3)
    report = services.outbox_relay(peer=cn_peer)
    assert report.delivered == [str(m.id) for m in messages] and report.waiting == 0
    assert fake_cn.seqs() == [1, 2, 3]
    assert statuses() == ["acknowledged"] * 3
    again = services.outbox_relay(peer=cn_peer)
    assert again.delivered == [] and fake_cn.requests == 3
    kinds = list(LogEntry.objects.order_by("seq").values_list("kind", flat=True))
    assert kinds.count("message_out") == 3 and kinds.count("receipt_in") == 3
    assert services.log_verify().ok


def test_peer_down_then_back_delivers_everything_once_in_order(cn_peer, fake_cn):
    fake_cn.stop()
    send(3)
    report = services.outbox_relay(peer=cn_peer)
    assert report.stopped_by == "link_down" and report.waiting == 3
    head, *rest = OutboxMessage.objects.order_by("seq")
    assert (head.status, head.attempts, head.last_error) == ("sent", 1, "link_down")
    assert "127.0.0.1" in head.last_error_detail
    assert all(m.attempts == 0 and m.status == "pending" for m in rest)  # nothing overtook
    wait = (head.next_attempt_at - head.last_attempt_at).total_seconds()
    assert conf().retry_base * 0.5 <= wait <= conf().retry_base
    # Not due yet: the relay respects the backoff.
    assert services.outbox_relay(peer=cn_peer).delivered == []
    assert OutboxMessage.objects.get(pk=head.pk).attempts == 1
    # A second failure waits longer (exponential), still with jitter.
    services.outbox_relay(peer=cn_peer, now=later(60))
    head.refresh_from_db()
    assert head.attempts == 2
    assert (head.next_attempt_at - head.last_attempt_at).total_seconds() >= conf().retry_base

    fake_cn.start()  # the same address again
    report = services.outbox_relay(peer=cn_peer, now=later(HOUR))
    assert len(report.delivered) == 3 and report.waiting == 0
    assert fake_cn.seqs() == [1, 2, 3]
    assert statuses() == ["acknowledged"] * 3


def test_backoff_is_exponential_capped_and_jittered():
    rng = random.Random(7)
    base, cap = conf().retry_base, conf().retry_cap
    for attempt in range(1, 20):
        ceiling = min(cap, base * 2 ** (attempt - 1))
        values = [services.backoff_seconds(attempt, rng=rng) for _ in range(50)]
        assert all(ceiling * 0.5 <= v <= ceiling for v in values)
        assert len({round(v, 6) for v in values}) > 40  # jittered, not lockstep
    assert services.backoff_seconds(40, rng=rng) <= cap


def test_lost_answer_after_processing_is_settled_by_the_duplicate_receipt(cn_peer, fake_cn):
    """Matrix #14: the receiver committed, the answer never came; a retry is not a 2nd copy."""
    (msg,) = send()
    fake_cn.lose_answer = True
    report = services.outbox_relay(peer=cn_peer)
    assert report.stopped_by in {"link_down", "bad_answer"}
    assert len(fake_cn.received) == 1
    fake_cn.lose_answer = False
    report = services.outbox_relay(peer=cn_peer, now=later())
    assert report.delivered == [str(msg.id)]
    assert len(fake_cn.received) == 1 and fake_cn.requests == 2
    msg.refresh_from_db()
    assert msg.status == "acknowledged" and msg.receipt == fake_cn.receipts[str(msg.id)]


def test_permanent_refusal_fails_the_message_and_does_not_block_the_next(cn_peer, fake_cn):
    """Matrix #16: a poison message gets a signed refusal and is not retried forever."""
    first, second = send(2)
    fake_cn.refuse_with = "schema_invalid"
    report = services.outbox_relay(peer=cn_peer)
    assert report.failed == [(str(first.id), "schema_invalid"), (str(second.id), "schema_invalid")]
    first.refresh_from_db()
    assert (first.status, first.last_error) == ("failed", "schema_invalid")
    assert first.receipt  # the signed refusal is kept as evidence
    fake_cn.refuse_with = None
    third = send()[0]
    assert services.outbox_relay(peer=cn_peer, now=later()).delivered == [str(third.id)]
    assert fake_cn.requests == 3  # the failed ones were not sent again
    audited = AuditEvent.objects.filter(object_type="exchange.outboxmessage", action=Action.UPDATE)
    assert {e.details["reason"] for e in audited} == {"schema_invalid"}
    assert LogEntry.objects.filter(kind="receipt_in").count() == 3


def test_time_refusal_is_retried_with_a_fresh_seal(cn_peer, fake_cn):
    (msg,) = send()
    fake_cn.refuse_with = "too_old"
    report = services.outbox_relay(peer=cn_peer)
    assert report.stopped_by == "too_old"
    msg.refresh_from_db()
    assert msg.status == "sent" and msg.token_iat == 0
    fake_cn.refuse_with = None
    assert services.outbox_relay(peer=cn_peer, now=later(60)).delivered == [str(msg.id)]
    assert OutboxToken.objects.filter(message=msg).count() == 2
    assert services.log_verify().ok


def test_stale_token_is_resealed_before_sending(cn_peer, fake_cn):
    (msg,) = send(now=int(time.time()) - 4 * HOUR)
    old = msg.token
    services.outbox_relay(peer=cn_peer)
    msg.refresh_from_db()
    assert msg.status == "acknowledged" and msg.token != old
    assert fake_cn.received[0].payload["iat"] >= int(time.time()) - 60
    assert [t.digest for t in msg.tokens.all()][-1] == services.digest(msg.token)


def test_forged_receipt_does_not_acknowledge(cn_peer, fake_cn):
    (msg,) = send()
    fake_cn.forge_receipt_with = generate_node_keys(
        "CN", not_before=int(time.time()) - 60, not_after=later()
    )
    report = services.outbox_relay(peer=cn_peer)
    assert report.stopped_by == "receipt_invalid"
    msg.refresh_from_db()
    assert msg.status == "sent" and "unknown_signer" in msg.last_error_detail
    event = AuditEvent.objects.get(details__event="receipt_rejected")
    assert event.details == {"event": "receipt_rejected", "reason": "unknown_signer", "peer": "CN"}


def test_link_alarm_is_raised_once_and_cleared(cn_peer, fake_cn):
    fake_cn.stop()
    send(now=int(time.time()) - 2 * HOUR)
    services.outbox_relay(peer=cn_peer)
    services.outbox_relay(peer=cn_peer, now=later(60))
    cn_peer.refresh_from_db()
    assert cn_peer.alert_raised_at is not None
    alarms = AuditEvent.objects.filter(details__event="exchange_link_down")
    assert alarms.count() == 1 and alarms.get().details["waiting"] == 1
    fake_cn.start()
    assert len(services.outbox_relay(peer=cn_peer, now=later(120)).delivered) == 1
    cn_peer.refresh_from_db()
    assert cn_peer.alert_raised_at is None
    assert AuditEvent.objects.filter(details__event="exchange_link_restored").count() == 1


def test_retry_now_makes_waiting_messages_due(cn_peer, fake_cn, node_admin):
    fake_cn.stop()
    send(2)
    services.outbox_relay(peer=cn_peer)
    fake_cn.start()
    assert services.outbox_relay(peer=cn_peer).delivered == []  # backoff
    assert services.outbox_retry_now(actor=node_admin, peer=cn_peer) == 2
    assert len(services.outbox_relay(peer=cn_peer).delivered) == 2
    event = AuditEvent.objects.get(object_type="exchange.peer", details__retry_now=2)
    assert event.actor_username == "node_admin"


def test_peer_without_address_is_left_to_bundle_files(db, cn_keys):
    from .conftest import pin

    peer = pin(cn_keys, "")
    send()
    report = services.outbox_relay(peer=peer)
    assert report.stopped_by == "no_address" and report.waiting == 1
    assert OutboxMessage.objects.get().attempts == 0


def test_sending_to_an_unknown_peer(db):
    with pytest.raises(NoSuchPeer, match="ctip peer add"):
        send()
    assert OutboxMessage.objects.count() == 0


def test_ping_round_trip(cn_peer, fake_cn, cn_keys):
    result = services.ping(actor=None, to="CN")
    assert result.peer == "CN" and result.rtt_ms > 0
    assert result.receipt_kid == cn_keys.current("sig", int(time.time())).kid
    assert OutboxMessage.objects.get().status == "acknowledged"


@pytest.mark.parametrize(
    ("setup", "words", "code"),
    [
        (lambda fake: fake.stop(), "link: cannot reach", "link_down"),
        (
            lambda fake: setattr(
                fake,
                "forge_receipt_with",
                generate_node_keys("CN", not_before=0, not_after=later(3 * 86_400 * 365)),
            ),
            "keys:",
            "receipt_invalid",
        ),
        (lambda fake: setattr(fake, "refuse_with", "unknown_type"), "refused", "unknown_type"),
    ],
)
def test_ping_failures_say_why_and_are_not_retried(cn_peer, fake_cn, setup, words, code):
    setup(fake_cn)
    with pytest.raises(PingFailed, match=words) as info:
        services.ping(actor=None, to="CN")
    assert info.value.code == code
    msg = OutboxMessage.objects.get()
    assert msg.status == "failed"
    fake_cn.refuse_with = fake_cn.forge_receipt_with = None
    if fake_cn._server is None:
        fake_cn.start()
    assert services.outbox_relay(peer=cn_peer, now=later()).delivered == []


def test_rollover_signs_with_the_key_the_peer_knows(cn_peer, fake_cn, kh_keys):
    old = kh_keys.current("sig", int(time.time()))
    cn_peer.sign_with = old.kid
    cn_peer.save(update_fields=["sign_with"])
    send()
    services.outbox_relay(peer=cn_peer)
    assert fake_cn.received[0].signer_kid == old.kid


def test_a_day_long_partition_keeps_everything_and_delivers_in_order(cn_peer, fake_cn):
    """Matrix #15: a 25-hour outage outlives every token's lifetime; nothing is lost, the
    backoff stays capped, the alarm is raised once, and delivery resumes in order."""
    t0 = int(time.time())
    fake_cn.stop()
    first = send(3, now=t0)
    for hours in range(0, 26, 5):
        services.outbox_relay(peer=cn_peer, now=t0 + hours * HOUR)
    head = OutboxMessage.objects.get(pk=first[0].pk)
    assert head.attempts >= 5 and statuses() == ["sent", "pending", "pending"]
    assert (head.next_attempt_at - head.last_attempt_at).total_seconds() <= conf().retry_cap
    assert AuditEvent.objects.filter(details__event="exchange_link_down").count() == 1

    fake_cn.clock_offset = 26 * HOUR  # the peer's clock, a day later
    fake_cn.start()
    report = services.outbox_relay(peer=cn_peer, now=t0 + 26 * HOUR)
    assert len(report.delivered) == 3 and fake_cn.seqs() == [1, 2, 3]
    assert all(m.payload["iat"] >= t0 + 25 * HOUR for m in fake_cn.received)  # re-sealed
    assert statuses() == ["acknowledged"] * 3
    assert AuditEvent.objects.filter(details__event="exchange_link_restored").count() == 1
    assert services.log_verify().ok
