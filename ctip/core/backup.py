"""Backups of one node: consistent, encrypted and signed; and their restore.

``ctip backup --home DIR --output FILE`` and ``ctip restore --home DIR --input FILE`` call
``backup_create`` and ``backup_restore``; ``ctip backup --verify FILE`` calls ``backup_check``.

Consistency. SQLite: the online backup API copies the database in one step under a read
lock, so the copy is one committed state. PostgreSQL: one REPEATABLE READ transaction
exports its snapshot; the manifest is read in it and ``pg_dump --snapshot`` dumps exactly
that snapshot, so manifest and dump describe the same moment.

Keys. Nothing in the file can be read or forged without the node's key ring, and the key
ring is never in the file (key custody keeps it apart; see docs/deployment.md). Two keys
are derived with HKDF-SHA256 from the ring's ``chain_key`` (which is never rotated, so a
ring copy kept in custody opens every backup the node has made; old rings need no change):

* an AES-256-GCM key that encrypts the payload, in chunks of 1 MiB, each bound to the
  header (manifest) and to its position, with the last chunk marked, so that chunks cannot
  be dropped, reordered or moved to another file;
* an Ed25519 key that signs the whole file. A public-key signature, not an HMAC, so that a
  machine that only checks the nightly backups (or an auditor) can hold the public key,
  printed by ``ctip backup`` and written in the manifest, and check a file without being
  able to make one. The restore checks against the key derived from its own ring, never
  against the key written in the file.

File layout (format 1)::

    b"CTIP-BACKUP\\n"
    u32 length, header JSON     manifest (node, time, database vendor, app version,
                                migrations, master key ids, row counts) + cipher parameters
    u32 length, chunk ...       AES-GCM ciphertext of the payload (SQLite file or
                                pg_dump custom archive); a zero length ends the chunks
    u32 length, footer JSON     size and SHA-256 of the payload, number of chunks
    b"SIG1", 64 bytes           Ed25519 over SHA-512 of every byte before "SIG1"

Crypto-shredding and old backups. A backup holds the data keys as they were, wrapped
under the master keys of that time; the manifest names those master keys. Restoring needs
a key ring that still holds them. Shredding a record in the live database does not reach a
backup made before it until those master keys are gone: rotate the keys (``ctip keys
rotate`` retires every master key no live data key uses) and destroy the custody copies of
the older rings when the backup retention ends. A backup whose master keys are gone is
refused, or restored with ``allow_shredded`` so that its data keys are recorded as shredded
(every record under them unreadable) while the rest of the node (audit log, directory,
plan data) comes back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"CTIP-BACKUP\n"
FORMAT = 1
CHUNK_SIZE = 1 << 20
SIG_TAG = b"SIG1"
SIG_LEN = 64
MAX_HEADER = 1 << 20
SIGNED_CONTEXT = b"ctip-backup-signature-v1\x00"
VENDORS = {"sqlite": "sqlite-file", "postgresql": "pg_dump-custom"}


class BackupError(Exception):
    """A backup cannot be made, checked or restored. The message is one line for people."""


# --- Keys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupKeys:
    """The node's backup keys, derived from its key ring (see the module docstring)."""

    encryption: bytes
    signing: Ed25519PrivateKey

    @classmethod
    def derive(cls, chain_key: bytes) -> BackupKeys:
        def hkdf(info: bytes) -> bytes:
            return HKDF(
                algorithm=hashes.SHA256(), length=32, salt=b"ctip-backup-v1", info=info
            ).derive(chain_key)

        return cls(hkdf(b"encrypt"), Ed25519PrivateKey.from_private_bytes(hkdf(b"sign")))

    @classmethod
    def of_node(cls) -> BackupKeys:
        from ctip.core.crypto import get_keyring

        return cls.derive(get_keyring().chain_key)

    @property
    def public_key(self) -> str:
        raw = self.signing.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()


def fingerprint(public_key_b64: str) -> str:
    """A short, readable name of a public key (to compare by eye, e.g. in the custody sheet)."""
    digest = hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:20]
    return "ed25519:" + ":".join(digest[i : i + 4] for i in range(0, 20, 4))


