"""Key rotation: a new master key, every data key re-wrapped under it, old keys retired.

Safe to interrupt and re-run: the key ring is written atomically before any row changes,
each batch of rows is one transaction, and old keys are retired only when no row uses them.
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
    if add_key and not _rotation_unfinished(ring.active):
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
        rewrapped += len(batch)
        if len(batch) < batch_size:
            break
    in_use = set(DataKey.objects.filter(shredded_at__isnull=True).values_list("kek_id", flat=True))
    retired = sorted(k for k in ring.keys if k != ring.active and k not in in_use)
    ring.retire(retired)
    audit_record(
        actor=None,
        action=Action.UPDATE,
        object_type="core.keyring",
        object_id=ring.active,
        details={"rewrapped": rewrapped, "retired": retired},
    )
    return RotationResult(ring.active, rewrapped, retired)


def _rotation_unfinished(active: str) -> bool:
    """A previous run added a key but did not finish re-wrapping: finish it, add no other."""
    return DataKey.objects.filter(shredded_at__isnull=True, kek_id=active).exists() and (
        DataKey.objects.filter(shredded_at__isnull=True).exclude(kek_id=active).exists()
    )
