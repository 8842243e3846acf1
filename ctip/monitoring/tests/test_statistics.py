"""Migration statistics: computed from the records, entered, imported from CSV (line and
column errors), sent through the exchange after disclosure control, received (idempotent,
revisions, refusals); the HTCDS export's k-anonymity."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ctip.audit.models import AuditEvent
from ctip.exchange import registry
from ctip.exchange.core import (
    HandlerRefused,
    SchemaInvalid,
)
from ctip.exchange.models import OutboxMessage
from ctip.monitoring import htcds, services, sync
from ctip.monitoring.importing import ImportError_, statistics_import
from ctip.monitoring.models import MonthlyStatistics, StatisticsSource
from ctip.testing.peers import pin_offline_peer

pytestmark = pytest.mark.django_db


@pytest.fixture
def cn_peer(db):
    return pin_offline_peer("CN")


def receive(body: dict, sender: str = "CN") -> None:
    entry = registry.message_type(sync.STATISTICS_TYPE, sync.SCHEMA_VERSION)
    registry.validate_body(entry, body)
    entry.handler(
        registry.IncomingMessage(
            msg_id=str(uuid.uuid4()),
            sender=sender,
            msg_type=sync.STATISTICS_TYPE,
            schema_version=1,
            body=body,
            case_ref=None,
            purpose=None,
            in_reply_to=None,
            signer_kid="test",
            sent_at=timezone.now(),
            transport="http",
        )
    )


def this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


def test_computed_figures_send_only_protected_numbers(victims, me_officer, cn_peer):
    data = services.computed_input(this_month())
    assert data.victims["forced_marriage"] == {"female": 7}
    assert data.victims["forced_criminality"] == {"male": 5}
    row = services.statistics_record(
        user=me_officer,
        data=services.StatisticsInput(
            month=data.month,
            border_crossings=1200,
            deportations=4,
            returns=data.returns,
            victims=data.victims,
        ),
        source=StatisticsSource.COMPUTED,
    )
    assert row.victims["total"] == 12  # stored as counted
    services.statistics_send(user=me_officer, row=row)
    (message,) = OutboxMessage.objects.filter(msg_type=sync.STATISTICS_TYPE)
    body = json.loads(message.body)
    assert body["border_crossings"] == 1200 and body["deportations"] is None  # 4 < 10
    table = body["victims"]
    # 7 and 5 are small: withheld, and so are what would give them back.
    flat = [v for line in table["cells"] for v in line] + table["row_totals"] + table["col_totals"]
    assert 7 not in flat and 5 not in flat
    assert all(v is None or v == 0 or v >= 10 for v in flat)
    assert table["total"] == 12
    assert AuditEvent.objects.filter(
        action="export", object_type="monitoring.monthlystatistics"
    ).exists()


def test_received_figures_are_kept_once_and_revised():
    body = {
        "country": "CN",
        "month": "2026-03",
        "revision": 1,
        "threshold": 10,
        "border_crossings": 5400,
        "deportations": 120,
        "returns": None,
        "victims": None,
    }
    receive(body)
    receive(body)  # a repeated delivery changes nothing
    row = MonthlyStatistics.objects.get(country="CN", month=dt.date(2026, 3, 1))
    assert row.source == "received" and row.received_from == "CN" and row.deportations == 120
    receive({**body, "revision": 2, "deportations": 130})
    row.refresh_from_db()
    assert row.revision == 2 and row.deportations == 130
    receive({**body, "revision": 1, "deportations": 50})  # an older one is ignored
    row.refresh_from_db()
    assert row.deportations == 130


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"country": "KH"}, HandlerRefused),  # not the sender's own country
        ({"deportations": 3}, HandlerRefused),  # a small count shown
        ({"names": ["x"]}, SchemaInvalid),  # nothing outside the allow-list
        ({"month": "2026-13"}, SchemaInvalid),
    ],
)
def test_bad_statistics_are_refused(change, error):
    body = {
        "country": "CN",
        "month": "2026-03",
        "revision": 1,
        "threshold": 10,
        "border_crossings": None,
        "deportations": None,
        "returns": None,
        "victims": None,
        **change,
    }
    with pytest.raises(error):
        receive(body)
    assert not MonthlyStatistics.objects.exists()


CSV_OK = (
    b"month,border_crossings,deportations,returns,victims_forced_labour_female,victims_forced_labour_male\n"
    b"2026-01,1500,40,12,3,11\n"
    b"2026-02,1620,,9,,\n"
)


def test_csv_import_all_or_nothing(me_officer):
    assert len(statistics_import(user=me_officer, data=CSV_OK, dry_run=True)) == 2
    assert not MonthlyStatistics.objects.exists()
    statistics_import(user=me_officer, data=CSV_OK)
    jan = MonthlyStatistics.objects.get(month=dt.date(2026, 1, 1))
    assert jan.source == "imported" and jan.border_crossings == 1500
    assert jan.victims["cells"][0][:2] == [3, 11] and jan.victims["total"] == 14
    feb = MonthlyStatistics.objects.get(month=dt.date(2026, 2, 1))
    assert feb.deportations is None and feb.victims == {}


def test_csv_errors_name_line_and_column(me_officer):
    bad = b"month,border_crossings,returns,colour\n"
    with pytest.raises(ImportError_) as caught:
        statistics_import(user=me_officer, data=bad)
    assert caught.value.problems == ["line 1, column colour: unknown column"]
    bad = b"month,border_crossings,returns\n2026-01,12,3\n2026-1x,SECRET-CANARY,-2\n2026-01,1,1\n"
    with pytest.raises(ImportError_) as caught:
        statistics_import(user=me_officer, data=bad)
    problems = caught.value.problems
    assert "line 3, column month: give the month as YYYY-MM" in problems
    assert "line 3, column border_crossings: not a whole number of 0 or more" in problems
    assert "line 3, column returns: not a whole number of 0 or more" in problems
    assert "line 4, column month: this month is already on line 2" in problems
    assert not any("SECRET-CANARY" in p for p in problems)
    assert not MonthlyStatistics.objects.exists()
    with pytest.raises(ImportError_, match="only this node"):
        statistics_import(user=me_officer, data=b"month,country\n2026-01,CN\n")
    with pytest.raises(ImportError_, match="UTF-8"):
        statistics_import(user=me_officer, data="month\n2026-01\n".encode("utf-16"))


# --- HTCDS export -------------------------------------------------------------------------


def test_htcds_export_is_k_anonymous_and_reports(victims):
    text, report = htcds.export(k=3)
    lines = text.splitlines()
    assert lines[0].split(",") == list(htcds.COLUMNS)
    rows = [dict(zip(htcds.COLUMNS, line.split(","), strict=True)) for line in lines[1:]]
    groups = Counter(tuple(r[q] for q in htcds.QUASI_IDENTIFIERS) for r in rows)
    assert all(n >= 3 for n in groups.values())
    # Women 21-23 (3) and Cambodian men (3) stay; the rest is too rare even generalised.
    assert report.records == 12 and report.written == 6 and report.left_out == 6
    assert {r["prs_Gender"] for r in rows} == {"Feminine", "Masculine"}
    assert {r["vic_TypeOfExploitation"] for r in rows} == {"ForcedMarriage", "Other"}
    assert all(r["hte_Type"] == "Exploitation" for r in rows)
    assert "TEST PERSON" not in text and "KH-P-" not in text and "KH-S-" not in text
    text10, report10 = htcds.export()
    assert report10.k == 10 and report10.written == 0 and text10.count("\n") == 1


def test_sealed_records_are_never_exported(victims, supervisor_a):
    from ctip.cases import services as cases

    person = victims[0][0]
    cases.person_set_sealed(user=supervisor_a, person=person, sealed=True, reason="child witness")
    _text, report = htcds.export(k=1)
    assert report.records == 11 and report.sealed_left_out == 1 and report.written == 11


QI = {
    "prs_Gender": ["Feminine", "Masculine"],
    "vic_AgeWhenTrafficked": ["18-20", "21-23", ""],
    "prs_Citizenship": ["KH", "CN"],
    "hte_Country": ["KH", "CN", "TH"],
    "vic_TypeOfExploitation": ["ForcedLabour", "ForcedMarriage", "Other"],
    "hte_Date": ["2025", "2026"],
}


@hsettings(max_examples=60, deadline=None)
@given(
    st.lists(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in QI.items()}), max_size=300),
    st.integers(2, 12),
)
def test_k_anonymity_holds_on_any_records(rows, k):
    safe, generalised, left_out = htcds.k_anonymise(rows, k)
    groups = Counter(tuple(r[q] for q in htcds.QUASI_IDENTIFIERS) for r in safe)
    assert all(n >= k for n in groups.values())
    assert len(safe) + left_out == len(rows)
