"""Backups: the file format refuses every alteration; ``ctip backup`` / ``ctip restore`` do
the full round trip on SQLite and PostgreSQL in real child processes, refuse what they must,
and crypto-shredding reaches an old backup once the master key under it is gone."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import struct
from pathlib import Path

import pytest

from ctip.core.backup import (
    CHUNK_SIZE,
    MAGIC,
    SIG_LEN,
    SIG_TAG,
    SIGNED_CONTEXT,
    BackupError,
    BackupKeys,
    read_backup,
    verify_signature,
    write_backup,
)
from ctip.home import create_home
from ctip.testing.nodes import ctip, demo_home_template

slow = pytest.mark.slow
MANIFEST = {"node": "KH", "created_at": "2025-01-01T00:00:00+00:00", "tables": {"t": 1}}


# --- The file format -----------------------------------------------------------------------


@pytest.fixture
def keys():
    return BackupKeys.derive(secrets.token_bytes(32))


def make_file(tmp_path, keys, payload: bytes, name="b.ctipbackup") -> Path:
    path = tmp_path / name
    with open(path, "wb") as out:
        write_backup(io.BytesIO(payload), out, MANIFEST, keys)
    return path


def read_back(path, keys) -> bytes:
    out = io.BytesIO()
    read_backup(path, keys, out)
    return out.getvalue()


def offsets(path: Path) -> dict[str, int]:
    """Byte offsets of the parts of a backup file, to alter them one by one."""
    data = path.read_bytes()
    pos = len(MAGIC)
    (hlen,) = struct.unpack(">I", data[pos : pos + 4])
    found = {"header": pos + 4 + hlen // 2}
    pos += 4 + hlen
    chunks = []
    while True:
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if length == 0:
            break
        chunks.append(pos + 4)
        pos += 4 + length
    found["chunk"] = chunks[0] + 10
    found["last_chunk"] = chunks[-1] + 5
    pos += 4
    (flen,) = struct.unpack(">I", data[pos : pos + 4])
    found["footer"] = pos + 4 + flen // 2
    found["signature"] = len(data) - 5
    return found


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_round_trip_of_several_chunks(tmp_path, keys):
    payload = secrets.token_bytes(2 * CHUNK_SIZE + 12345)
    path = make_file(tmp_path, keys, payload)
    assert payload[:4096] not in path.read_bytes()  # encrypted
    assert read_back(path, keys) == payload
    head = verify_signature(path, keys.public_key)
    assert head.manifest == MANIFEST and head.footer["chunks"] == 3
    assert head.footer["size"] == len(payload)


@pytest.mark.parametrize("size", [0, CHUNK_SIZE])
def test_round_trip_at_the_edges(tmp_path, keys, size):
    payload = secrets.token_bytes(size)
    assert read_back(make_file(tmp_path, keys, payload), keys) == payload


@pytest.mark.parametrize("part", ["header", "chunk", "last_chunk", "footer", "signature"])
def test_any_altered_byte_is_refused(tmp_path, keys, part):
    path = make_file(tmp_path, keys, secrets.token_bytes(CHUNK_SIZE + 100))
    flip(path, offsets(path)[part])
    with pytest.raises(BackupError, match="altered|damaged"):
        read_back(path, keys)


def test_unsigned_file_is_refused(tmp_path, keys):
    path = make_file(tmp_path, keys, b"database")
    path.write_bytes(path.read_bytes()[: -(len(SIG_TAG) + SIG_LEN)])
    with pytest.raises(BackupError, match="not signed"):
        read_back(path, keys)


def test_cut_short_file_is_refused(tmp_path, keys):
    path = make_file(tmp_path, keys, secrets.token_bytes(CHUNK_SIZE + 100))
    path.write_bytes(path.read_bytes()[: CHUNK_SIZE // 2])
    with pytest.raises(BackupError, match="cut short"):
        read_back(path, keys)


def test_file_signed_by_another_key_is_refused_even_if_it_names_that_key(tmp_path, keys):
    forger = BackupKeys.derive(secrets.token_bytes(32))
    path = make_file(tmp_path, forger, b"forged database")  # names the forger's public key
    with pytest.raises(BackupError, match="signed by ed25519:.*not by this node's key"):
        read_back(path, keys)


def test_chunks_are_bound_to_their_position(tmp_path, keys):
    """Even a holder of the signing key cannot reorder blocks: each is bound to its index."""
    path = make_file(tmp_path, keys, secrets.token_bytes(2 * CHUNK_SIZE))
    data = path.read_bytes()
    pos = len(MAGIC)
    (hlen,) = struct.unpack(">I", data[pos : pos + 4])
    start = pos + 4 + hlen
    block = 4 + CHUNK_SIZE + 16
    first, second = data[start : start + block], data[start + block : start + 2 * block]
    swapped = data[:start] + second + first + data[start + 2 * block : -(len(SIG_TAG) + SIG_LEN)]
    signature = keys.signing.sign(SIGNED_CONTEXT + hashlib.sha512(swapped).digest())
    path.write_bytes(swapped + SIG_TAG + signature)
    verify_signature(path, keys.public_key)  # the signature is good ...
    with pytest.raises(BackupError, match="block 0 of the backup does not decrypt"):
        read_back(path, keys)  # ... but the blocks are not where they were sealed


def test_keys_are_derived_stably_and_separately():
    chain_key = secrets.token_bytes(32)
    one, two = BackupKeys.derive(chain_key), BackupKeys.derive(chain_key)
    assert one.public_key == two.public_key and one.encryption == two.encryption
    assert one.encryption != chain_key
    assert BackupKeys.derive(secrets.token_bytes(32)).public_key != one.public_key


# --- ctip backup / ctip restore in child processes -----------------------------------------

PERSON_NAMES = (  # every person's personal fields, decrypted, or the error that stops it
    "import json\n"
    "from ctip.cases.models import Person\n"
    "from ctip.core.crypto import CryptoError\n"
    "out = {}\n"
    "for p in Person.objects.order_by('reference'):\n"
    "    try:\n"
    "        out[p.reference] = [getattr(p, f) for f in Person.PII_FIELDS]\n"
    "    except CryptoError as exc:\n"
    "        out[p.reference] = type(exc).__name__\n"
    "print(json.dumps(out))\n"
)
LIVE_DATA_KEYS = (
    "from ctip.core.models import DataKey\n"
    "print(DataKey.objects.filter(shredded_at__isnull=True).count())"
)

AUDIT_IS_APPEND_ONLY = (
    "from django.db import connection, DatabaseError, transaction\n"
    "try:\n"
    "    with transaction.atomic(), connection.cursor() as c:\n"
    "        c.execute(\"UPDATE audit_auditevent SET object_id = 'x'\")\n"
    "    print('UPDATED')\n"
    "except DatabaseError:\n"
    "    print('REFUSED')\n"
)


EXCHANGE_KEYS = "exchange_keys.json"


def shell(home: Path, code: str) -> str:
    output = ctip("shell", "--no-imports", "--home", str(home), "-c", code).stdout.strip()
    return output.splitlines()[-1] if output else ""


def names(home: Path) -> dict[str, str]:
    return json.loads(shell(home, PERSON_NAMES))


def empty_home(source: Path, target: Path, *, keys_from: Path | None = None, db_url=None):
    """A home for a restore: node.json, the key ring and the exchange keys from custody, no
    database yet."""
    target.mkdir(parents=True)
    config = json.loads((source / "node.json").read_text())
    config["database_url"] = db_url
    (target / "node.json").write_text(json.dumps(config))
    shutil.copy((keys_from or source) / "keys.json", target / "keys.json")
    shutil.copy(source / EXCHANGE_KEYS, target / EXCHANGE_KEYS)
    for name in ("node.json", "keys.json", EXCHANGE_KEYS):
        os.chmod(target / name, 0o600)
    return target


def no_database(home: Path) -> bool:
    """Nothing was restored: no database file, or an empty one (opening SQLite creates it)."""
    return not (home / "db.sqlite3").exists() or sqlite_tables(home / "db.sqlite3") == {}


def restore(home: Path, backup: Path, *extra: str):
    return ctip("restore", "--home", str(home), "--input", str(backup), *extra, check=False)


def sqlite_tables(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as db:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: sorted(map(repr, db.execute(f'SELECT * FROM "{t}"'))) for t in tables}  # noqa: S608


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A KH node with the demo data, and a backup of it taken with ``ctip backup``."""
    base = tmp_path_factory.mktemp("backup")
    home = base / "kh"
    shutil.copytree(demo_home_template("KH"), home)  # ctip init + ctip demo_data, made once
    before = sqlite_tables(home / "db.sqlite3")
    result = ctip("backup", "--home", str(home), "--output", str(base / "kh.ctipbackup"))
    assert "signed by ed25519:" in result.stdout
    return {"home": home, "base": base, "file": base / "kh.ctipbackup", "tables": before}


