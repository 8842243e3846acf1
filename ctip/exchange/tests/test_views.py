"""The exchange pages and API: the node administrator runs the link, the data protection
officer reviews it read-only, nobody else sees it; no page shows a message body."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client

from ctip.audit.models import AuditEvent
from ctip.exchange import selectors, services
from ctip.exchange.core import fingerprint
from ctip.exchange.models import OutboxMessage

pytestmark = pytest.mark.django_db
SECRET_NONCE = "5ec7e75ec7e75ec7"


@pytest.fixture
def traffic(cn_peer, fake_cn):
    services.message_send(
        actor=None, to="CN", msg_type="ping", body={"nonce": SECRET_NONCE}, enqueue=False
    )
    services.outbox_relay(peer=cn_peer)
    fake_cn.refuse_with = "schema_invalid"
    services.message_send(
        actor=None,
        to="CN",
        msg_type="ping",
        body={"nonce": "0000111122223333"},
        case_ref="KH-C-0042",
        enqueue=False,
    )
    services.outbox_relay(peer=cn_peer)
    services.envelope_receive(token=b"garbage", transport="http")
    return cn_peer


def denied(client, url, user, method="get"):
    before = AuditEvent.objects.filter(details__event="access_denied", actor_id=user.pk).count()
    response = getattr(client, method)(url)
    assert response.status_code == 404
    after = AuditEvent.objects.filter(details__event="access_denied", actor_id=user.pk).count()
    assert after == before + 1


def test_node_admin_sees_the_link(traffic, client_of, node_admin, kh_keys, cn_keys):
    page = client_of(node_admin).get("/exchange/").content.decode()
    assert fingerprint(kh_keys.public()) in page
    assert fingerprint(cn_keys.public()) in page
    assert "schema_invalid" in page and "KH-C-0042" in page
    assert "malformed" in page  # the refused garbage, from the audit log
    assert "Check the link (ping)" in page and "Retry waiting messages now" in page
    assert SECRET_NONCE not in page  # metadata only, never a body


def test_dpo_reviews_read_only(traffic, client_of, dpo):
    client = client_of(dpo)
    page = client.get("/exchange/").content.decode()
    assert "schema_invalid" in page and "Retry waiting messages now" not in page
    denied(client, "/exchange/peers/CN/retry", dpo, "post")
    denied(client, "/exchange/peers/CN/ping", dpo, "post")


@pytest.mark.parametrize("persona", ["caseworker_a", "cn_focal", "me_officer", "supervisor_a"])
@pytest.mark.parametrize(
    "url", ["/exchange/", "/exchange/outbox/", "/exchange/received/", "/exchange/refused/"]
)
def test_others_cannot_see_it(traffic, client_of, request, persona, url):
    user = request.getfixturevalue(persona)
    denied(client_of(user), url, user)


def test_anonymous_is_sent_to_sign_in(traffic):
    response = Client().get("/exchange/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_second_factor_is_required_although_the_prefix_is_open(traffic, node_admin):
    client = Client()
    client.force_login(node_admin)  # password only, no second factor yet
    response = client.get("/exchange/")
    assert response.status_code == 302 and "/accounts/verify/" in response["Location"]
    response = client.post("/exchange/peers/CN/retry")
    assert response.status_code == 302 and "/accounts/verify/" in response["Location"]
    assert OutboxMessage.objects.filter(status="sent").count() == 0


def test_retry_now(traffic, client_of, node_admin, fake_cn):
    fake_cn.stop()
    services.message_send(
        actor=None, to="CN", msg_type="ping", body={"nonce": "9999888877776666"}, enqueue=False
    )
    services.outbox_relay(peer=traffic)
    response = client_of(node_admin).post("/exchange/peers/CN/retry", follow=True)
    assert "1 waiting messages for CN will be sent now." in response.content.decode()
    event = AuditEvent.objects.get(details__retry_now=1)
    assert event.actor_username == "node_admin"


def test_ping_from_the_page(traffic, client_of, node_admin, fake_cn):
    fake_cn.refuse_with = None
    response = client_of(node_admin).post("/exchange/peers/CN/ping", follow=True)
    assert "CN answered with a signed receipt in" in response.content.decode()
    fake_cn.stop()
    response = client_of(node_admin).post("/exchange/peers/CN/ping", follow=True)
    assert "Ping to CN failed: link: cannot reach" in response.content.decode()


def test_unknown_peer_in_a_url_is_a_logged_404(traffic, client_of, node_admin):
    denied(client_of(node_admin), "/exchange/peers/ZZ/retry", node_admin, "post")


def test_outbox_page_filters_and_serves_its_fragment(traffic, client_of, node_admin):
    client = client_of(node_admin)
    page = client.get("/exchange/outbox/?status=failed").content.decode()
    assert "schema_invalid" in page and "KH-C-0042" in page
    fragment = client.get("/exchange/outbox/?status=acknowledged", HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert "<html" not in text and "schema_invalid" not in text and "ping" in text


def test_list_queries_do_not_grow_with_rows(cn_peer, client_of, node_admin, fake_cn):
    client = client_of(node_admin)

    def queries_for(n):
        for i in range(n):
            services.message_send(
                actor=None, to="CN", msg_type="ping", body={"nonce": f"{i:016x}"}, enqueue=False
            )
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/exchange/outbox/").status_code == 200
        with CaptureQueriesContext(connection) as ctx2:
            assert client.get("/exchange/").status_code == 200
        return len(ctx), len(ctx2)

    assert queries_for(2) == queries_for(20)


def test_inbox_page(cn_peer, client_of, node_admin, cn_keys, kh_keys):
    from .conftest import from_cn

    services.envelope_receive(token=from_cn(cn_keys, kh_keys, seq=9), transport="http")
    page = client_of(node_admin).get("/exchange/received/").content.decode()
    assert "ping" in page and ">9<" in page and "network" in page


# --- API ----------------------------------------------------------------------------------------


def test_api_outbox_and_peers(traffic, client_of, node_admin, dpo, caseworker_a):
    body = client_of(node_admin).get("/api/v1/exchange/outbox?status=failed").json()
    (row,) = body["results"]
    assert (row["status"], row["reason"], row["case_ref"]) == (
        "failed",
        "schema_invalid",
        "KH-C-0042",
    )
    assert "body" not in row and "token" not in row
    peers = client_of(dpo).get("/api/v1/exchange/peers").json()
    assert peers[0]["node_id"] == "CN" and peers[0]["counts"]["failed"] == 1
    response = client_of(caseworker_a).get("/api/v1/exchange/outbox")
    assert response.status_code == 404
    assert Client().get("/api/v1/exchange/peers").status_code in (401, 403)
    bad = client_of(node_admin).get("/api/v1/exchange/outbox?status=nope")
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]


def test_api_inbox(cn_peer, client_of, node_admin, cn_keys, kh_keys):
    from .conftest import from_cn

    services.envelope_receive(token=from_cn(cn_keys, kh_keys, seq=3), transport="http")
    body = client_of(node_admin).get("/api/v1/exchange/inbox?peer=CN").json()
    assert [r["seq"] for r in body["results"]] == [3]


# --- the case page's message history ------------------------------------------------------------


def test_case_message_history(traffic, cn_keys, kh_keys, caseworker_a):
    from .conftest import from_cn

    services.envelope_receive(
        token=from_cn(cn_keys, kh_keys, case_ref="KH-C-0042", purpose="repatriation"),
        transport="http",
    )
    rows = selectors.case_message_history(user=caseworker_a, case_ref="KH-C-0042")
    assert sorted((r.direction, r.status, r.peer) for r in rows) == [
        ("in", "received", "CN"),
        ("out", "failed", "CN"),
    ]
    html = render_to_string("exchange/_case_history.html", {"rows": rows})
    assert "schema_invalid" in html and "repatriation" in html
    assert selectors.case_message_history(user=caseworker_a, case_ref="") == []
