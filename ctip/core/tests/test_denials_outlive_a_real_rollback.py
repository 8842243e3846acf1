"""The production case of test_denials_outlive_rollback: no test transaction around the
service, so its block is the outermost transaction, rolled back for real; the denial is
written after it, in a transaction of its own (SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from ctip.accounts.permissions import NotFound
from ctip.audit import refusals
from ctip.audit.models import Action, AuditEvent
from ctip.audit.services import audit_verify
from ctip.cases.models import Person
from ctip.cases.services import PersonInput, person_create
from ctip.finance import services as finance
from ctip.finance.models import Meeting
from ctip.testing import personas

APPEND_ONLY = [
    "ctip.audit.migrations.0002_append_only_triggers",
    "ctip.exchange.migrations.0002_log_append_only",
]


@pytest.fixture
def flushable_logs(django_db_setup, django_db_blocker):
    """A test outside a test transaction ends by emptying every table (pytest-django's
    flush), which the append-only triggers of the audit and message logs refuse: drop them
    for the test and put them back after the flush (this fixture is set up before
    ``transactional_db``, so it is torn down after it)."""
    modules = [importlib.import_module(name) for name in APPEND_ONLY]
    vendor = {"sqlite": "SQLITE", "postgresql": "POSTGRES"}[connection.vendor]

    def run(suffix: str) -> None:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            for module in modules:
                for sql in getattr(module, vendor + suffix):
                    cursor.execute(sql)

    run("_DROP")
    yield
    run("")


def test_denials_are_committed_after_the_services_rollback(flushable_logs, transactional_db):
    agency = personas.agency("kh-agency-a")
    me_officer = personas.make_user("me_officer", agency, "me_officer").user
    caseworker = personas.make_user("caseworker_a", agency, "caseworker").user
    assert not connection.in_atomic_block  # nothing around the services but themselves
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    with pytest.raises(NotFound):
        person_create(user=me_officer, data=PersonInput(name_latin="X", sex="female"))
    with pytest.raises(NotFound):
        finance.meeting_from_source(user=me_officer, source_type="training", source_id="t-1")
    allowed = person_create(user=caseworker, data=PersonInput(name_latin="Y", sex="female"))
    rows = list(
        AuditEvent.objects.filter(seq__gt=before)
        .order_by("seq")
        .values_list("actor_id", "action", "object_type", "object_id", "details")
    )
    assert rows == [
        (
            me_officer.pk,
            Action.SECURITY,
            "person",
            "",
            {"event": "access_denied", "action": "create"},
        ),
        (
            me_officer.pk,
            Action.SECURITY,
            "training",
            "t-1",
            {"event": "access_denied", "action": "view"},
        ),
        (
            me_officer.pk,
            Action.SECURITY,
            "finance",
            "t-1",
            {"event": "access_denied", "action": "create"},
        ),
        (caseworker.pk, Action.CREATE, "cases.person", str(allowed.pk), {}),
    ]
    assert refusals._remembered.refusals == []  # forgotten with the outermost transaction
    assert list(Person.objects.values_list("pk", flat=True)) == [allowed.pk]
    assert not Meeting.objects.exists()
    assert audit_verify().ok