# --- The file format (no Django) -----------------------------------------------------------


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def _chunks(stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """Yield (chunk, is_last); an empty payload is one empty last chunk."""
    current = stream.read(CHUNK_SIZE)
    while True:
        following = stream.read(CHUNK_SIZE) if len(current) == CHUNK_SIZE else b""
        yield current, not following
        if not following:
            return
        current = following


def write_backup(payload: BinaryIO, out: BinaryIO, manifest: dict, keys: BackupKeys) -> dict:
    """Encrypt and sign ``payload`` into ``out``. Returns the footer (size, sha256, chunks)."""
    prefix = secrets.token_bytes(7)
    header = {
        "format": FORMAT,
        "manifest": manifest,
        "encryption": {
            "alg": "A256GCM",
            "chunk_size": CHUNK_SIZE,
            "nonce_prefix": base64.b64encode(prefix).decode(),
        },
        "signature": {"alg": "Ed25519", "public_key": keys.public_key},
    }
    header_bytes = json.dumps(header, sort_keys=True, ensure_ascii=False).encode()
    aad = hashlib.sha256(header_bytes).digest()
    signed = hashlib.sha512()
    content = hashlib.sha256()

    def emit(data: bytes) -> None:
        signed.update(data)
        out.write(data)

    emit(MAGIC)
    emit(struct.pack(">I", len(header_bytes)) + header_bytes)
    aead, size, count = AESGCM(keys.encryption), 0, 0
    for index, (chunk, last) in enumerate(_chunks(payload)):
        content.update(chunk)
        size += len(chunk)
        sealed = aead.encrypt(_nonce(prefix, index, last), chunk, aad)
        emit(struct.pack(">I", len(sealed)) + sealed)
        count += 1
    emit(struct.pack(">I", 0))
    footer = {"size": size, "sha256": content.hexdigest(), "chunks": count}
    footer_bytes = json.dumps(footer, sort_keys=True).encode()
    emit(struct.pack(">I", len(footer_bytes)) + footer_bytes)
    out.write(SIG_TAG + keys.signing.sign(SIGNED_CONTEXT + signed.digest()))
    return footer


@dataclass(frozen=True)
class BackupHeader:
    manifest: dict
    footer: dict
    public_key: str
    nonce_prefix: bytes
    aad: bytes


def _read_exact(fh: BinaryIO, n: int, what: str) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise BackupError(f"the backup file is cut short (in the {what})")
    return data


def _read_block(fh: BinaryIO, what: str, limit: int) -> bytes:
    (length,) = struct.unpack(">I", _read_exact(fh, 4, what))
    if length > limit:
        raise BackupError(f"the backup file is damaged (its {what} is too long)")
    return _read_exact(fh, length, what)


def _parse_json(raw: bytes, what: str) -> dict:
    try:
        value = json.loads(raw)
    except ValueError:
        raise BackupError(f"the backup file is damaged (its {what} is not JSON)") from None
    if not isinstance(value, dict):
        raise BackupError(f"the backup file is damaged (its {what} is not an object)")
    return value


def _walk(fh: BinaryIO, on_chunk: Callable[[int, bytes], None] | None = None) -> BackupHeader:
    """Read the whole file once: structure, signature, and each chunk handed to on_chunk."""
    signed = hashlib.sha512()

    def take(n: int, what: str) -> bytes:
        data = _read_exact(fh, n, what)
        signed.update(data)
        return data

    if take(len(MAGIC), "start") != MAGIC:
        raise BackupError("this is not a CTIP Bridge backup file")
    (length,) = struct.unpack(">I", take(4, "header"))
    if length > MAX_HEADER:
        raise BackupError("the backup file is damaged (its header is too long)")
    header_bytes = take(length, "header")
    header = _parse_json(header_bytes, "header")
    if header.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {header.get('format')!r} (this version reads 1)")
    try:
        manifest = header["manifest"]
        prefix = base64.b64decode(header["encryption"]["nonce_prefix"])
        public_key = header["signature"]["public_key"]
    except (KeyError, TypeError, ValueError):
        raise BackupError("the backup file is damaged (its header is incomplete)") from None
    index = 0
    while True:
        (length,) = struct.unpack(">I", take(4, "data"))
        if length == 0:
            break
        if length > CHUNK_SIZE + 16:
            raise BackupError("the backup file is damaged (a data block is too long)")
        sealed = take(length, "data")
        if on_chunk is not None:
            on_chunk(index, sealed)
        index += 1
    (length,) = struct.unpack(">I", take(4, "footer"))
    if length > MAX_HEADER:
        raise BackupError("the backup file is damaged (its footer is too long)")
    footer = _parse_json(take(length, "footer"), "footer")
    digest = signed.digest()
    trailer = fh.read(len(SIG_TAG) + SIG_LEN + 1)
    if not trailer:
        raise BackupError("the backup file is not signed (or was cut short): refusing it")
    if len(trailer) != len(SIG_TAG) + SIG_LEN or not trailer.startswith(SIG_TAG):
        raise BackupError("the backup file is damaged after its content (bad signature block)")
    return BackupHeader(
        manifest=manifest,
        footer={**footer, "_signature": trailer[len(SIG_TAG) :], "_digest": digest},
        public_key=public_key,
        nonce_prefix=prefix,
        aad=hashlib.sha256(header_bytes).digest(),
    )


def verify_signature(path: Path, public_key_b64: str) -> BackupHeader:
    """Check the structure and the Ed25519 signature of a file against a trusted public key.

    Needs no secret: a machine that only checks backups holds the node's public key."""
    with open(path, "rb") as fh:
        head = _walk(fh)
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        public.verify(head.footer["_signature"], SIGNED_CONTEXT + head.footer["_digest"])
    except (InvalidSignature, ValueError):
        if head.public_key != public_key_b64:
            raise BackupError(
                f"the backup was signed by {fingerprint(head.public_key)}, not by this node's "
                f"key {fingerprint(public_key_b64)}: restore with the key ring of the node that "
                "made it (from key custody)"
            ) from None
        raise BackupError(
            "the backup's signature does not verify: the file was altered; refusing it"
        ) from None
    return head


def read_backup(path: Path, keys: BackupKeys, out: BinaryIO | None) -> BackupHeader:
    """Verify the signature, then decrypt every chunk (into ``out`` if given) and check the
    payload's size and SHA-256 against the signed footer."""
    head = verify_signature(path, keys.public_key)
    aead, content, size, count = AESGCM(keys.encryption), hashlib.sha256(), 0, 0
    last_seen = False
    chunks_total = head.footer.get("chunks")

    def on_chunk(index: int, sealed: bytes) -> None:
        nonlocal size, count, last_seen
        last = index == chunks_total - 1
        try:
            plain = aead.decrypt(_nonce(head.nonce_prefix, index, last), sealed, head.aad)
        except InvalidTag:
            raise BackupError(
                f"block {index} of the backup does not decrypt: altered, or not this node's"
            ) from None
        content.update(plain)
        size += len(plain)
        count += 1
        last_seen = last_seen or last
        if out is not None:
            out.write(plain)

    if not isinstance(chunks_total, int) or chunks_total < 1:
        raise BackupError("the backup file is damaged (its footer has no block count)")
    with open(path, "rb") as fh:
        _walk(fh, on_chunk)
    if not last_seen or count != chunks_total:
        raise BackupError("the backup file is damaged (blocks missing)")
    if size != head.footer.get("size") or content.hexdigest() != head.footer.get("sha256"):
        raise BackupError("the backup's content does not match its signed checksum")
    return head


# --- Taking a backup (Django) --------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict
    size: int
    sha256: str
    public_key: str


def _vendor() -> str:
    from django.db import connection

    if connection.vendor not in VENDORS:
        raise BackupError(f"backups of {connection.vendor} databases are not supported")
    return connection.vendor


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _manifest_from(cursor, tables: list[str], vendor: str, server_version: str) -> dict:
    """Read the manifest with a DB-API cursor inside the snapshot being backed up."""
    from django.conf import settings

    from ctip import __version__

    migrations: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    master_keys: list[str] = []
    audit_head = None
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - names from the schema
        counts[table] = int(cursor.fetchone()[0])
    if "django_migrations" in counts:
        cursor.execute("SELECT app, name FROM django_migrations")
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    if "core_datakey" in counts:
        cursor.execute("SELECT DISTINCT kek_id FROM core_datakey WHERE shredded_at IS NULL")
        master_keys = sorted(row[0] for row in cursor.fetchall())
    if "audit_chainhead" in counts:
        cursor.execute("SELECT seq, hash FROM audit_chainhead WHERE name = 'audit'")
        row = cursor.fetchone()
        audit_head = {"seq": int(row[0]), "hash": row[1]} if row else None
    return {
        "node": settings.CTIP_NODE,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "app_version": __version__,
        "database": {"vendor": vendor, "server_version": server_version, "dump": VENDORS[vendor]},
        "migrations": {app: sorted(names) for app, names in sorted(migrations.items())},
        "master_keys": master_keys,
        "audit_head": audit_head,
        "tables": counts,
    }


def _snapshot_sqlite(workdir: Path) -> tuple[Path, dict]:
    from django.db import connection

    source = connection.settings_dict["NAME"]
    copy = workdir / "payload.sqlite3"
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(copy)
    try:
        src.backup(dst)  # one step: a single consistent state of the database
    finally:
        src.close()
    try:
        cur = dst.cursor()
        cur.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        tables = [row[0] for row in cur.fetchall()]
        manifest = _manifest_from(cur, tables, "sqlite", sqlite3.sqlite_version)
    finally:
        dst.close()
    return copy, manifest


def _pg_command(program: str) -> tuple[list[str], dict]:
    """Arguments and environment for pg_dump/pg_restore (password only in the environment)."""
    from django.db import connection

    found = shutil.which(program)
    if not found:
        raise BackupError(f"{program} is not installed (PostgreSQL client tools are needed)")
    db = connection.settings_dict
    args = [found, "--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return args, env


def _snapshot_postgresql(workdir: Path) -> tuple[Path, dict]:
    from django.db import connection, transaction

    dump = workdir / "payload.pgdump"
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cur.fetchone()
            tables = connection.introspection.table_names(cur)
            manifest = _manifest_from(cur, tables, "postgresql", server_version)
        args, env = _pg_command("pg_dump")
        args += [
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--snapshot={snapshot}",
            f"--file={dump}",
        ]
        result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {_first_line(result.stderr)}")
    return dump, manifest


def _first_line(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[0] if lines else "no message"


@contextmanager
def _private_workdir(near: Path | None = None) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="ctip-backup-", dir=near))  # mode 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _open_private(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def backup_create(*, output: Path) -> BackupResult:
    """Write a consistent, encrypted, signed backup of this node's database to ``output``."""
    from ctip.audit.models import Action
    from ctip.audit.services import audit_record

    output = Path(output)
    if output.exists():
        raise BackupError(f"{output} exists: refusing to overwrite a backup")
    if not output.parent.is_dir():
        raise BackupError(f"the folder {output.parent} does not exist")
    keys = BackupKeys.of_node()
    vendor = _vendor()
    partial = output.with_name(output.name + ".partial")
    with _private_workdir() as work:
        snapshot = _snapshot_sqlite if vendor == "sqlite" else _snapshot_postgresql
        payload, manifest = snapshot(work)
        try:
            with open(payload, "rb") as src, _open_private(partial) as out:
                footer = write_backup(src, out, manifest, keys)
                out.flush()
                os.fsync(out.fileno())
        except FileExistsError:
            raise BackupError(
                f"{partial} exists: another backup is running, or one was interrupted "
                "(then remove that file)"
            ) from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, output)
    audit_record(
        actor=None,
        action=Action.EXPORT,
        object_type="core.backup",
        object_id=footer["sha256"][:32],
        details={"vendor": vendor, "size": footer["size"], "audit_head": manifest["audit_head"]},
    )
    return BackupResult(output, manifest, footer["size"], footer["sha256"], keys.public_key)


