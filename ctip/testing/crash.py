"""Crash consistency: kill a command with SIGKILL at random points, re-run it, and prove that
the database ends up equal to the one an uninterrupted run makes: nothing lost, nothing doubled.

Use it from a test (SQLite homes; each run works on its own copy of a template home)::

    from ctip.testing.crash import crash_test

    report = crash_test(
        template=home,                       # a prepared node home: ``ctip init`` + your data
        command=["keys", "rotate", "--batch-size", "5"],   # the ``ctip`` command to crash
        kills=20,                            # at least this many kill points (if it has them)
        seed=3,                              # the points are chosen from this seed
    )
    report.assert_consistent()               # AssertionError listing every difference
    report.assert_consistent(ignore=["audit_auditevent"])   # ... outside some tables

Optional: ``kills_in_a_row=4`` (each home is killed again while it recovers, four times,
before the run that may finish), ``include_completed=False`` (no kill after the last event,
for a command whose second run is new work by design), ``volatile={"cases_person":
["reference"]}`` (columns compared only as set/empty), ``probes=["ctip.myapp.checks:state"]``
(callables run after the command in the same child process; their JSON-able results must
equal the reference's), ``settings={...}`` (overrides in the child, e.g. a fast password
hasher), ``workers`` (runs in parallel; default: one per CPU).

How it kills. The command runs in a child process (``python -m ctip.testing.crash``) that
counts *events*: every INSERT/UPDATE/DELETE statement once executed, and every COMMIT once
done. A reference run counts them (E). Kill points are drawn from 1..E, one in each of
``kills`` equal strata so they spread over the whole run; at point N the child sends itself
SIGKILL right after event N: no clean-up, no atexit, an open transaction left hot in the
journal. Killing right after a write and before its COMMIT, and right after a COMMIT, are
both covered. Then the command runs again in a fresh process (killed again at the home's
next point with ``kills_in_a_row``) and finally to the end. Processes are forked from a
"zygote" that imported the heavy libraries once, so a run costs what the command costs.

How it compares (the design, since random ids and clocks differ in every run):

1. Rows are read through Django's models, so encrypted columns are decrypted (and compared
   as a hash of the plaintext; an unreadable value as the name of its error).
2. Surrogate primary keys (auto-increment integers, UUIDs with a random default) are not
   content and are left out; natural keys stay.
3. A foreign key is replaced by the content of the row it points to (one level deep), so
   "this person's data key" compares by what that key row holds, not by its random id.
4. Volatile columns are *learned*: the reference runs twice from the same template; a column
   whose values differ between those two clean runs (timestamps, random references, nonces,
   wrapped keys, key ids) is compared only as set/empty. Columns named in ``volatile`` are
   treated the same way.
5. Per table, the row count and a SHA-256 over the sorted rows (a multiset: order-free) must
   equal the reference's; a difference lists the missing and the extra rows.
6. Invariants checked in every run: the audit chain verifies, every live data key unwraps
   with the key ring, and the number of master keys in the ring equals the reference's.

The two reference runs must agree on every row count, or the command is not deterministic
and cannot be compared this way (the harness says so).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import locale
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CrashHarnessError", "CrashReport", "Trial", "crash_test", "kill_points"]

EMPTY = "∅"
PRESENT = "•"
WRITE_VERBS = {"INSERT", "UPDATE", "DELETE", "REPLACE"}


class CrashHarnessError(Exception):
    """The harness cannot do its job (a run failed, or the command is not deterministic)."""


# --- The child process ---------------------------------------------------------------------


class _Events:
    def __init__(self, kill_at: int) -> None:
        self.count = 0
        self.kill_at = kill_at

    def tick(self) -> None:
        self.count += 1
        if self.count == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrapper(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        words = sql.lstrip().split(None, 1)
        if words and words[0].upper() in WRITE_VERBS:
            self.tick()
        return result

    def attach(self, sender=None, connection=None, **kwargs) -> None:
        if getattr(connection, "_ctip_crash_events", None) is self:
            return
        connection._ctip_crash_events = self
        connection.execute_wrappers.append(self.wrapper)
        commit = connection.commit

        def commit_and_count():
            commit()
            self.tick()

        connection.commit = commit_and_count


def _canonical(value):
    import datetime
    import decimal
    import uuid

    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return value


def _dump_tables() -> dict:
    from django.apps import apps
    from django.db import models
    from django.db.models.fields import AutoFieldMixin

    from ctip.core.crypto import CryptoError
    from ctip.core.models import EncryptedTextField

    tables: dict[str, dict] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in tables:
            continue
        pk = meta.pk
        surrogate = isinstance(pk, AutoFieldMixin) or (
            isinstance(pk, models.UUIDField) and pk.has_default()
        )
        fields = list(meta.concrete_fields)
        fks = {
            f.attname: [f.related_model._meta.db_table, f.target_field.attname]
            for f in fields
            if f.is_relation
        }
        rows = []
        for obj in model._base_manager.all().iterator(chunk_size=500):
            row = {}
            for f in fields:
                if isinstance(f, EncryptedTextField):
                    try:
                        plain = getattr(obj, f.attname)
                    except CryptoError as exc:
                        row[f.attname] = f"<{type(exc).__name__}>"
                        continue
                    row[f.attname] = (
                        None
                        if plain is None
                        else "sha256:" + hashlib.sha256(plain.encode()).hexdigest()[:24]
                    )
                else:
                    row[f.attname] = _canonical(getattr(obj, f.attname))
            rows.append(row)
        tables[meta.db_table] = {
            "pk": pk.attname,
            "surrogate_pk": surrogate,
            "fks": fks,
            "rows": rows,
        }
    return tables


def _builtin_probes() -> dict:
    from ctip.audit.services import audit_verify
    from ctip.core.crypto import CryptoError, get_keyring
    from ctip.core.models import DataKey

    verdict = audit_verify()
    unreadable = 0
    for key in DataKey.objects.filter(shredded_at__isnull=True).iterator():
        try:
            key.secret()
        except CryptoError:
            unreadable += 1
    return {
        "audit chain": "verifies" if verdict.ok else f"broken at {verdict.first_bad_seq}",
        "live data keys that do not unwrap": unreadable,
        "master keys in the key ring": len(get_keyring().keys),
    }


def _load(dotted: str) -> Callable[[], object]:
    import importlib

    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)


def _child(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ctip.testing.crash")
    parser.add_argument("--home", required=True)
    parser.add_argument("--kill-at", type=int, default=0)
    parser.add_argument("--events")
    parser.add_argument("--snapshot")
    parser.add_argument("--settings", default="{}")
    parser.add_argument("--probe", action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    command = opts.command[1:] if opts.command[:1] == ["--"] else opts.command

    from ctip import cli

    cli.use_home(opts.home)
    cli.setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connections
    from django.db.backends.signals import connection_created

    for name, value in json.loads(opts.settings).items():
        setattr(settings, name, value)
    events = _Events(opts.kill_at)
    connection_created.connect(events.attach, weak=False)
    for conn in connections.all(initialized_only=True):
        events.attach(connection=conn)
    try:
        # call_command skips the system checks (they only read), so a run costs what the
        # command costs, not the import of every view.
        call_command(*command)
    except CommandError as exc:
        print(f"CommandError: {exc}", file=sys.stderr)  # noqa: T201
        return exc.returncode or 1
    if opts.events:
        Path(opts.events).write_text(str(events.count))
    if opts.snapshot:
        snapshot = {
            "tables": _dump_tables(),
            "probes": {
                **_builtin_probes(),
                **{dotted: _canonical(_load(dotted)()) for dotted in opts.probe},
            },
        }
        Path(opts.snapshot).write_text(json.dumps(snapshot, default=str))
    return 0


# --- Comparing snapshots -------------------------------------------------------------------


def _reduce(value) -> str:
    return EMPTY if value in (None, "", "[]", "{}") else PRESENT


def _freeze(value):
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, list) else value


def _column_values(table: dict, column: str) -> list:
    return sorted((_freeze(row.get(column)) for row in table["rows"]), key=repr)


class _Normaliser:
    """Learns the volatile columns from two clean runs and turns a snapshot into row multisets."""

    def __init__(self, one: dict, two: dict, extra: Mapping[str, Sequence[str]]) -> None:
        for name in sorted(set(one) | set(two)):
            a, b = one.get(name), two.get(name)
            if a is None or b is None or len(a["rows"]) != len(b["rows"]):
                raise CrashHarnessError(
                    f"the two uninterrupted runs disagree on table {name} "
                    f"({len(a['rows']) if a else 0} vs {len(b['rows']) if b else 0} rows): the "
                    "command is not deterministic, so its crashes cannot be compared this way"
                )
        self.volatile: dict[str, set[str]] = {}
        for name, table in one.items():
            plain = [c for c in self._columns(table) if c not in table["fks"]]
            self.volatile[name] = set(extra.get(name, ())) | {
                c for c in plain if _column_values(table, c) != _column_values(two[name], c)
            }
        for name, table in one.items():
            for column in table["fks"]:
                if column in self.volatile[name]:
                    continue
                if self._fk_values(one, name, column) != self._fk_values(two, name, column):
                    self.volatile[name].add(column)

    @staticmethod
    def _columns(table: dict) -> list[str]:
        columns = list(table["rows"][0]) if table["rows"] else []
        return [c for c in columns if not (table["surrogate_pk"] and c == table["pk"])]

    def _own(self, name: str, table: dict, row: dict) -> tuple:
        volatile = self.volatile.get(name, set())
        return tuple(
            (c, _reduce(row[c]) if c in volatile else _freeze(row[c]))
            for c in self._columns(table)
            if c not in table["fks"]
        )

    def _index(self, snapshot: dict, name: str, column: str, cache: dict) -> dict:
        key = (name, column)
        if key not in cache:
            table = snapshot[name]
            cache[key] = {
                row[column]: hashlib.sha256(repr(self._own(name, table, row)).encode()).hexdigest()[
                    :16
                ]
                for row in table["rows"]
            }
        return cache[key]

    def _fk_values(self, snapshot: dict, name: str, column: str, cache=None) -> list:
        cache = {} if cache is None else cache
        target, target_column = snapshot[name]["fks"][column]
        if target not in snapshot:
            return sorted(repr(row[column]) for row in snapshot[name]["rows"])
        index = self._index(snapshot, target, target_column, cache)
        return sorted(
            repr(None if row[column] is None else index.get(row[column], "<dangling>"))
            for row in snapshot[name]["rows"]
        )

    def rows(self, snapshot: dict) -> dict[str, Counter]:
        cache: dict = {}
        result: dict[str, Counter] = {}
        for name, table in snapshot.items():
            volatile = self.volatile.get(name, set())
            counter: Counter = Counter()
            for row in table["rows"]:
                values = dict(self._own(name, table, row))
                for column, (target, target_column) in table["fks"].items():
                    if column in volatile:
                        values[column] = _reduce(row[column])
                    elif row[column] is None or target not in snapshot:
                        values[column] = _freeze(row[column])
                    else:
                        index = self._index(snapshot, target, target_column, cache)
                        values[column] = index.get(row[column], "<dangling>")
                counter[repr(sorted(values.items()))] += 1
            result[name] = counter
        return result


def _digest(rows: Counter) -> str:
    return hashlib.sha256("\n".join(sorted(rows.elements())).encode()).hexdigest()


def _differences(reference: dict[str, Counter], got: dict[str, Counter], probes) -> dict:
    """{table or probe: what differs}, empty when the run equals the reference."""
    found = {}
    for name in sorted(set(reference) | set(got)):
        want, have = reference.get(name, Counter()), got.get(name, Counter())
        if _digest(want) == _digest(have):
            continue
        missing, extra = want - have, have - want
        line = f"{sum(have.values())} rows, reference {sum(want.values())}"
        if missing:
            line += f"; missing {sum(missing.values())}: {list(missing.elements())[:2]}"
        if extra:
            line += f"; extra {sum(extra.values())}: {list(extra.elements())[:2]}"
        found[name] = line
    want_probes, have_probes = probes
    for name in sorted(set(want_probes) | set(have_probes)):
        if want_probes.get(name) != have_probes.get(name):
            found[name] = f"{have_probes.get(name)!r}, reference {want_probes.get(name)!r}"
    return found


# --- The harness ---------------------------------------------------------------------------


@dataclass
class Trial:
    """One home: killed at ``points`` in a row (one point per run), then run to the end."""

    points: list[int]
    killed: int  # how many of those runs died by SIGKILL (the others finished first)
    differences: dict[str, str]  # table (or probe) -> what differs from the reference
    seconds: float

    def consistent(self, ignore: Collection[str] = ()) -> bool:
        return not set(self.differences) - set(ignore)


@dataclass
class CrashReport:
    command: list[str]
    events: int
    points: list[int]
    trials: list[Trial]
    volatile: dict[str, list[str]]
    reference_rows: dict[str, int]
    seconds: float
    cpu_seconds: float  # of the child processes: what the test costs on an idle machine
    notes: list[str] = field(default_factory=list)

    def consistent(self, ignore: Collection[str] = ()) -> bool:
        return bool(self.trials) and all(t.consistent(ignore) for t in self.trials)

    @property
    def ok(self) -> bool:
        return self.consistent()

    def summary(self, ignore: Collection[str] = ()) -> str:
        killed = sum(t.killed for t in self.trials)
        good = sum(t.consistent(ignore) for t in self.trials)
        lines = [
            f"crash test of 'ctip {' '.join(self.command)}': {self.events} events per run, "
            f"kill points {self.points} ({killed} runs died by SIGKILL) on "
            f"{len(self.trials)} homes, {good} consistent after re-running to the end"
            + (f" (not comparing {', '.join(sorted(ignore))})" if ignore else "")
            + f"; {self.seconds:.1f} s, {self.cpu_seconds:.1f} CPU-s",
        ]
        for trial in self.trials:
            for name, difference in trial.differences.items():
                if name not in ignore:
                    where = ", then ".join(map(str, trial.points))
                    lines.append(f"  killed at event {where}: {name}: {difference}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def assert_consistent(self, ignore: Collection[str] = ()) -> None:
        """Raise AssertionError naming every difference (outside the ``ignore``d tables)."""
        if not self.consistent(ignore):
            raise AssertionError(self.summary(ignore))


def kill_points(events: int, kills: int, seed: int) -> list[int]:
    """One point in each of ``kills`` equal strata of 1..events (all points if fewer)."""
    if events <= kills:
        return list(range(1, events + 1))
    if kills <= 0:
        return []
    rng = random.Random(seed)  # noqa: S311 - reproducible test points, not secrets
    bounds = [1 + (events * i) // kills for i in range(kills + 1)]
    return [rng.randrange(bounds[i], max(bounds[i] + 1, bounds[i + 1])) for i in range(kills)]


# Modules that every run imports and that need no settings: imported once in the zygote
# (``module:function`` also calls a function without arguments, to fill a cache).
PRELOAD = (
    "django.db.models",
    "django.core.management",
    "django.contrib.auth.hashers",
    "rest_framework",
    "cryptography.hazmat.primitives.ciphers.aead",
    "joserfc",
    "psycopg",
    "huey",
    "pypinyin",
    "ctip.matching.core",
    # A table the name matcher builds on first use (half a CPU-second); computed once here.
    "ctip.matching.core.hanzi:_pinyin_syllables",
)
DROP_ENV = ("CTIP_HOME", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")


def _forked(request: dict) -> None:
    """In a process just forked from the zygote: run one child, never return. A request
    with ``cli`` runs ``python -m ctip`` with its arguments instead (``run_cli``)."""
    code = 1
    cli = bool(request.get("cli"))
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = (
            os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if cli else log
        )
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(err, 2)
        # As a new interpreter's: surrogateescape on stdout, backslashreplace on stderr.
        sys.stdout = open(1, "w", buffering=1, closefd=False, errors="surrogateescape")  # noqa: SIM115 - until _exit
        sys.stderr = open(2, "w", buffering=1, closefd=False, errors="backslashreplace")  # noqa: SIM115
        if cli:
            os.environ.clear()
            os.environ.update(request["env"])
            code = _cli_child(request["argv"])
        else:
            for name in DROP_ENV:
                os.environ.pop(name, None)
            code = _child(request["argv"])
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _exit_code(exc: SystemExit) -> int:
    """The status a new interpreter exits with for an uncaught ``SystemExit``."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)  # noqa: T201 - as the interpreter does
    return 1


