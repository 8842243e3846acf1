"""Repatriation between two real node processes (KH and CN) over HTTP, through the REST API
of each node: a case carried from identification on one node to closure on the other, in
both directions, with an overdue step (reminded), an out-of-order message refused by the
receiver, and a consent withdrawal that stops the flow on both nodes.

The nodes run with immediate background tasks, so a step is delivered (and its receipt
verified) before the API call that sent it answers."""

from __future__ import annotations

import json
import os
import sqlite3
import urllib.error
import urllib.request

import pytest

from ctip.testing.nodes import ctip, node_env, peer_nodes, start_node

pytestmark = [pytest.mark.slow]


def run(node, *args: str) -> str:
    return ctip(*args, "--home", str(node.home), env=node_env()).stdout


class Api:
    def __init__(self, node, username: str):
        self.node = node
        self.token = run(node, "token", "--username", username).strip()

    def __call__(self, path: str, body=None, method: str | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback test node
            f"{self.node.url}/api/v1/{path}",
            data=data,
            method=method or ("POST" if data else "GET"),
        )
        request.add_header("Accept", "application/json")
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("repatriation")
    before = os.environ.get("CTIP_TASKS_IMMEDIATE")
    os.environ["CTIP_TASKS_IMMEDIATE"] = "1"  # the children inherit it (node_env)
    started = []
    try:
        started.append(start_node(base, "KH"))
        started.append(start_node(base, "CN"))
        peer_nodes(*started)
        yield tuple(started)
    finally:
        for node in started:
            node.stop()
        if before is None:
            os.environ.pop("CTIP_TASKS_IMMEDIATE", None)
        else:
            os.environ["CTIP_TASKS_IMMEDIATE"] = before


STEP_DATA = {
    "verification_result": {"confirmed": True},
    "family_tracing_result": {"family_found": True, "safe_to_return": "yes"},
    "travel_document_request": {"document_kind": "emergency_travel_document"},
    "travel_document_issued": {
        "document_kind": "emergency_travel_document",
        "document_number": "ETD-77",
        "valid_until": "2027-06-30",
    },
    "plan_proposal": {
        "travel_date": "2026-12-20",
        "route": "by air",
        "border_point": "Phnom Penh International Airport",
        "medical_needs": "none",
    },
    "plan_acceptance": {"travel_date": "2026-12-20", "border_point": "Phnom Penh airport"},
    "handover_record": {"place": "Phnom Penh International Airport"},
    "reception_summary": {"services": ["family_reunion"], "follow_up_months": [3, 6, 12]},
    "follow_up_report": {"month": 3, "status": "stable"},
    "case_closure": {"reason": "reintegrated"},
}
FLOW = [
    "case_notification",
    "verification_request",
    "verification_result",
    "family_tracing_result",
    "travel_document_request",
    "travel_document_issued",
    "plan_proposal",
    "plan_acceptance",
    "handover_record",
    "handover_confirmation",
    "reception_summary",
    "follow_up_report",
    "case_closure",
]
HOST_STEPS = {
    "case_notification",
    "verification_request",
    "travel_document_request",
    "plan_proposal",
    "handover_record",
}


def open_case(api: Api, home: str, name: dict) -> dict:
    status, person = api(
        "persons",
        {
            **name,
            "sex": "female",
            "birth_year": 2000,
            "nationality": home,
            "document_number": "DOC-1",
        },
    )
    assert status == 201, person
    status, case = api("cases", {"person": person["id"], "track": "cross_border"})
    assert status == 201, case
    for purpose, categories in (
        ("nationality_verification", ["identity", "origin", "documents"]),
        ("repatriation", ["identity", "documents", "case_progress", "health"]),
    ):
        status, consent = api(
            f"cases/{case['id']}/consents",
            {
                "decision": "given",
                "purpose": purpose,
                "recipient_country": home,
                "data_categories": categories,
                "given_on": "2026-11-01",
                "how_given": "written",
                "language": "km",
            },
        )
        assert status == 201, consent
        case.setdefault("consents", {})[purpose] = consent["id"]
    return case