def backup_check(*, path: Path) -> BackupHeader:
    """Verify a backup completely with this node's keys (signature, every block, checksum)."""
    return read_backup(Path(path), BackupKeys.of_node(), None)


# --- Restoring (Django) --------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict
    audit_rows: int
    migrations_applied: list[str] = field(default_factory=list)
    chains: dict[str, str] = field(default_factory=dict)
    shredded: int = 0


def _known_migrations() -> set[tuple[str, str]]:
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(connection, ignore_no_migrations=True).disk_migrations)


def _check_before_restore(manifest: dict, allow_shredded: bool) -> None:
    from django.conf import settings
    from django.db import connection

    from ctip.core.crypto import get_keyring

    if manifest.get("node") != settings.CTIP_NODE:
        raise BackupError(
            f"the backup is of node {manifest.get('node')}, this home is node {settings.CTIP_NODE}"
        )
    vendor = (manifest.get("database") or {}).get("vendor")
    if vendor != connection.vendor:
        raise BackupError(
            f"the backup is of a {vendor} database; this home uses {connection.vendor} "
            "(restore into the same kind of database)"
        )
    known = _known_migrations()
    unknown = sorted(
        f"{app}.{name}"
        for app, names in (manifest.get("migrations") or {}).items()
        for name in names
        if (app, name) not in known
    )
    if unknown:
        raise BackupError(
            f"the backup was made by a newer version ({manifest.get('app_version')}): migration "
            f"{unknown[0]} is unknown here; install that version or later first"
        )
    ring = get_keyring()
    missing = [kid for kid in manifest.get("master_keys") or [] if kid not in ring.keys]
    if missing and not allow_shredded:
        raise BackupError(
            f"the backup's data keys are wrapped under master key(s) {', '.join(missing)}, "
            "which this key ring does not hold: restore with the key ring copy from the time "
            "of the backup (key custody), or pass --allow-shredded to restore with the records "
            "under those keys unreadable"
        )
    tables = connection.introspection.table_names()
    if tables:
        raise BackupError(
            f"the database of this home is not empty ({len(tables)} tables): restore only "
            "into a new, empty database"
        )