@slow
def test_backup_records_itself_in_the_audit_log_and_refuses_to_overwrite(source):
    verified = ctip("audit", "verify", "--home", str(source["home"]))
    assert "intact" in verified.stdout
    again = ctip(
        "backup", "--home", str(source["home"]), "--output", str(source["file"]), check=False
    )
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr
    rows = shell(
        source["home"],
        "from ctip.audit.models import AuditEvent\n"
        "print(AuditEvent.objects.filter(object_type='core.backup', action='export').count())",
    )
    assert rows == "1"


@slow
def test_sqlite_round_trip(source, tmp_path):
    target = empty_home(source["home"], tmp_path / "restored")
    result = restore(target, source["file"])
    assert result.returncode == 0, result.stderr
    assert "audit log:" in result.stdout and "rows verified" in result.stdout
    assert "exchange message log: 0 rows verified" in result.stdout
    # Every row of every table is back as it was when the backup was taken; the audit log
    # has one more row, the restore itself, and still verifies.
    restored = sqlite_tables(target / "db.sqlite3")
    original = source["tables"]
    assert restored.keys() == original.keys()
    for table in original:
        if table not in {"audit_auditevent", "audit_chainhead"}:
            assert restored[table] == original[table], table
    assert set(original["audit_auditevent"]) < set(restored["audit_auditevent"])
    assert len(restored["audit_auditevent"]) == len(original["audit_auditevent"]) + 1
    assert "intact" in ctip("audit", "verify", "--home", str(target)).stdout
    # Personal data reads back with the key ring from custody; the audit log stays append-only.
    people = names(target)
    assert people == names(source["home"]) and len(people) >= 2
    assert all(isinstance(fields, list) and any(fields) for fields in people.values())
    assert shell(target, AUDIT_IS_APPEND_ONLY) == "REFUSED"
    # And a second restore into the now non-empty home is refused, changing nothing.
    again = restore(target, source["file"])
    assert again.returncode == 1 and "not empty" in again.stderr
    assert sqlite_tables(target / "db.sqlite3") == restored


