"""Law-enforcement cooperation between two real node processes (KH and CN), through the
exchange over HTTP: the taskforce rosters reach each other; a case-information request goes
from Cambodia's police focal officer to China's, is answered, and the answer comes back
with signed receipts both ways; a meeting with minutes and action items recorded in
Cambodia is held in China's copy; both nodes show the indicators."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest

from ctip.testing.nodes import ctip, node_env, start_node

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


def peer(node, other) -> None:
    fingerprint = run(other, "exchange", "fingerprint").split()[1]
    run(node, "peer", "add", "--url", other.url, "--fingerprint", fingerprint)


def relay(*nodes) -> None:
    for node in nodes:
        run(node, "exchange", "relay", "--wait", "20")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("enforcement")
    kh = start_node(base, "KH")
    try:
        cn = start_node(base, "CN")
    except Exception:
        kh.stop()
        raise
    try:
        peer(kh, cn)
        peer(cn, kh)
        # The demo data was loaded before peering: the operators send the directory (the
        # taskforce members are directory focal persons), then the taskforce.
        for node in (kh, cn):
            run(node, "directory_sync")
        relay(kh, cn)
        for node in (kh, cn):
            assert "Queued" in run(node, "enforcement_sync")
        relay(kh, cn)
        tokens = {
            "kh": run(kh, "token", "--username", "kh_police_focal").strip(),
            "cn": run(cn, "token", "--username", "cn_police_focal").strip(),
        }
        yield kh, cn, tokens
    finally:
        kh.stop()
        cn.stop()


def test_a_request_and_its_answer_travel_with_receipts(nodes):
    kh, cn, tokens = nodes
    status, roster = call(kh, "/api/v1/enforcement/taskforce", tokens["kh"])
    assert status == 200
    counterpart = next(m for m in roster["results"] if m["country"] == "CN")
    assert counterpart["name"] == "WANG Li (demo)" and counterpart["languages"]
    status, cases = call(kh, "/api/v1/enforcement/cases", tokens["kh"])
    le_case = cases["results"][0]
    url = f"/api/v1/enforcement/cases/{le_case['id']}/requests"
    deadline = (dt.datetime.now(tz=dt.UTC).date() + dt.timedelta(days=30)).isoformat()
    ask = {
        "counterpart": counterpart["id"],
        "asked": "Bank accounts and phone numbers used by the broker (demo).",
        "deadline": deadline,
        "urgency": "urgent",
    }
    # Bad input is refused, and nothing is sent.
    status, error = call(kh, url, tokens["kh"], "POST", ask)
    assert status == 400 and "legal_basis" in error["error"]["fields"]
    own = next(m for m in roster["results"] if m["country"] == "KH")
    status, error = call(
        kh, url, tokens["kh"], "POST", {**ask, "legal_basis": "interpol", "counterpart": own["id"]}
    )
    assert status == 400 and "Unknown counterpart" in error["error"]["fields"]["counterpart"][0]

    status, sent = call(
        kh, url, tokens["kh"], "POST", {**ask, "legal_basis": "bilateral_agreement"}
    )
    assert status == 201 and sent["status"] == "sent" and sent["direction"] == "outgoing"
    relay(kh)
    status, sent = call(kh, f"/api/v1/enforcement/requests/{sent['id']}", tokens["kh"])
    assert sent["delivery"]["has_receipt"] and sent["delivery"]["acknowledged_at"]
    # Cambodia cannot answer its own request: it never received it.
    status, error = call(
        kh,
        f"/api/v1/enforcement/requests/{sent['id']}/answer",
        tokens["kh"],
        "POST",
        {"outcome": "provided", "answer": "x"},
    )
    assert status == 400 and "not received" in json.dumps(error)

    status, received = call(cn, f"/api/v1/enforcement/requests/{sent['id']}", tokens["cn"])
    assert status == 200 and received["direction"] == "incoming"
    assert received["status"] == "received" and received["sender_reference"] == le_case["reference"]
    assert received["asked"].startswith("Bank accounts") and received["legal_basis"] == (
        "bilateral_agreement"
    )
    assert received["counterpart"] == counterpart["id"]
    status, answered = call(
        cn,
        f"/api/v1/enforcement/requests/{sent['id']}/answer",
        tokens["cn"],
        "POST",
        {"outcome": "partial", "answer": "Two accounts at a bank in Kunming (demo)."},
    )
    assert status == 200 and answered["status"] == "answered"
    relay(cn)
    status, answered = call(cn, f"/api/v1/enforcement/requests/{sent['id']}", tokens["cn"])
    assert answered["answer_delivery"]["has_receipt"]

    status, done = call(kh, f"/api/v1/enforcement/requests/{sent['id']}", tokens["kh"])
    assert done["status"] == "answered" and done["outcome"] == "partial"
    assert done["answer"] == "Two accounts at a bank in Kunming (demo)."
    assert [e["kind"] for e in done["history"]] == ["sent", "answer_received"]

    status, kh_values = call(kh, "/api/v1/enforcement/indicators", tokens["kh"])
    assert kh_values["requests_sent"] == 1 and kh_values["requests_answered"] == 1
    assert kh_values["median_days_to_answer"] is not None
    status, cn_values = call(cn, "/api/v1/enforcement/indicators", tokens["cn"])
    assert cn_values["requests_received"] == 1 and cn_values["requests_received_answered"] == 1
    assert cn_values["focal_officers_active"] >= 1


def test_a_meeting_with_minutes_and_action_items_reaches_the_other_node(nodes):
    kh, cn, tokens = nodes
    status, roster = call(kh, "/api/v1/enforcement/taskforce", tokens["kh"])
    members = {
        "KH": next(m for m in roster["results"] if m["name"] == "CHEA Vannak (demo)"),
        "CN": next(m for m in roster["results"] if m["name"] == "WANG Li (demo)"),
    }
    today = dt.datetime.now(tz=dt.UTC).date()
    status, meeting = call(
        kh,
        "/api/v1/enforcement/meetings",
        tokens["kh"],
        "POST",
        {
            "title": "Case investigation meeting in Kunming (two-node test)",
            "host_country": "CN",
            "place": "Kunming",
            "starts_on": (today - dt.timedelta(days=1)).isoformat(),
            "ends_on": today.isoformat(),
            "second_language": "zh-hans",
            "agenda": "1. The answer received. 2. Next steps.",
            "case_references": ["LE-CN-2026-0001"],
        },
    )
    assert status == 201
    path = f"/api/v1/enforcement/meetings/{meeting['id']}"
    for country in ("KH", "CN"):
        status, meeting = call(
            kh, f"{path}/participants", tokens["kh"], "POST", {"member": members[country]["id"]}
        )
        assert status == 200
    status, meeting = call(
        kh,
        f"{path}/minutes",
        tokens["kh"],
        "POST",
        {
            "minutes_en": "Both sides reviewed the answer and agreed a joint operation.",
            "minutes_second": "双方审议了答复，并商定了联合行动。",
            "decisions": ["Prepare a joint operation"],
        },
    )
    assert status == 200 and meeting["status"] == "held"
    status, meeting = call(
        kh,
        f"{path}/action-items",
        tokens["kh"],
        "POST",
        {
            "text": "Share the operation plan",
            "owner": members["CN"]["id"],
            "due_on": (today + dt.timedelta(days=14)).isoformat(),
        },
    )
    assert status == 200
    relay(kh)

    status, copy = call(cn, path, tokens["cn"])
    assert status == 200 and copy["origin"] == "KH" and copy["status"] == "held"
    assert copy["version"] == meeting["version"]
    assert copy["minutes_second"] == "双方审议了答复，并商定了联合行动。"
    assert copy["decisions"] == ["Prepare a joint operation"]
    assert {p["country"] for p in copy["participants"]} == {"KH", "CN"}
    [item] = copy["action_items"]
    assert item["owner"] == members["CN"]["id"] and item["owner_name"] == "WANG Li (demo)"
    status, values = call(cn, "/api/v1/enforcement/indicators", tokens["cn"])
    # China's own demo meeting, Cambodia's (sent by enforcement_sync) and this one.
    assert values["meetings_held"] == 3
