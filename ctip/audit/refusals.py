"""Security events about refused attempts outlive the transaction they were refused in.

The defect: ``permissions.require`` refuses inside a service (``@transaction.atomic``),
writes the denial's security event and raises; the exception rolls the service's
transaction back, and the event with it. A denied attempt made through a service left no
trace (docs/security.md: every denial leaves a security event).

How it is fixed, once for every service: the event is written at once, in the current
transaction (so a caller that handles the denial and commits keeps it, in chain order, with
nothing to do afterwards), and remembered until the outermost transaction ends. Each time an
``atomic`` block is left because of an exception, that block has been rolled back: every
remembered event whose row is gone (looked up by its hash, which is unique) is appended
again, right there, in the enclosing block or, after the outermost one, in a transaction of
its own. It keeps the attempt's actor, address and time. So it is written exactly once
whatever the depth: a committed row is found and not written again, and a row rolled back
with a later block (the denial handled, then the transaction failing for another reason) is
written again. The chain stays whole: a rolled-back row took its place in the chain with it
(the chain head is rolled back too), and the row written again is appended after the head
as it is now.

Why not otherwise:

* A second database connection for security events: on SQLite one connection writes at a
  time, and the service's connection holds the write lock from ``BEGIN IMMEDIATE``, so the
  second one would wait for it forever (the same thread); on PostgreSQL it would wait on the
  chain head's row lock whenever the same transaction had already appended a row. Its rows
  would also escape the tests' transactions.
* Keeping pending events and writing them where requests and commands end (middleware, the
  API's exception handler, a command wrapper): services are also called by background tasks,
  the demo loaders, the shell and tests, which pass through none of those, and every new
  entry point would have to remember to do it.
* Django has no "on rollback" hook. Leaving an ``atomic`` block is the one place that knows,
  for every caller, that a rollback just happened; so this module wraps
  ``Atomic.__exit__`` (``install``, from the audit app's ``ready``): Django's exit runs
  unchanged, then, only if events are remembered in this thread, the check above. With
  nothing remembered (nearly always) it costs one attribute lookup per block.

A block rolled back without an exception (``transaction.set_rollback(True)``: a dry run, a
test's own transaction) is a deliberate undo, and respected: nothing is written again. A
refusal made in a transaction already broken (it may run no more queries) is written after
that transaction's rollback, however it ended.
Database connections are per thread in Django, and so is what this module remembers.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from ctip.audit.models import AuditEvent
from ctip.audit.services import Entry, append_rows, client_ip

security_log = logging.getLogger("ctip.security")


@dataclass
class Refusal:
    actor_id: int | None
    actor_username: str
    entry: Entry
    ip: str
    at: datetime
    hash: str = ""  # of the row that holds it now; "" while none does


class _Remembered(threading.local):
    def __init__(self) -> None:
        self.refusals: list[Refusal] = []
        self.settling = False
        #: For each open ``atomic`` block, how many refusals were remembered when it was
        #: entered: its rollback can only have taken those recorded since (checking every
        #: remembered one at every exit was quadratic in a long transaction, such as a test
        #: that makes thousands of refused requests).
        self.entered: list[int] = []


_remembered = _Remembered()


def record(*, actor, entry: Entry, request=None) -> AuditEvent | None:
    """Write a refused attempt's security event so that it survives the rollback of the
    transaction it is written in (see the module's docstring)."""
    actor_ok = actor is not None and getattr(actor, "is_authenticated", False)
    refusal = Refusal(
        actor_id=actor.pk if actor_ok else None,
        actor_username=actor.get_username() if actor_ok else "",
        entry=entry,
        ip=client_ip(request),
        at=timezone.now(),
    )
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return _write(refusal)  # committed at once: nothing to remember
    # A transaction already broken (an error it must roll back for) takes no more queries:
    # the row is written after its rollback.
    event = None if connection.needs_rollback else _write(refusal)
    _remembered.refusals.append(refusal)
    return event


def _write(refusal: Refusal) -> AuditEvent:
    event = append_rows(
        actor_id=refusal.actor_id,
        actor_username=refusal.actor_username,
        entries=[refusal.entry],
        ip=refusal.ip,
        at=refusal.at,
    )[0]
    refusal.hash = event.hash
    return event


def _gone(refusal: Refusal) -> bool:
    return not AuditEvent.objects.filter(hash=refusal.hash).exists()


def _write_again_if_gone(refusal: Refusal, *, rolled_back: bool) -> None:
    try:
        # A refusal made in a broken transaction has no row yet: it gets one at the first
        # chance, however that transaction ended.
        if not refusal.hash or (rolled_back and _gone(refusal)):
            _write(refusal)
    except Exception:
        # Never hide the exception being raised; say what was lost (no personal data).
        security_log.exception(
            "security event not written again after a rollback: %s on %s by user %s",
            (refusal.entry.details or {}).get("event"),
            refusal.entry.object_type,
            refusal.actor_id,
        )


def after_atomic_exit(using: str | None, *, rolled_back: bool, since: int = 0) -> None:
    """Called when an ``atomic`` block was left: after a rollback caused by an exception,
    write again what went with it (the refusals remembered ``since`` the block was
    entered); once outside every transaction, forget."""
    if not _remembered.refusals or _remembered.settling:
        return
    if (using or DEFAULT_DB_ALIAS) != DEFAULT_DB_ALIAS:
        return  # the audit log lives in the default database
    connection = connections[DEFAULT_DB_ALIAS]
    _remembered.settling = True  # our own writes leave atomic blocks too
    try:
        # A block without a savepoint only marks its transaction for rollback: the
        # enclosing block rolls back, and this runs again when it is left.
        if not connection.needs_rollback:
            for refusal in _remembered.refusals[since:]:
                _write_again_if_gone(refusal, rolled_back=rolled_back)
    finally:
        _remembered.settling = False
        if not connection.in_atomic_block:
            _remembered.refusals.clear()


def install() -> None:
    """Wrap Django's ``Atomic.__exit__`` (once) so that ``after_atomic_exit`` runs when a
    block is left; Django's own exit runs first and unchanged."""
    from django.db.transaction import Atomic

    if getattr(Atomic.__exit__, "ctip_refusals", False):
        return
    django_enter = Atomic.__enter__
    django_exit = Atomic.__exit__

    @functools.wraps(django_enter)
    def __enter__(self):
        django_enter(self)
        _remembered.entered.append(len(_remembered.refusals))

    @functools.wraps(django_exit)
    def __exit__(self, exc_type, exc_value, traceback):
        rolled_back = exc_type is not None
        since = _remembered.entered.pop() if _remembered.entered else 0
        try:
            return django_exit(self, exc_type, exc_value, traceback)
        except BaseException:
            rolled_back = True  # the commit failed: Django rolled back
            raise
        finally:
            after_atomic_exit(self.using, rolled_back=rolled_back, since=since)

    __exit__.ctip_refusals = True  # type: ignore[attr-defined]
    Atomic.__enter__ = __enter__  # type: ignore[method-assign]
    Atomic.__exit__ = __exit__  # type: ignore[method-assign]