@slow
def test_backup_verify_command(source, tmp_path):
    good = ctip("backup", "--home", str(source["home"]), "--verify", str(source["file"]))
    assert "backup verified" in good.stdout
    bad = tmp_path / "bad.ctipbackup"
    shutil.copy(source["file"], bad)
    flip(bad, offsets(bad)["chunk"])
    refused = ctip("backup", "--home", str(source["home"]), "--verify", str(bad), check=False)
    assert refused.returncode == 1 and "altered" in refused.stderr


@slow
@pytest.mark.parametrize("damage", ["tampered", "unsigned"])
def test_restore_refuses_tampered_or_unsigned_file_and_writes_nothing(source, tmp_path, damage):
    bad = tmp_path / "bad.ctipbackup"
    data = bytearray(source["file"].read_bytes())
    if damage == "tampered":
        data[len(data) // 2] ^= 0x20
    else:
        del data[-(len(SIG_TAG) + SIG_LEN) :]
    bad.write_bytes(bytes(data))
    target = empty_home(source["home"], tmp_path / "restored")
    result = restore(target, bad)
    assert result.returncode == 1
    assert ("altered" if damage == "tampered" else "not signed") in result.stderr
    assert no_database(target)


@slow
def test_restore_refuses_without_the_nodes_key_ring(source, tmp_path):
    # Another KH node's key ring (what ``ctip init`` writes before it migrates): only its
    # keys.json is used below, so no database is made for it.
    stranger = create_home(tmp_path / "stranger", "KH").path
    target = empty_home(source["home"], tmp_path / "restored", keys_from=stranger)
    result = restore(target, source["file"])
    assert result.returncode == 1
    assert "not by this node's key" in result.stderr and "key custody" in result.stderr
    assert no_database(target)


@slow
@slow
def test_restore_refuses_without_the_exchange_keys(source, tmp_path):
    target = empty_home(source["home"], tmp_path / "restored")
    (target / EXCHANGE_KEYS).unlink()
    result = restore(target, source["file"])
    assert result.returncode == 1 and "exchange keys from key custody" in result.stderr
    assert no_database(target)


@slow
def test_restore_refuses_a_backup_of_another_node(source, tmp_path):
    target = empty_home(source["home"], tmp_path / "restored")
    config = json.loads((target / "node.json").read_text())
    (target / "node.json").write_text(json.dumps({**config, "node_id": "CN"}))
    result = restore(target, source["file"])
    assert result.returncode == 1 and "of node KH, this home is node CN" in result.stderr


@slow
def test_shredding_reaches_an_old_backup_once_its_master_key_is_gone(tmp_path):
    """Backup, then shred a person and rotate the keys: the rotation retires the master key
    the backup's data keys are wrapped under. With the current key ring the old backup is
    refused (or restored with its records unreadable); only the custody copy of the old
    ring opens it, so destroying that copy is what makes the shredding reach the backup."""
    home = tmp_path / "kh"
    shutil.copytree(demo_home_template("KH"), home)  # ctip init + ctip demo_data, made once
    live_keys = int(shell(home, LIVE_DATA_KEYS))
    ctip("backup", "--home", str(home), "--output", str(tmp_path / "old.ctipbackup"))
    custody = tmp_path / "custody-before-rotation"
    custody.mkdir()
    shutil.copy(home / "keys.json", custody / "keys.json")
    old_kid = json.loads((home / "keys.json").read_text())["active"]
    people = names(home)
    shredded_ref = sorted(people)[0]
    shell(
        home,
        "from django.utils import timezone\n"
        "from ctip.cases.models import Person\n"
        "from ctip.core.models import DataKey\n"
        f"p = Person.objects.get(reference={shredded_ref!r})\n"
        "DataKey.objects.filter(pk=p.data_key_id).update(wrapped='', shredded_at=timezone.now())",
    )
    rotated = ctip("keys", "rotate", "--home", str(home)).stdout
    assert f"retired: {old_kid}" in rotated
    assert names(home)[shredded_ref] == "ShreddedError"

    # With today's key ring the old backup is refused, clearly ...
    refused = restore(empty_home(home, tmp_path / "r1"), tmp_path / "old.ctipbackup")
    assert refused.returncode == 1
    assert old_kid in refused.stderr and "key custody" in refused.stderr
    assert no_database(tmp_path / "r1")
    # ... or restored with every record under the retired key unreadable (shredded).
    target = empty_home(home, tmp_path / "r2")
    allowed = restore(target, tmp_path / "old.ctipbackup", "--allow-shredded")
    assert allowed.returncode == 0, allowed.stderr
    assert f"{live_keys} data keys had no master key" in allowed.stdout
    assert set(names(target).values()) == {"ShreddedError"}
    assert "intact" in ctip("audit", "verify", "--home", str(target)).stdout
    # The custody copy of the old ring still opens it, shredded person included: destroying
    # that copy at the end of the backup retention is what completes the shredding.
    kept = empty_home(home, tmp_path / "r3", keys_from=custody)
    assert restore(kept, tmp_path / "old.ctipbackup").returncode == 0
    assert names(kept) == people


# --- PostgreSQL ----------------------------------------------------------------------------

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def pg_admin():
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL server at 127.0.0.1:5432")


@pytest.fixture
def pg_databases():
    admin = pg_admin()
    names_ = [f"ctip_backup_{secrets.token_hex(4)}" for _ in range(2)]
    for name in names_:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield [f"postgresql://postgres@127.0.0.1:5432/{name}" for name in names_]
    for name in names_:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def pg_rows(url: str) -> dict[str, list[str]]:
    import psycopg

    with psycopg.connect(url) as db:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {t: sorted(map(repr, db.execute(f'SELECT * FROM "{t}"'))) for t in tables}  # noqa: S608


@slow
def test_postgresql_round_trip(tmp_path, pg_databases):
    source_url, target_url = pg_databases
    home = tmp_path / "kh"
    ctip("init", "--node", "KH", "--home", str(home), "--database-url", source_url)
    ctip("demo_data", "--home", str(home))
    before = pg_rows(source_url)
    made = ctip("backup", "--home", str(home), "--output", str(tmp_path / "pg.ctipbackup"))
    assert "postgresql" in made.stdout
    target = empty_home(home, tmp_path / "restored", db_url=target_url)
    result = restore(target, tmp_path / "pg.ctipbackup")
    assert result.returncode == 0, result.stderr
    assert "audit log:" in result.stdout
    after = pg_rows(target_url)
    assert after.keys() == before.keys()
    for table in before:
        if table not in {"audit_auditevent", "audit_chainhead"}:
            assert after[table] == before[table], table
    assert len(after["audit_auditevent"]) == len(before["audit_auditevent"]) + 1
    people = names(target)
    assert people == names(home) and len(people) >= 2
    assert all(isinstance(fields, list) and any(fields) for fields in people.values())
    assert shell(target, AUDIT_IS_APPEND_ONLY) == "REFUSED"
    assert "intact" in ctip("audit", "verify", "--home", str(target)).stdout
    again = restore(target, tmp_path / "pg.ctipbackup")
    assert again.returncode == 1 and "not empty" in again.stderr