def _cli_child(argv: list[str]) -> int:
    """``python -m ctip *argv`` in this forked process, ended as a new interpreter would
    end it: database connections closed (SQLite checkpoints its WAL), exit handlers run."""
    import atexit

    from ctip import cli

    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    try:
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
    finally:
        atexit._run_exitfuncs()
    return code if isinstance(code, int) else 0


def _zygote() -> int:
    """Import the heavy modules once, then fork a fresh process for every request read from
    stdin (a JSON line), and report its pid, then its exit status and CPU time (wait4)."""
    import importlib
    import selectors

    for name in PRELOAD:
        module, _, function = name.partition(":")
        try:
            loaded = importlib.import_module(module)
            if function:
                getattr(loaded, function)()
        except Exception:  # noqa: S112 - a preload is only an optimisation
            continue
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    running: dict[int, str] = {}
    buffer, stdin_open = b"", True

    def say(message: dict) -> None:
        os.write(1, (json.dumps(message) + "\n").encode())

    while stdin_open or running:
        for key, _ in selector.select(timeout=1.0):
            if key.fd == wake_r:
                os.read(wake_r, 4096)
                continue
            data = os.read(0, 65536)
            if not data:
                stdin_open = False
                selector.unregister(0)
                continue
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _forked(request)
                running[pid] = request["id"]
                say({"id": request["id"], "pid": pid})
        while running:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            say(
                {
                    "id": running.pop(pid),
                    "returncode": os.waitstatus_to_exitcode(status),
                    "cpu": usage.ru_utime + usage.ru_stime,
                }
            )
    return 0