def send(api: Api, case_id: str, step: str, data: dict | None = None):
    return api(f"cases/{case_id}/repatriation/{step}", {"data": data or STEP_DATA.get(step, {})})


def home_case(api: Api, shared: str) -> dict:
    status, rows = api("repatriations")
    assert status == 200
    found = [r for r in rows if r["shared_ref"] == shared]
    assert found, f"{shared} did not arrive"
    return found[0]


def backdate(node, shared: str) -> None:
    """The clock moves on (the only thing mocked): the awaited step's deadline has passed."""
    with sqlite3.connect(node.home / "db.sqlite3") as db:
        db.execute(
            "UPDATE cases_repatriation SET due_at = '2000-01-01 00:00:00' WHERE shared_ref = ?",
            (shared,),
        )


def carry(host, home, host_api: Api, home_api: Api, case: dict, *, overdue_at: str = ""):
    """Every step of the flow, each from the side whose turn it is, checked on both nodes."""
    shared = case["reference"]
    home_id = None
    for step in FLOW:
        if step in HOST_STEPS:
            status, rep = send(host_api, case["id"], step)
        else:
            status, rep = send(home_api, home_id, step)
        assert status == 201, (step, rep)
        mine = home_case(home_api, shared)
        home_id = mine["case"]
        status, theirs = host_api(f"cases/{case['id']}/repatriation")
        assert mine["steps_done"] == theirs["steps_done"] and mine["steps_done"][-1] == step
        assert mine["stage"] == theirs["stage"], step
        assert mine["waiting_on"] == theirs["waiting_on"]
        if step == overdue_at:
            waiting = mine["waiting_on"]
            late_node, late_api = (home, home_api) if waiting == home.node else (host, host_api)
            late_id = home_id if late_node is home else case["id"]
            backdate(late_node, shared)
            status, board = late_api("repatriations?overdue=1")
            assert shared in [r["shared_ref"] for r in board]
            status, detail = late_api(f"cases/{late_id}/repatriation")
            assert detail["overdue"] is True and detail["waiting_on"] == late_node.node
            reminded = run(late_node, "case_reminders")
            assert f"{detail['awaited_step']} overdue" in reminded, reminded
            assert "0 reminder(s)" in run(late_node, "case_reminders")  # once only
    return home_id


def test_cn_to_kh_to_closure_with_overdue_step_and_refused_out_of_order(nodes):
    kh, cn = nodes
    cn_worker = Api(cn, "cn_caseworker")
    kh_consul = Api(kh, "kh_consular_focal")
    case = open_case(cn_worker, "KH", {"name_km": "សុខា ចាន់", "name_latin": "CANARY SOKHA"})
    shared = case["reference"]
    assert send(cn_worker, case["id"], "case_notification", {"found_in": "CN-410000"})[0] == 201
    assert send(cn_worker, case["id"], "verification_request")[0] == 201
    arrived = home_case(kh_consul, shared)
    assert arrived["side"] == "home" and arrived["waiting_on"] == "KH"
    assert arrived["focal_user"] == "kh_consular_focal"
    status, kh_case = kh_consul(f"cases/{arrived['case']}")
    assert kh_case["reference"] != shared and kh_case["owner_agency"] == "kh-embassy-beijing"
    status, person = kh_consul(f"persons/{kh_case['person']}")
    assert person["name_km"] == "សុខា ចាន់"  # the identity sent for verification
    # Another Cambodian agency does not see the embassy's case.
    assert Api(kh, "kh_caseworker")(f"cases/{arrived['case']}/repatriation")[0] == 404

    # CN sends a handover before the travel document: KH refuses it, nothing changes.
    body = json.dumps(
        {
            "shared_ref": shared,
            "handed_over_at": "2026-12-01T10:00",
            "place": "Phnom Penh airport",
            "handing_officer": {"name": "Officer"},
        }
    )
    run(
        cn,
        "exchange",
        "send",
        "--to",
        "KH",
        "--type",
        "repatriation.handover_record",
        "--body",
        body,
        "--case-ref",
        shared,
        "--purpose",
        "repatriation",
        "--now",
    )
    status, outbox = Api(cn, "cn_node_admin")("exchange/outbox?status=failed")
    refused = [m for m in outbox["results"] if m["msg_type"] == "repatriation.handover_record"]
    assert refused and refused[0]["reason"] == "out_of_order"
    assert home_case(kh_consul, shared)["steps_done"] == [
        "case_notification",
        "verification_request",
    ]

    # The rest of the flow, each side in turn, with the travel document overdue at KH.
    kh_id = arrived["case"]
    for step in FLOW[2:]:
        api, case_id = (cn_worker, case["id"]) if step in HOST_STEPS else (kh_consul, kh_id)
        status, rep = send(api, case_id, step)
        assert status == 201, (step, rep)
        if step == "travel_document_request":
            backdate(kh, shared)
            status, board = kh_consul("repatriations?overdue=1&focal=kh_consular_focal")
            assert shared in [r["shared_ref"] for r in board]
            assert all(r["overdue"] for r in board)
            assert "travel_document_issued overdue" in run(kh, "case_reminders")
            assert "0 reminder(s)" in run(kh, "case_reminders")
        mine, (_, theirs) = (
            home_case(kh_consul, shared),
            cn_worker(f"cases/{case['id']}/repatriation"),
        )
        assert mine["steps_done"] == theirs["steps_done"] and mine["stage"] == theirs["stage"]
    assert mine["stage"] == "closed" and mine["status"] == "completed"
    status, closed = cn_worker(f"cases/{case['id']}")
    assert closed["stage"] == "closed" and closed["closure_reason"] == "reintegrated"
    # Both nodes hold the same handover record (same digest of the same body).
    digest = {
        s["step"]: s["body_sha256"] for s in theirs["steps"] if s["step"] == "handover_record"
    }
    assert digest == {
        s["step"]: s["body_sha256"] for s in mine["steps"] if s["step"] == "handover_record"
    }