def _load_sqlite(payload: Path) -> None:
    from django.db import connection

    target = connection.settings_dict["NAME"]
    connection.close()
    src = sqlite3.connect(payload)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _load_postgresql(payload: Path) -> None:
    from django.db import connection

    connection.close()
    args, env = _pg_command("pg_restore")
    args += ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    result = subprocess.run([*args, str(payload)], env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {_first_line(result.stderr)}")


def chain_verifiers() -> dict[str, Callable[[], object]]:
    """The hash chains to verify after a restore: the audit log, and the exchange message
    log where this version has one. Each returns an object with ``ok``, ``checked`` and
    ``reason``."""
    from ctip.audit.services import audit_verify

    verifiers: dict[str, Callable[[], object]] = {"audit log": audit_verify}
    try:
        from ctip.exchange.services import log_verify
    except ImportError:  # a version without the exchange message log
        return verifiers
    verifiers["exchange message log"] = log_verify
    return verifiers


def _check_exchange_keys() -> None:
    """The message log's signatures are checked with the node's exchange keys, which (like
    the key ring) come from key custody, not from the backup."""
    try:
        from ctip.exchange.services import KeysUnavailable, our_keys
    except ImportError:
        return
    try:
        our_keys()
    except KeysUnavailable as exc:
        raise BackupError(
            f"{exc}; a restore needs the node's exchange keys from key custody as well"
        ) from None


def _mark_unreadable_keys_shredded() -> int:
    from ctip.core.crypto import get_keyring
    from ctip.core.models import DataKey
    from ctip.core.services import data_keys_shred

    ring = get_keyring()
    lost = DataKey.objects.filter(shredded_at__isnull=True).exclude(kek_id__in=list(ring.keys))
    return len(data_keys_shred(key_ids=lost.values_list("pk", flat=True)))


def backup_restore(*, path: Path, allow_shredded: bool = False) -> RestoreResult:
    """Restore a backup into this home's empty database, then verify the hash chains.

    Refuses, before writing anything, a file that is not signed by this node's key ring, is
    damaged or altered, belongs to another node or a newer version, needs master keys the
    ring no longer holds (unless ``allow_shredded``), a home without the exchange keys, or a
    database that is not empty."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    from ctip.audit.models import Action
    from ctip.audit.services import audit_record

    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    keys = BackupKeys.of_node()
    head = verify_signature(path, keys.public_key)
    manifest = head.manifest
    _check_before_restore(manifest, allow_shredded)
    _check_exchange_keys()
    near = Path(connection.settings_dict["NAME"]).parent if connection.vendor == "sqlite" else None
    with _private_workdir(near) as work:
        payload = work / "payload"
        with _open_private(payload) as out:
            read_backup(path, keys, out)
        if connection.vendor == "sqlite":
            _load_sqlite(payload)
        else:
            _load_postgresql(payload)
    before = set(MigrationRecorder(connection).applied_migrations())
    call_command("migrate", interactive=False, verbosity=0)
    applied = sorted(
        f"{a}.{n}" for a, n in set(MigrationRecorder(connection).applied_migrations()) - before
    )
    result = RestoreResult(manifest=manifest, audit_rows=0, migrations_applied=applied)
    if allow_shredded:  # before the chains: evidence under a lost key then counts as purged
        result.shredded = _mark_unreadable_keys_shredded()
    for name, verify in chain_verifiers().items():
        verdict = verify()
        if not verdict.ok:
            raise BackupError(
                f"restored, but the {name} does not verify ({verdict.reason}); the restored "
                "database is not trustworthy and was left in place for inspection"
            )
        result.chains[name] = f"{verdict.checked} rows verified"
        if name == "audit log":
            result.audit_rows = verdict.checked
    head_seq = (manifest.get("audit_head") or {}).get("seq", 0)
    if result.audit_rows != head_seq:
        raise BackupError(
            f"restored, but the audit log has {result.audit_rows} rows where the backup's "
            f"manifest says {head_seq}; the restored database was left in place for inspection"
        )
    audit_record(
        actor=None,
        action=Action.CREATE,
        object_type="core.restore",
        object_id=head.footer["sha256"][:32],
        details={
            "backup_created_at": manifest.get("created_at"),
            "app_version": manifest.get("app_version"),
            "migrations_applied": len(applied),
            "data_keys_shredded": result.shredded,
        },
    )
    return result
