"""The plan between two real node processes (KH and CN), through the exchange over HTTP:
each party's endorsement reaches the other node, so a version becomes agreed on both once
both have endorsed; a progress report issued on CN arrives on KH, read-only."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date, timedelta

import pytest

from ctip.testing.nodes import ctip, node_env, peer_nodes, start_node

pytestmark = [pytest.mark.slow]


def run(node, *args: str) -> str:
    return ctip(*args, "--home", str(node.home), env=node_env()).stdout


def call(node, path: str, token: str, method: str = "GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{node.url}{path}", data=data, method=method)  # noqa: S310
    request.add_header("Accept", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("plan-sync")
    kh = start_node(base, "KH")
    try:
        cn = start_node(base, "CN")
    except Exception:
        kh.stop()
        raise
    try:
        peer_nodes(kh, cn)
        yield kh, cn
    finally:
        kh.stop()
        cn.stop()


def endorse(node, token: str, party: str) -> dict:
    status, body = call(
        node,
        "/api/v1/plan/versions/1/endorsements",
        token,
        "POST",
        {
            "party": party,
            "endorsed_by": f"Endorsing office of {party}",
            "endorsed_on": "2026-05-04",
            "meeting": "Joint meeting to finalise the Plan of Action",
        },
    )
    assert status == 201, body
    return body


def test_endorsements_and_reports_cross_between_the_nodes(nodes):
    kh, cn = nodes
    kh_token = run(kh, "token", "--username", "kh_me_officer").strip()
    cn_token = run(cn, "token", "--username", "cn_me_officer").strip()
    # The demo data leaves version 1 (the draft) endorsed by nobody, on both nodes.
    status, v1_cn = call(cn, "/api/v1/plan/versions/1", cn_token)
    assert status == 200 and v1_cn["endorsements"] == [] and not v1_cn["agreed"]

    assert endorse(kh, kh_token, "KH")["agreed"] is False
    run(kh, "exchange", "relay", "--wait", "20")
    status, v1_cn = call(cn, "/api/v1/plan/versions/1", cn_token)
    (kh_on_cn,) = v1_cn["endorsements"]
    assert kh_on_cn["party"] == "KH" and kh_on_cn["received_from"] == "KH"
    assert kh_on_cn["content_hash"] == v1_cn["content_hash"]
    assert v1_cn["agreed"] is False  # China has not endorsed yet

    assert endorse(cn, cn_token, "CN")["agreed"] is True  # agreed on CN now
    run(cn, "exchange", "relay", "--wait", "20")
    status, v1_kh = call(kh, "/api/v1/plan/versions/1", kh_token)
    assert v1_kh["agreed"] is True
    assert {e["party"]: e["received_from"] for e in v1_kh["endorsements"]} == {
        "KH": "",
        "CN": "CN",
    }

    # CN's progress report (issued by its demo data) is sent explicitly and arrives on KH.
    status, cn_reports = call(cn, "/api/v1/plan/reports", cn_token)
    report = next(r for r in cn_reports if r["country"] == "CN" and not r["received_from"])
    status, sent = call(cn, f"/api/v1/plan/reports/{report['id']}/send", cn_token, "POST", {})
    assert status == 202 and sent["sent_to"] == ["KH"]
    run(cn, "exchange", "relay", "--wait", "20")
    status, kh_reports = call(kh, "/api/v1/plan/reports", kh_token)
    held = next(r for r in kh_reports if r["id"] == report["id"])
    assert held["received_from"] == "CN" and held["received_at"]
    assert held["period_end"] == report["period_end"] and held["language"] == "zh-hans"
    # Reports cover whole calendar months (SECURITY.md #40): the demo's report as well.
    start, end = (date.fromisoformat(held[k]) for k in ("period_start", "period_end"))
    assert start.day == 1 and (end + timedelta(days=1)).day == 1
