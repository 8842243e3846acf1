"""The data keys' life: rotation under a new master key, and crypto-shredding.

Key rotation: a new master key, every data key re-wrapped under it, old keys retired.

Safe to interrupt and re-run: the key ring is written atomically before any row changes,
each batch of rows is one transaction with its own audit row, old keys are retired (and
audited) only when no row uses them, and a ring holding more than one key is a rotation
left unfinished, which a re-run completes instead of starting another.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.core.crypto import get_keyring
from ctip.core.models import DataKey

#: Ids per statement (far below SQLite's and PostgreSQL's limits on parameters).
_SHRED_CHUNK = 500


@transaction.atomic
def data_keys_shred(
    *, key_ids: Iterable[uuid.UUID | str], now: dt.datetime | None = None
) -> list[uuid.UUID]:
    """Crypto-shred these data keys: ``wrapped`` emptied and ``shredded_at`` set, so every
    value encrypted under a key is unreadable here and, once the master key of older
    backups is destroyed, in every backup. The only place in the project that destroys a
    data key.

    Conditional and idempotent: a key already shredded (or one that does not exist) is left
    as it is and not reported, so shredding twice reports nothing the second time. Returns
    the ids of the keys this call shredded, sorted, for the caller's audit row. It writes no
    audit row itself: the caller (the retention purge, a restore that lost a master key)
    knows why the keys go and records that once, with the count, in the same transaction."""
    now = now or timezone.now()
    wanted = sorted({uuid.UUID(str(k)) for k in key_ids}, key=str)
    shredded: list[uuid.UUID] = []
    for start in range(0, len(wanted), _SHRED_CHUNK):
        chunk = wanted[start : start + _SHRED_CHUNK]
        # Locked first, so two concurrent shreds of a key cannot both report it.
        live = list(
            DataKey.objects.select_for_update()
            .filter(pk__in=chunk, shredded_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if live:
            DataKey.objects.filter(pk__in=live, shredded_at__isnull=True).update(
                wrapped="", shredded_at=now
            )
        shredded += live
    return sorted(shredded, key=str)


@dataclass(frozen=True)
class RotationResult:
    active: str
    rewrapped: int
    retired: list[str]


def keys_rotate(*, batch_size: int = 500, add_key: bool = True) -> RotationResult:
    ring = get_keyring()
    # More than one master key in the ring means an earlier run added a key and did not
    # get as far as retiring the old ones: finish that rotation, start no other.
    if add_key and len(ring.keys) == 1:
        ring.add_key()
    rewrapped = 0
    while True:
        with transaction.atomic():
            batch = list(
                DataKey.objects.select_for_update()
                .filter(shredded_at__isnull=True)
                .exclude(kek_id=ring.active)
                .order_by("pk")[:batch_size]
            )
            for key in batch:
                secret = key.secret()
                key.kek_id, key.wrapped = ring.wrap(secret, key.aad)
                key.save(update_fields=["kek_id", "wrapped"])
            if batch:  # each batch is audited in its own transaction: a kill loses neither
                audit_record(
                    actor=None,
                    action=Action.UPDATE,
                    object_type="core.keyring",
                    object_id=ring.active,
                    details={"rewrapped": len(batch)},
                )
        rewrapped += len(batch)
        if len(batch) < batch_size:
            break
    in_use = set(DataKey.objects.filter(shredded_at__isnull=True).values_list("kek_id", flat=True))
    retired = sorted(k for k in ring.keys if k != ring.active and k not in in_use)
    if retired:
        with transaction.atomic():
            audit_record(
                actor=None,
                action=Action.UPDATE,
                object_type="core.keyring",
                object_id=ring.active,
                details={"retired": retired},
            )
            # The ring file is written before the audit row commits: killed in between,
            # the re-run still sees the old keys and retires (and audits) them again.
            ring.retire(retired)
    return RotationResult(ring.active, rewrapped, retired)
