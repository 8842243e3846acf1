"""The message log: append-only for the application, and every kind of tampering by someone
who got around that is found by the verifier, which names the first bad entry (matrix #19)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ctip.core.models import DataKey
from ctip.exchange import services
from ctip.exchange.models import LogEntry

pytestmark = pytest.mark.django_db

DROP = {
    "sqlite": [
        "DROP TRIGGER exchange_log_no_update",
        "DROP TRIGGER exchange_log_no_delete",
    ],
    "postgresql": ["DROP TRIGGER exchange_log_append_only ON exchange_logentry"],
}


@pytest.fixture
def traffic(cn_peer, fake_cn):
    for i in range(3):
        services.message_send(
            actor=None, to="CN", msg_type="ping", body={"nonce": f"{i:016x}"}, enqueue=False
        )
    services.outbox_relay(peer=cn_peer)
    assert LogEntry.objects.count() == 6  # three messages out, three receipts in
    return LogEntry.objects.order_by("seq")


def superuser_sql(*statements, params=()):
    """What a database superuser can do: drop the triggers, then edit rows directly."""
    with connection.cursor() as cursor:
        for sql in DROP[connection.vendor]:
            cursor.execute(sql)
        for sql in statements:
            cursor.execute(sql, params)


def test_intact_log_verifies_chain_and_signatures(traffic):
    result = services.log_verify()
    assert (result.ok, result.checked, result.signatures, result.purged) == (True, 6, 6, 0)


def test_the_application_cannot_update_or_delete_entries(traffic):
    entry = traffic.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(msg_type="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()
    assert LogEntry.objects.filter(msg_type="edited").count() == 0 and traffic.count() == 6


def test_changed_content_is_found(traffic):
    superuser_sql("UPDATE exchange_logentry SET msg_type = 'edited' WHERE seq = 3")
    result = services.log_verify()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
    assert "content was changed" in result.reason


def test_deleted_entry_is_found(traffic):
    superuser_sql("DELETE FROM exchange_logentry WHERE seq = 2")
    result = services.log_verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "missing" in result.reason


def test_reordered_entries_are_found(traffic):
    superuser_sql(
        "UPDATE exchange_logentry SET seq = 100 WHERE seq = 4",
        "UPDATE exchange_logentry SET seq = 4 WHERE seq = 5",
        "UPDATE exchange_logentry SET seq = 5 WHERE seq = 100",
    )
    result = services.log_verify()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "does not follow" in result.reason


def test_truncated_tail_is_found(traffic):
    superuser_sql("DELETE FROM exchange_logentry WHERE seq = 6")
    result = services.log_verify()
    assert (result.ok, result.first_bad_seq) == (False, 6)
    assert "later ones were removed" in result.reason


def test_evidence_swapped_between_entries_is_found(traffic):
    first, second = traffic[0], traffic[2]  # two messages we signed
    with connection.cursor() as cursor:
        cursor.execute("SELECT evidence FROM exchange_logentry WHERE seq = %s", [first.seq])
        (ciphertext,) = cursor.fetchone()
    superuser_sql(
        "UPDATE exchange_logentry SET evidence = %s WHERE seq = %s", params=[ciphertext, second.seq]
    )
    result = services.log_verify()
    assert (result.ok, result.first_bad_seq) == (False, second.seq)
    assert "does not decrypt" in result.reason


def test_shredded_evidence_keeps_the_chain_verifiable(traffic):
    entry = traffic[0]
    DataKey.objects.filter(pk=entry.data_key_id).update(wrapped="", shredded_at=timezone.now())
    result = services.log_verify()
    assert (result.ok, result.checked, result.purged, result.signatures) == (True, 6, 1, 5)


def test_verify_log_command(traffic, capsys):
    call_command("exchange", "verify-log")
    assert "message log intact: 6 entries, 6 signatures verified" in capsys.readouterr().out
    superuser_sql("UPDATE exchange_logentry SET peer = 'XX' WHERE seq = 5")
    with pytest.raises(CommandError, match="broken at entry 5") as info:
        call_command("exchange", "verify-log")
    assert info.value.returncode == 1