@dataclass
class _Result:
    returncode: int
    output: str
    cpu: float


class _Zygote:
    """The parent's side: one zygote process, many concurrent runs (thread-safe)."""

    def __init__(self, work: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k not in DROP_ENV}
        self.work = work
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "ctip.testing.crash", "--zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.lock = threading.Lock()
        self.waiting: dict[str, dict] = {}
        self.counter = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            message = json.loads(line)
            with self.lock:
                slot = self.waiting.get(message["id"])
            if slot is not None:
                slot.update(message)
                if "returncode" in message:
                    slot["done"].set()

    def run(self, argv: list[str], timeout: float) -> _Result:
        with self.lock:
            self.counter += 1
            rid = str(self.counter)
            slot = {"done": threading.Event()}
            self.waiting[rid] = slot
            log = self.work / f"run-{rid}.log"
            request = {"id": rid, "argv": argv, "log": str(log)}
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        if not slot["done"].wait(timeout):
            if slot.get("pid"):
                os.kill(slot["pid"], signal.SIGKILL)
            slot["done"].wait(10)
            raise CrashHarnessError(f"a run of {argv[-1]!r} took more than {timeout:.0f} s")
        output = log.read_text(errors="replace") if log.exists() else ""
        return _Result(slot["returncode"], output, slot["cpu"])

    def run_cli(self, argv: list[str], env: dict, timeout: float) -> subprocess.CompletedProcess:
        """``python -m ctip *argv`` with ``env``, forked from the zygote (a new process with
        the libraries already imported): what ``subprocess.run`` would return, with text
        output; ``subprocess.TimeoutExpired`` if it runs longer than ``timeout``."""
        with self.lock:
            self.counter += 1
            rid = str(self.counter)
            slot = {"done": threading.Event()}
            self.waiting[rid] = slot
            out, err = self.work / f"cli-{rid}.out", self.work / f"cli-{rid}.err"
            request = {
                "id": rid,
                "cli": True,
                "argv": argv,
                "env": env,
                "log": str(out),
                "stderr": str(err),
            }
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        cmd = [sys.executable, "-m", "ctip", *argv]
        if not slot["done"].wait(timeout):
            if slot.get("pid"):
                os.kill(slot["pid"], signal.SIGKILL)
            slot["done"].wait(10)
            raise subprocess.TimeoutExpired(cmd, timeout)
        encoding = locale.getpreferredencoding(False)
        texts = []
        for path in (out, err):
            texts.append(path.read_bytes().decode(encoding) if path.exists() else "")
            path.unlink(missing_ok=True)
        with self.lock:
            self.waiting.pop(rid, None)
        return subprocess.CompletedProcess(cmd, slot["returncode"], texts[0], texts[1])

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.reader.join(timeout=5)


