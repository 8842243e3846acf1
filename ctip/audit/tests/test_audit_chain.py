"""The audit log is append-only and its chain finds any edit, deletion or reordering."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from ctip.audit.models import Action, AuditEvent
from ctip.audit.services import audit_record, audit_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def ten_rows():
    for i in range(10):
        audit_record(actor=None, action=Action.CREATE, object_type="test.thing", object_id=str(i))
    assert audit_verify().ok


def drop_triggers():
    """What a database superuser could do before tampering."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("DROP TRIGGER audit_event_no_update")
            cur.execute("DROP TRIGGER audit_event_no_delete")
        else:
            cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")


def raw(sql: str, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)


def test_application_cannot_update_or_delete(ten_rows):
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("UPDATE audit_auditevent SET action = 'view' WHERE seq = 3")
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("DELETE FROM audit_auditevent WHERE seq = 3")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=4).delete()
    assert AuditEvent.objects.count() == 10


def test_verify_catches_an_edited_row(ten_rows):
    drop_triggers()
    raw("UPDATE audit_auditevent SET object_id = 'forged' WHERE seq = 4")
    result = audit_verify()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 4, 3)
    assert "changed" in result.reason


def test_verify_catches_a_deleted_row(ten_rows):
    drop_triggers()
    raw("DELETE FROM audit_auditevent WHERE seq = 6")
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, 6)


def test_verify_catches_deleted_last_rows(ten_rows):
    drop_triggers()
    raw("DELETE FROM audit_auditevent WHERE seq >= 9")
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == 9


def test_verify_catches_reordered_rows(ten_rows):
    drop_triggers()
    # Swap rows 5 and 7 (their sequence numbers), as a reordering would.
    raw("UPDATE audit_auditevent SET seq = 1000005 WHERE seq = 5")
    raw("UPDATE audit_auditevent SET seq = 5 WHERE seq = 7")
    raw("UPDATE audit_auditevent SET seq = 7 WHERE seq = 1000005")
    result = audit_verify()
    assert (result.ok, result.first_bad_seq) == (False, 5)


def test_verify_catches_a_recomputed_plain_hash(ten_rows):
    """Without the chain key (kept in the key ring, not the database) a forger cannot
    recompute a valid chain: a plain SHA-256 recomputation is found."""
    import hashlib

    drop_triggers()
    event = AuditEvent.objects.get(seq=2)
    forged = hashlib.sha256(b"forged").hexdigest()
    raw("UPDATE audit_auditevent SET hash = %s WHERE seq = 2", [forged])
    raw("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = 3", [forged])
    assert event.hash != forged
    assert audit_verify().first_bad_seq == 2


def test_command_exit_codes(ten_rows):
    call_command("audit", "verify")
    drop_triggers()
    raw("UPDATE audit_auditevent SET ip = '1.2.3.4' WHERE seq = 2")
    with pytest.raises(CommandError, match="row 2") as info:
        call_command("audit", "verify")
    assert info.value.returncode == 1


def test_dpo_browses_and_filters_others_cannot(dpo, caseworker_a, client_of, ten_rows):
    page = client_of(dpo).get("/audit/", {"object_type": "test.thing", "object_id": "7"})
    assert page.status_code == 200
    rows = page.context["page"].object_list
    assert [e.object_id for e in rows] == ["7"]
    assert client_of(caseworker_a).get("/audit/").status_code == 404
    api = client_of(dpo).get(
        "/api/v1/audit/events", {"action": "create", "object_type": "test.thing"}
    )
    assert api.json()["count"] == 10
    bad = client_of(dpo).get("/api/v1/audit/events", {"since": "not-a-date"})
    assert bad.status_code == 400 and "since" in bad.json()["error"]["fields"]