def test_kh_to_cn_to_closure(nodes):
    kh, cn = nodes
    kh_worker = Api(kh, "kh_caseworker")
    cn_consul = Api(cn, "cn_consular_focal")
    case = open_case(kh_worker, "CN", {"name_zh": "王芳", "name_latin": "WANG FANG"})
    home_id = carry(kh, cn, kh_worker, cn_consul, case, overdue_at="plan_proposal")
    status, cn_case = cn_consul(f"cases/{home_id}")
    assert cn_case["stage"] == "closed" and cn_case["owner_agency"] == "cn-embassy-pp"
    status, person = cn_consul(f"persons/{cn_case['person']}")
    assert person["name_zh"] == "王芳"


def test_withdrawal_stops_the_flow_on_both_nodes(nodes):
    kh, cn = nodes
    kh_worker = Api(kh, "kh_caseworker")
    cn_consul = Api(cn, "cn_consular_focal")
    case = open_case(kh_worker, "CN", {"name_zh": "李娜", "name_latin": "LI NA"})
    for step in ("case_notification", "verification_request"):
        assert send(kh_worker, case["id"], step)[0] == 201
    arrived = home_case(cn_consul, case["reference"])
    assert send(cn_consul, arrived["case"], "verification_result")[0] == 201
    # The person withdraws consent to repatriation in Cambodia.
    status, withdrawn = kh_worker(
        f"cases/{case['id']}/consents/{case['consents']['repatriation']}/withdraw",
        {"reason": "changed her mind"},
    )
    assert status == 200, withdrawn
    there = home_case(cn_consul, case["reference"])
    assert there["status"] == "stopped" and there["stop_reason"] == "consent_withdrawn"
    status, answer = send(cn_consul, arrived["case"], "family_tracing_result")
    assert status == 400 and "stopped" in json.dumps(answer)
    status, answer = send(kh_worker, case["id"], "travel_document_request")
    assert status in (400, 403) and there["steps_done"][-1] == "verification_result"
    # What CN got about the withdrawal: the shared reference and the purpose, nothing more.
    status, inbox = Api(cn, "cn_node_admin")("exchange/inbox")
    notices = [m for m in inbox["results"] if m["msg_type"] == "repatriation.consent_withdrawn"]
    assert notices and "changed her mind" not in json.dumps(inbox)