def _child_argv(home: Path, command, *, kill_at=0, events=None, snapshot=None, opts=()):
    argv = ["--home", str(home)]
    if kill_at:
        argv += ["--kill-at", str(kill_at)]
    if events:
        argv += ["--events", str(events)]
    if snapshot:
        argv += ["--snapshot", str(snapshot)]
    return [*argv, *opts, "--", *command]


def _clean_run(zygote, template: Path, name: str, command, opts, timeout) -> tuple:
    """An uninterrupted run: (snapshot, number of events, CPU seconds)."""
    work = zygote.work
    home = work / name
    shutil.copytree(template, home)
    argv = _child_argv(
        home, command, events=work / f"{name}.events", snapshot=work / f"{name}.json", opts=opts
    )
    result = zygote.run(argv, timeout)
    if result.returncode != 0:
        raise CrashHarnessError(
            f"the uninterrupted run failed (status {result.returncode}): "
            f"{result.output.strip()[-2000:]}"
        )
    events = int((work / f"{name}.events").read_text())
    snapshot = json.loads((work / f"{name}.json").read_text())
    shutil.rmtree(home, ignore_errors=True)
    return snapshot, events, result.cpu


@dataclass(frozen=True)
class _Plan:
    template: Path
    command: list[str]
    kills: int
    seed: int
    include_completed: bool
    kills_in_a_row: int
    volatile: Mapping[str, Sequence[str]]
    opts: list[str]
    workers: int | None
    timeout: float


