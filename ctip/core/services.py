"""Key rotation: a new master key, every data key re-wrapped under it, old keys retired.

Safe to interrupt and re-run: the key ring is written atomically before any row changes,
each batch of rows is one transaction with its own audit row, old keys are retired (and
audited) only when no row uses them, and a ring holding more than one key is a rotation
left unfinished, which a re-run completes instead of starting another.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.core.crypto import get_keyring
from ctip.core.models import DataKey


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
