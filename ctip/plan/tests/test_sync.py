"""The plan through the exchange, in one process: what recording an endorsement and sending
a report put in the outbox, and how a received endorsement or report is applied, ignored
(a duplicate) or refused (hash mismatch, schema violation)."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone
from docx import Document

from ctip.audit.models import AuditEvent
from ctip.exchange import registry
from ctip.exchange.core import (
    HandlerRefused,
    SchemaInvalid,
)
from ctip.exchange.models import OutboxMessage
from ctip.plan import services, sync
from ctip.plan.models import Endorsement, PlanVersion, ProgressReport
from ctip.testing.peers import pin_offline_peer

pytestmark = pytest.mark.django_db


@pytest.fixture
def v1():
    return services.plan_load().version


@pytest.fixture
def cn_peer(db):
    """This (KH) node's exchange keys, and CN pinned as its peer (no address: nothing is
    delivered, messages wait in the outbox)."""
    return pin_offline_peer("CN")


def sent(msg_type: str) -> list[dict]:
    rows = OutboxMessage.objects.filter(msg_type=msg_type).order_by("seq")
    return [json.loads(m.body) for m in rows]


def receive(msg_type: str, body: dict, sender: str = "CN") -> None:
    """As the exchange does on arrival: the schema first, then the handler."""
    entry = registry.message_type(msg_type, sync.SCHEMA_VERSION)
    registry.validate_body(entry, body)
    entry.handler(
        registry.IncomingMessage(
            msg_id=str(uuid.uuid4()),
            sender=sender,
            msg_type=msg_type,
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


def cn_endorsement(plan_version: PlanVersion, **changes) -> dict:
    return {
        "version": plan_version.number,
        "content_hash": plan_version.content_hash,
        "party": "CN",
        "endorsed_by": "Director-General, Criminal Investigation Department, MPS",
        "endorsed_on": "2026-05-04",
        "meeting": "Joint meeting to finalise the Plan of Action",
        **changes,
    }


# --- sending ------------------------------------------------------------------------------


def test_our_endorsement_is_queued_with_it_and_the_others_is_not(v1, cn_peer, me_officer):
    services.endorsement_record(
        user=me_officer,
        version=v1,
        party="KH",
        endorsed_by="Chair, NCCT",
        endorsed_on=date(2026, 5, 4),
        meeting="Joint meeting",
    )
    assert sent(sync.ENDORSEMENT_TYPE) == [
        {
            "version": 1,
            "content_hash": v1.content_hash,
            "party": "KH",
            "endorsed_by": "Chair, NCCT",
            "endorsed_on": "2026-05-04",
            "meeting": "Joint meeting",
        }
    ]
    message = OutboxMessage.objects.get(msg_type=sync.ENDORSEMENT_TYPE)
    assert message.peer.node_id == "CN" and message.created_by == me_officer
    # China's endorsement copied here from the minutes is not sent back to China.
    services.endorsement_record(
        user=me_officer,
        version=v1,
        party="CN",
        endorsed_by="MPS",
        endorsed_on=date(2026, 5, 4),
        meeting="Joint meeting",
    )
    assert len(sent(sync.ENDORSEMENT_TYPE)) == 1
    v1.refresh_from_db()
    assert v1.is_agreed


def test_a_failed_endorsement_queues_nothing(v1, cn_peer, me_officer):
    with pytest.raises(services.ValidationError):
        services.endorsement_record(
            user=me_officer,
            version=v1,
            party="KH",
            endorsed_by="Chair, NCCT",
            endorsed_on=date(2999, 1, 1),
            meeting="Joint meeting",
        )
    assert not OutboxMessage.objects.exists() and not Endorsement.objects.exists()


def test_no_peer_no_message(v1, me_officer):
    services.endorsement_record(
        user=me_officer,
        version=v1,
        party="KH",
        endorsed_by="Chair, NCCT",
        endorsed_on=date(2026, 5, 4),
        meeting="Joint meeting",
    )
    assert not OutboxMessage.objects.exists()
    report = services.report_create(
        user=me_officer, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30), language="km"
    )
    with pytest.raises(services.PlanError, match="no other node is peered"):
        services.report_send(user=me_officer, report=report)
    report.refresh_from_db()
    assert report.sent_at is None


def test_sending_a_report_from_the_page_and_the_api(
    v1, cn_peer, me_officer, caseworker_a, client_of
):
    report = services.report_create(
        user=me_officer, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30), language="km"
    )
    assert not OutboxMessage.objects.exists()  # issuing does not send

    page = client_of(me_officer)
    listing = page.get("/plan/reports/").content.decode()
    assert f"/plan/reports/{report.pk}/send/" in listing and "Send to the other node" in listing
    response = page.post(f"/plan/reports/{report.pk}/send/")
    assert response.status_code == 302
    (body,) = sent(sync.REPORT_TYPE)
    assert body == {
        "id": str(report.pk),
        "issued_at": report.created_at.isoformat(),
        "content": report.content,
    }
    report.refresh_from_db()
    assert report.sent_at is not None
    assert AuditEvent.objects.filter(
        object_id=str(report.pk), action="update", details__sent_to=["CN"]
    ).exists()

    answer = page.post(f"/api/v1/plan/reports/{report.pk}/send", {}, "application/json")
    assert answer.status_code == 202 and answer.json()["sent_to"] == ["CN"]
    assert len(sent(sync.REPORT_TYPE)) == 2  # sending again is harmless on the other side

    # The other user cannot send it (nor learn whether it exists).
    other = client_of(caseworker_a)
    assert other.post(f"/plan/reports/{report.pk}/send/").status_code in (403, 404)
    denied = other.post(f"/api/v1/plan/reports/{report.pk}/send", {}, "application/json")
    assert denied.status_code == 404
    missing = page.post(f"/api/v1/plan/reports/{uuid.uuid4()}/send", {}, "application/json")
    assert missing.status_code == 404
    assert len(sent(sync.REPORT_TYPE)) == 2


def test_a_report_over_a_month_with_two_persons_shows_withheld_on_the_peer(
    v1, cn_peer, me_officer, caseworker_a, cn_focal, client_of, settings
):
    """SECURITY.md DP-9: the count crosses the border as "<5", not as 2; the peer keeps,
    prints and downloads what was sent."""
    settings.CTIP_SDC_THRESHOLD = 5
    from ctip.cases.services import PersonInput, person_create
    from ctip.monitoring.release import month_end

    for name in ("TEST ONE", "TEST TWO"):
        person_create(user=caseworker_a, data=PersonInput(name_latin=name))
    today = timezone.localdate()
    report = services.report_create(
        user=me_officer,
        period_start=today.replace(day=1),
        period_end=month_end(today),
        language="km",
    )
    services.report_send(user=me_officer, report=report)
    (body,) = sent(sync.REPORT_TYPE)
    (item,) = [i for i in body["content"]["indicators"] if i["code"] == "III.6-persons-recorded"]
    assert item["values"]["KH"] == {
        "value": "<5",
        "source": "computed",
        "as_of": str(month_end(today)),
    }

    # On the peer (here: this node receiving it as the other country's report).
    body["content"]["country"] = "CN"
    body["id"] = str(uuid.uuid4())
    receive(sync.REPORT_TYPE, body)
    held = ProgressReport.objects.get(pk=body["id"])
    (item,) = [i for i in held.content["indicators"] if i["code"] == "III.6-persons-recorded"]
    assert item["values"]["KH"]["value"] == "<5"
    client = client_of(cn_focal)
    page = client.get(f"/plan/reports/{held.pk}/").content.decode()
    row = page.split("Persons recorded in this node")[1].split("</tr>")[0]
    assert "&lt;5" in row and ">2<" not in row and ">2 " not in row
    docx = client.get(f"/plan/reports/{held.pk}/report.docx")
    cells = [
        [cell.text for cell in row.cells]
        for table in Document(io.BytesIO(docx.content)).tables
        for row in table.rows
    ]
    (line,) = [r for r in cells if any("Persons recorded in this node" in c for c in r)]
    assert any(c.startswith("<5") for c in line) and not any(c.startswith("2") for c in line)

    # A period that is not whole months is refused on receipt as well.
    off = json.loads(json.dumps(body))
    off["id"] = str(uuid.uuid4())
    off["content"]["period"] = [
        str(today.replace(day=1)),
        str(month_end(today) - timedelta(days=2)),
    ]
    with pytest.raises(HandlerRefused, match="whole calendar months"):
        receive(sync.REPORT_TYPE, off)


def test_endorsement_api(v1, cn_peer, me_officer, caseworker_a, client_of):
    client = client_of(me_officer)
    data = {
        "party": "KH",
        "endorsed_by": "Chair, NCCT",
        "endorsed_on": "2026-05-04",
        "meeting": "Joint meeting",
    }
    response = client.post("/api/v1/plan/versions/1/endorsements", data, "application/json")
    assert response.status_code == 201
    assert response.json()["agreed"] is False and response.json()["endorsements"][0]["party"]
    assert len(sent(sync.ENDORSEMENT_TYPE)) == 1
    again = client.post("/api/v1/plan/versions/1/endorsements", data, "application/json")
    assert again.status_code == 400 and len(sent(sync.ENDORSEMENT_TYPE)) == 1
    other = client_of(caseworker_a)
    assert other.get("/api/v1/plan/versions/1").status_code == 200  # every role reads the plan
    denied = other.post(
        "/api/v1/plan/versions/1/endorsements", {**data, "party": "CN"}, "application/json"
    )
    assert denied.status_code == 404 and Endorsement.objects.count() == 1
    assert client.get("/api/v1/plan/versions/9").status_code == 404


# --- receiving ----------------------------------------------------------------------------


def test_a_received_endorsement_makes_the_version_agreed_once(v1, me_officer, client_of):
    services.endorsement_record(
        user=me_officer,
        version=v1,
        party="KH",
        endorsed_by="Chair, NCCT",
        endorsed_on=date(2026, 5, 4),
        meeting="Joint meeting",
    )
    receive(sync.ENDORSEMENT_TYPE, cn_endorsement(v1))
    v1.refresh_from_db()
    assert v1.is_agreed
    theirs = Endorsement.objects.get(party="CN")
    assert theirs.received_from == "CN" and theirs.recorded_by is None
    assert theirs.content_hash == v1.content_hash and theirs.endorsed_on == date(2026, 5, 4)
    assert AuditEvent.objects.filter(object_id=str(theirs.pk), details__from="CN").exists()
    audit_rows = AuditEvent.objects.count()

    # A duplicate delivery (even with other details) changes nothing.
    receive(sync.ENDORSEMENT_TYPE, cn_endorsement(v1, endorsed_by="Someone else"))
    assert Endorsement.objects.filter(party="CN").count() == 1
    theirs.refresh_from_db()
    assert theirs.endorsed_by.startswith("Director-General")
    assert AuditEvent.objects.count() == audit_rows

    page = client_of(me_officer).get("/plan/versions/1/").content.decode()
    assert "received from CN on" in page


def test_an_endorsement_of_other_text_is_refused(v1):
    with pytest.raises(HandlerRefused, match="content hash mismatch.*stays not agreed"):
        receive(sync.ENDORSEMENT_TYPE, cn_endorsement(v1, content_hash="0" * 64))
    with pytest.raises(HandlerRefused, match="version 7 is not held"):
        receive(sync.ENDORSEMENT_TYPE, cn_endorsement(v1, version=7))
    with pytest.raises(HandlerRefused, match="own party"):
        receive(sync.ENDORSEMENT_TYPE, cn_endorsement(v1, party="KH"))
    assert not Endorsement.objects.exists()
    v1.refresh_from_db()
    assert not v1.is_agreed


@pytest.mark.parametrize(
    "change",
    [
        {"endorser_name": "Wang Wei"},  # a field outside the allow-list
        {"content_hash": "not-a-hash"},
        {"party": "TH"},
        {"endorsed_on": "4 May 2026"},
        {"meeting": ""},
    ],
)
def test_the_endorsement_schema_is_the_allow_list(v1, change):
    with pytest.raises(SchemaInvalid):
        receive(sync.ENDORSEMENT_TYPE, cn_endorsement(v1, **change))
    assert not Endorsement.objects.exists()


def cn_report(me_officer) -> dict:
    """A report as the Chinese node would send it (built here, then sent under CN)."""
    report = services.report_create(
        user=me_officer,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 6, 30),
        language="zh-hans",
    )
    body = sync.report_body(report)
    body["content"]["country"] = "CN"
    body["id"] = str(uuid.uuid4())
    report.delete()
    return body


def test_a_received_report_is_kept_read_only(v1, me_officer, caseworker_b, client_of):
    body = cn_report(me_officer)
    receive(sync.REPORT_TYPE, body)
    held = ProgressReport.objects.get(pk=body["id"])
    assert held.received_from == "CN" and held.country == "CN" and held.received_at
    assert held.content == body["content"] and held.version == v1
    assert str(held.period_start) == "2026-01-01" and held.language == "zh-hans"
    receive(sync.REPORT_TYPE, body)  # a duplicate delivery changes nothing
    assert ProgressReport.objects.count() == 1

    # Visible on the plan pages to every role, marked received; it cannot be sent back.
    client = client_of(caseworker_b)
    listing = client.get("/plan/reports/").content.decode()
    assert "received from CN on" in listing
    assert client.get(f"/plan/reports/{held.pk}/").status_code == 200
    officer = client_of(me_officer)
    assert f"/plan/reports/{held.pk}/send/" not in officer.get("/plan/reports/").content.decode()
    with pytest.raises(services.PlanError, match="not sent back"):
        services.report_send(user=me_officer, report=held)
    rows = officer.get("/api/v1/plan/reports").json()
    assert rows[0]["received_from"] == "CN" and rows[0]["version"] == 1


def test_bad_reports_are_refused(v1, me_officer):
    body = cn_report(me_officer)
    with pytest.raises(HandlerRefused, match="own country"):
        receive(sync.REPORT_TYPE, body, sender="KH")
    ours = services.report_create(
        user=me_officer, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30), language="km"
    )
    with pytest.raises(HandlerRefused, match="not the sender's"):
        receive(sync.REPORT_TYPE, {**body, "id": str(ours.pk)})
    backwards = json.loads(json.dumps(body))
    backwards["content"]["period"] = ["2026-06-30", "2026-01-01"]
    with pytest.raises(HandlerRefused, match="period"):
        receive(sync.REPORT_TYPE, backwards)
    assert ProgressReport.objects.filter(received_from="CN").count() == 0

    # Schema: nothing outside the allow-list, at any depth.
    for change in (
        lambda b: b.update(author="Wang Wei"),
        lambda b: b["content"].update(victims=[]),
        lambda b: b["content"]["areas"][0]["activities"][0].update(caseworker="x"),
        lambda b: b["content"]["areas"][0]["activities"][0]["status"].update(TH={}),
        lambda b: b["content"].update(language="fr"),
    ):
        bad = json.loads(json.dumps(body))
        change(bad)
        with pytest.raises(SchemaInvalid):
            receive(sync.REPORT_TYPE, bad)
    assert ProgressReport.objects.filter(received_from="CN").count() == 0