def _crash_runs(zygote: _Zygote, plan: _Plan):
    template, command, opts, timeout = plan.template, plan.command, plan.opts, plan.timeout
    cpu = 0.0
    with ThreadPoolExecutor(max_workers=2) as pool:
        refs = list(
            pool.map(
                lambda n: _clean_run(zygote, template, n, command, opts, timeout),
                ["ref-a", "ref-b"],
            )
        )
    (ref_a, events_a, cpu_a), (ref_b, events_b, cpu_b) = refs
    cpu += cpu_a + cpu_b
    normaliser = _Normaliser(ref_a["tables"], ref_b["tables"], plan.volatile)
    reference = normaliser.rows(ref_a["tables"])
    if ref_a["probes"] != ref_b["probes"]:
        raise CrashHarnessError(
            f"the two uninterrupted runs disagree on probes: {ref_a['probes']} vs {ref_b['probes']}"
        )
    events = min(events_a, events_b)
    last = events if plan.include_completed else events - 1
    points = kill_points(last, plan.kills, plan.seed)
    work = zygote.work

    def trial(chain: list[int]) -> tuple[Trial, float]:
        begun = time.monotonic()
        home, out = work / f"kill-{chain[0]}", work / f"kill-{chain[0]}.json"
        shutil.copytree(template, home)
        used, killed = 0.0, 0
        for point in [*chain, 0]:  # 0: the last run is not killed
            run = zygote.run(
                _child_argv(home, command, kill_at=point, snapshot=out, opts=opts), timeout
            )
            used += run.cpu
            if point and run.returncode == -signal.SIGKILL:
                killed += 1
                continue
            if run.returncode == 0:
                break  # finished (if before its kill point: its snapshot is the result)
            if killed == 0:
                raise CrashHarnessError(
                    f"the run to be killed at event {point} failed by itself "
                    f"(status {run.returncode}): {run.output.strip()[-2000:]}"
                )
            failed = f"failed (status {run.returncode}): {run.output.strip()[-800:]}"
            return Trial(chain, killed, {"re-run": failed}, time.monotonic() - begun), used
        snapshot = json.loads(out.read_text())
        got = normaliser.rows(snapshot["tables"])
        differences = _differences(reference, got, (ref_a["probes"], snapshot["probes"]))
        shutil.rmtree(home, ignore_errors=True)
        return Trial(chain, killed, differences, time.monotonic() - begun), used

    rows = -(-len(points) // plan.kills_in_a_row)  # homes: each killed kills_in_a_row times
    chains = [points[j::rows] for j in range(rows)]
    with ThreadPoolExecutor(max_workers=plan.workers or os.cpu_count() or 2) as pool:
        done = list(pool.map(trial, chains))
    cpu += sum(used for _, used in done)
    return events, points, [t for t, _ in done], normaliser, reference, cpu


def crash_test(
    *,
    template: Path,
    command: Sequence[str],
    kills: int = 20,
    seed: int = 0,
    volatile: Mapping[str, Sequence[str]] | None = None,
    probes: Sequence[str] = (),
    settings: Mapping[str, object] | None = None,
    include_completed: bool = True,
    kills_in_a_row: int = 1,
    workers: int | None = None,
    timeout: float = 120,
) -> CrashReport:
    """Crash ``ctip <command>`` at ``kills`` points spread over its run; see the module doc.

    ``include_completed``: the last event is a kill point too (the work is done and the
    process dies before it exits; the re-run then meets a finished job and must leave it as
    it is). Turn it off for a command whose second run is, by design, new work (a second
    key rotation, a second token).

    ``kills_in_a_row``: how many runs on one home are killed, one after the other (each
    re-run killed again while it recovers), before the run that may finish; the kill points
    are shared out so that each home is killed early, then later. 1 = kill once, re-run."""
    template = Path(template)
    config = json.loads((template / "node.json").read_text())
    if config.get("database_url"):
        raise CrashHarnessError("the crash harness works on SQLite homes (no database_url)")
    started = time.monotonic()
    command = list(command)
    opts = ["--settings", json.dumps(dict(settings or {}))]
    for dotted in probes:
        opts += ["--probe", dotted]
    plan = _Plan(
        template,
        command,
        kills,
        seed,
        include_completed,
        max(1, kills_in_a_row),
        volatile or {},
        opts,
        workers,
        timeout,
    )
    with tempfile.TemporaryDirectory(prefix="ctip-crash-") as folder:
        zygote = _Zygote(Path(folder))
        try:
            result = _crash_runs(zygote, plan)
        finally:
            zygote.close()
    events, points, trials, normaliser, reference, cpu = result
    report = CrashReport(
        command=command,
        events=events,
        points=points,
        trials=trials,
        volatile={k: sorted(v) for k, v in normaliser.volatile.items() if v},
        reference_rows={k: sum(v.values()) for k, v in reference.items()},
        seconds=time.monotonic() - started,
        cpu_seconds=cpu,
    )
    if len(points) < kills:
        report.notes.append(f"the command has only {events} events: each one was a kill point")
    not_killed = [p for t in trials for p in t.points[t.killed :]]
    if not_killed:
        report.notes.append(f"runs that finished before their kill point: {not_killed}")
    return report


if __name__ == "__main__":
    sys.exit(_zygote() if sys.argv[1:] == ["--zygote"] else _child(sys.argv[1:]))
