"""Expired match handles are purged (DP-7): a handle links a peer's query to one of our
persons and resolves for ``CTIP_MATCH_HANDLE_DAYS``; after that it is deleted by a daily
task (or ``ctip match purge-handles``), audited as one event with the count and no
personal data. A request about a purged handle is refused like any unknown handle."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from ctip.audit.models import AuditEvent
from ctip.cases import services
from ctip.cases.models import Person
from ctip.cases.services import PersonInput, person_create
from ctip.exchange.models import OutboxMessage
from ctip.matching import xborder
from ctip.matching.models import IdentityRequest, MatchHandle, MatchQuery, QueryDirection
from ctip.matching.tasks import purge_expired_handles
from ctip.matching.tests.test_xborder import consent
from ctip.testing.peers import pin_offline_peer, received_from_peer

pytestmark = pytest.mark.django_db


@pytest.fixture
def handles(caseworker_a):
    """Three handles KH gave CN for Sokha (who agreed to nationality verification with CN):
    one expired a minute ago, one expiring in a minute, one fresh."""
    peer = pin_offline_peer("CN")
    person = person_create(
        user=caseworker_a,
        data=PersonInput(name_km="សុខា ចាន់", name_latin="CHAN SOKHA", sex="female", birth_year=2001),
    )
    case = services.case_open(user=caseworker_a, person=person, track="cross_border")
    consent(case, caseworker_a)
    query = MatchQuery.objects.create(
        direction=QueryDirection.IN, peer="CN", query_id="q" + secrets.token_hex(8), key_id="k1"
    )
    now = timezone.now()
    ages = {
        "expired": xborder.HANDLE_LIFETIME + dt.timedelta(minutes=1),
        "last_minute": xborder.HANDLE_LIFETIME - dt.timedelta(minutes=1),
        "fresh": dt.timedelta(hours=1),
    }
    made = {
        name: MatchHandle.objects.create(
            handle=secrets.token_urlsafe(18),
            query=query,
            person=person,
            score=0.9,
            created_at=now - age,
        )
        for name, age in ages.items()
    }
    return peer, person, query, made


def purge_events():
    return AuditEvent.objects.filter(action="delete", object_type="matching.matchhandle")


def test_purge_deletes_only_expired_handles_and_audits_the_count(handles):
    _, person, query, made = handles
    assert xborder.handles_purge() == 1
    left = set(MatchHandle.objects.values_list("handle", flat=True))
    assert left == {made["last_minute"].handle, made["fresh"].handle}
    # Only the handle goes: the person and the received query (counts only) stay.
    assert Person.objects.filter(pk=person.pk).exists()
    assert MatchQuery.objects.filter(pk=query.pk).exists()
    (event,) = purge_events()
    assert event.actor_id is None and event.details["deleted"] == 1
    assert set(event.details) == {"deleted", "issued_before"}
    text = json.dumps(event.details, ensure_ascii=False) + event.object_id
    for value in (made["expired"].handle, str(person.pk), "SOKHA", "សុខា"):
        assert value not in text
    # Again: nothing left to delete, still one row saying so (the purge ran).
    assert xborder.handles_purge() == 0
    assert [e.details["deleted"] for e in purge_events().order_by("seq")] == [1, 0]


def test_purge_at_a_later_time_takes_what_has_expired_since(handles):
    _, _, _, made = handles
    later = timezone.now() + dt.timedelta(minutes=2)
    assert xborder.handles_purge(now=later) == 2
    assert list(MatchHandle.objects.values_list("handle", flat=True)) == [made["fresh"].handle]


def test_a_request_about_a_purged_handle_is_refused_as_unknown(handles):
    peer, _, _, made = handles
    gone = made["expired"].handle

    def ask(handle: str) -> IdentityRequest:
        body = {
            "request_id": secrets.token_urlsafe(18),
            "handle": handle,
            "purpose": "nationality_verification",
            "asking_ref": "CN-C-ABCD1234",
            "officer": {"name": "Officer Canary", "agency": "cn-police"},
        }
        message = received_from_peer(
            peer, xborder.IDENTITY_REQUEST_TYPE, body, purpose="nationality_verification"
        )
        xborder.handle_identity_request(message)
        return IdentityRequest.objects.get(direction="in", request_id=body["request_id"])

    before = ask(gone)  # still stored: refused as expired
    assert (before.refused, before.reason) == ("expired", "expired")
    xborder.handles_purge()
    after = ask(gone)
    assert (after.outcome, after.refused, after.reason) == (
        "refused",
        "unknown_handle",
        "unknown_handle",
    )
    assert after.person is None and after.query is None  # nothing links it to anyone now
    refusals = [
        json.loads(m.body)
        for m in OutboxMessage.objects.filter(msg_type=xborder.IDENTITY_REFUSAL_TYPE).order_by(
            "seq"
        )
    ]
    assert refusals[-1] == {"request_id": after.request_id, "refused": "unknown_handle"}
    assert not OutboxMessage.objects.filter(msg_type=xborder.IDENTITY_TYPE).exists()
    assert AuditEvent.objects.filter(
        object_id=str(after.pk), details__event="match_identity_unknown_handle"
    ).exists()
    # A handle that has not expired still resolves (the consent covers it).
    assert ask(made["fresh"].handle).outcome == "disclosed"


def test_daily_task_and_command(handles):
    check = purge_expired_handles.task_class().validate_datetime
    at = [dt.datetime(2026, 1, 5, h, m, tzinfo=dt.UTC) for h, m in ((3, 15), (12, 0), (3, 16))]
    assert [check(t) for t in at] == [True, False, False]
    assert purge_expired_handles.call_local() == 1
    out = StringIO()
    call_command("match", "purge-handles", stdout=out)
    assert out.getvalue().strip() == "Deleted 0 expired match handles"
    assert MatchHandle.objects.count() == 2
    assert purge_events().count() == 2
