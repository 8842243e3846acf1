"""Cross-border match queries in one process: what a query puts in the exchange outbox
(encodings only, never a name or a date), the per-user rate limit, the key agreement, and
the audit rows. The whole round trip between two node processes is in test_two_nodes."""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings

from ctip.audit.models import AuditEvent
from ctip.cases.services import PersonInput, person_create
from ctip.exchange import keystore
from ctip.exchange import services as exchange
from ctip.exchange.conf import keys_file
from ctip.exchange.core import fingerprint, generate_node_keys, public_jwks
from ctip.exchange.models import AnchorSource, OutboxMessage
from ctip.matching import xborder
from ctip.matching.models import MatchKey, MatchQuery

pytestmark = pytest.mark.django_db


@pytest.fixture
def cn_peer(db):
    if not keys_file().exists():
        keystore.create_keys(
            settings.CTIP_HOME, settings.CTIP_NODE, now=int(time.time()) - 30 * 86_400
        )
    exchange._keys_cache.clear()
    now = int(time.time())
    cn = generate_node_keys("CN", not_before=now - 60, not_after=now + 86_400).public()
    peer, _ = exchange.peer_pin(
        actor=None,
        jwks=public_jwks(cn),
        expected_fingerprint=fingerprint(cn),
        url="",
        source=AnchorSource.FILE,
    )
    return peer


@pytest.fixture
def sokha(caseworker_a):
    return person_create(
        user=caseworker_a,
        data=PersonInput(name_km="សុខា ចាន់", name_latin="CHAN SOKHA", sex="female", birth_year=2001),
    )


def test_query_holds_only_encodings_and_is_audited(cn_peer, caseworker_a, sokha):
    with pytest.raises(xborder.QueryRefused, match="no encoding key"):
        xborder.query_send(user=caseworker_a, person=sokha, to="CN")
    key = xborder.key_rotate(actor=None, peer="CN")
    sent_key = json.loads(OutboxMessage.objects.get(msg_type=xborder.KEY_TYPE).body)
    assert sent_key["key_id"] == key.key_id and MatchKey.objects.get().secret == sent_key["secret"]
    query = xborder.query_send(user=caseworker_a, person=sokha, to="CN")
    body = json.loads(OutboxMessage.objects.get(msg_type=xborder.QUERY_TYPE).body)
    assert set(body) == {"query_id", "key_id", "encoding"}
    assert set(body["encoding"]) == {"name", "birth"}
    text = json.dumps(body)
    assert "SOKHA" not in text.upper() and "2001" not in text and "សុខា" not in text
    assert query.query_id == body["query_id"]
    audit = AuditEvent.objects.filter(object_type="matching.matchquery", object_id=str(query.pk))
    assert audit.count() == 1 and audit.get().details["peer"] == "CN"


def test_user_rate_limit(cn_peer, caseworker_a, sokha, monkeypatch):
    xborder.key_rotate(actor=None, peer="CN")
    monkeypatch.setattr(xborder, "USER_DAILY_LIMIT", 2)
    for _ in range(2):
        xborder.query_send(user=caseworker_a, person=sokha, to="CN")
    with pytest.raises(xborder.QueryRefused, match="at most 2"):
        xborder.query_send(user=caseworker_a, person=sokha, to="CN")
    assert MatchQuery.objects.count() == 2
    assert AuditEvent.objects.filter(details__event="match_query_rate_limited").exists()


def test_only_people_the_user_may_see_and_roles_allowed(cn_peer, caseworker_b, me_officer, sokha):
    from ctip.accounts.permissions import NotFound

    xborder.key_rotate(actor=None, peer="CN")
    for outsider in (caseworker_b, me_officer):
        with pytest.raises(NotFound):
            xborder.query_send(user=outsider, person=sokha, to="CN")
    assert not MatchQuery.objects.exists()
