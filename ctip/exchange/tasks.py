"""Background delivery through huey: a relay run when a message is queued, a retry at the
time its backoff sets, and a sweep every minute in case a wake-up was lost."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ctip.exchange.models import Peer
from ctip.exchange.services import outbox_relay


def _relay(node_id: str) -> None:
    peer = Peer.objects.filter(node_id=node_id).first()
    if peer is None or not peer.url:
        return
    report = outbox_relay(peer=peer)
    if report.next_due is not None:
        _schedule_wakeup(peer, report.next_due)


def _schedule_wakeup(peer: Peer, due) -> None:
    """One pending wake-up per peer: failures during an outage must not pile up schedules."""
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            Peer.objects.filter(pk=peer.pk)
            .exclude(wakeup_at__gt=now, wakeup_at__lte=due)
            .update(wakeup_at=due)
        )
    if claimed:
        relay_peer.schedule(args=(peer.node_id,), eta=max(due, now + timedelta(seconds=1)))


@db_task()
def relay_peer(node_id: str) -> None:
    _relay(node_id)


@db_periodic_task(crontab(minute="*"))
def relay_all() -> None:
    for node_id in Peer.objects.exclude(url="").values_list("node_id", flat=True):
        _relay(node_id)
