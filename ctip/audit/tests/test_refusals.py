"""The mechanism behind "a denial outlives the transaction it was refused in"
(``ctip.audit.refusals``): what it writes again, when, and what it leaves alone. The
services, pages and API are tested in ctip/core/tests/test_denials_outlive_rollback.py."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.db import transaction
from django.db.transaction import Atomic
from django.test import RequestFactory

from ctip.accounts import permissions
from ctip.accounts.permissions import NotFound
from ctip.audit import refusals
from ctip.audit.models import Action, AuditEvent
from ctip.audit.services import audit_record, audit_security_event, audit_verify

pytestmark = pytest.mark.django_db

ATTEMPT_AT = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def _last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _security(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=before, action=Action.SECURITY).order_by("seq"))


def test_the_row_written_again_is_the_attempts(me_officer, monkeypatch):
    """After the rollback the row says who tried, from where and when: the attempt's, not
    the time it was written again."""
    monkeypatch.setattr(refusals.timezone, "now", lambda: ATTEMPT_AT)
    request = RequestFactory().post("/x", REMOTE_ADDR="192.0.2.7")
    before = _last_seq()
    with pytest.raises(NotFound), transaction.atomic():
        audit_record(actor=me_officer, action=Action.CREATE, object_type="t", object_id="1")
        permissions.require(me_officer, "person", permissions.CREATE, request=request)
    [row] = _security(before)
    assert (row.actor_id, row.actor_username, row.ip, row.at) == (
        me_officer.pk,
        "me_officer",
        "192.0.2.7",
        ATTEMPT_AT,
    )
    assert row.details == {"event": "access_denied", "action": "create"}
    assert row.seq == before + 1  # the create went with the rollback; the chain goes on
    assert audit_verify().ok


def test_a_deliberate_rollback_is_respected(me_officer):
    """``set_rollback(True)`` without an exception (a dry run, a test's own transaction)
    undoes everything, the refusal's row too: nothing is written again after it."""
    before = _last_seq()
    with transaction.atomic():
        with contextlib.suppress(NotFound):
            permissions.require(me_officer, "person", permissions.CREATE)
        assert len(_security(before)) == 1
        transaction.set_rollback(True)
    assert _security(before) == []
    assert audit_verify().ok


def test_a_refusal_in_a_broken_transaction_is_written_after_its_rollback(me_officer):
    assert me_officer.roles  # read now: the check itself needs no query then
    before = _last_seq()
    with transaction.atomic():
        with contextlib.suppress(RuntimeError), transaction.atomic(savepoint=False):
            raise RuntimeError("breaks the enclosing transaction")
        assert transaction.get_connection().needs_rollback
        with contextlib.suppress(NotFound):  # no query may run: written later
            permissions.require(me_officer, "person", permissions.CREATE)
    [row] = _security(before)
    assert row.details == {"event": "access_denied", "action": "create"}
    assert audit_verify().ok


def test_a_change_event_still_goes_with_its_transaction(me_officer):
    """Security events that record what the transaction does (the default) are not kept
    when it rolls back: only refused attempts outlive it."""
    before = _last_seq()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_security_event(actor=me_officer, event="peer_key_revoked", object_type="peer")
        raise RuntimeError("the revocation failed")
    assert _security(before) == []
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_security_event(
            actor=me_officer, event="consent_refused", object_type="m", outlives_rollback=True
        )
        raise RuntimeError("and the refused send with it")
    assert [row.details["event"] for row in _security(before)] == ["consent_refused"]
    assert audit_verify().ok


def test_installed_once_around_djangos_own_exit():
    refusals.install()  # again: the app's ready did it already
    assert Atomic.__exit__.ctip_refusals
    assert not getattr(Atomic.__exit__.__wrapped__, "ctip_refusals", False)
