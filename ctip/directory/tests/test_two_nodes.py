"""Sync between two real node processes (KH and CN), through the exchange over HTTP: each
node's published directory reaches the other; changes and withdrawals follow; nothing
unpublished crosses; a copy cannot be changed where it is held."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from ctip.testing.nodes import ctip, node_env, start_node

pytestmark = [pytest.mark.slow]


def run(node, *args: str) -> str:
    return ctip(*args, "--home", str(node.home), env=node_env()).stdout


def call(node, path: str, token: str | None = None, method: str = "GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{node.url}{path}", data=data, method=method)  # noqa: S310
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
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


def public(node, **params) -> dict:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    status, body = call(node, f"/api/v1/directory/public?{query}")
    assert status == 200
    return body


def names(body: dict) -> set[str]:
    return {e["name_en"] for e in body["focal_persons"] + body["services"]}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("directory-sync")
    kh = start_node(base, "KH")
    try:
        cn = start_node(base, "CN")
    except Exception:
        kh.stop()
        raise
    try:
        peer(kh, cn)
        peer(cn, kh)
        yield kh, cn
    finally:
        kh.stop()
        cn.stop()


def test_each_nodes_directory_reaches_the_other(nodes):
    kh, cn = nodes
    # Each node's demo directory was loaded before the nodes were peered: the operators send
    # what they have once, then every change follows on its own.
    assert "Queued" in run(kh, "directory_sync")
    assert "Queued" in run(cn, "directory_sync")
    relay(kh, cn)

    on_cn = public(cn, country="KH")
    assert {"SOK Dara (demo)", "LIM Sophea (demo)", "Phnom Penh Transit Shelter (demo)"} <= (
        names(on_cn)
    )
    consul = next(p for p in on_cn["focal_persons"] if p["name_en"] == "SOK Dara (demo)")
    assert consul["name_zh_hans"] == "索·达拉" and consul["wechat"] == "kh_consular_bj"
    assert consul["agency_zh_hans"] == "柬埔寨王国驻华大使馆"
    on_kh = public(kh, country="CN")
    assert {"LIU Yang (demo)", "Guangxi Relief Station women's unit (demo)"} <= names(on_kh)
    # Both directories on each node.
    assert names(public(cn, country="CN")) & names(public(kh, country="CN"))

    cn_token = run(cn, "token", "--username", "cn_node_admin").strip()
    status, held = call(cn, "/api/v1/directory/services?country=KH&limit=100", cn_token)
    assert status == 200
    held_names = {s["name_en"] for s in held["results"]}
    assert "Reintegration grants (demo, being registered)" not in held_names  # unpublished
    shelter = next(s for s in held["results"] if s["name_en"].startswith("Phnom Penh Transit"))
    assert shelter["places_available"] == 11 and shelter["address"] == ""  # never sent
    status, people = call(cn, "/api/v1/directory/focal-persons?q=ratha", cn_token)
    assert people["results"] == []  # the unpublished focal person stayed in Cambodia

    # A copy is changed only where it belongs.
    status, answer = call(
        cn, f"/api/v1/directory/services/{shelter['id']}", cn_token, "PATCH", {"hours": "x"}
    )
    assert status == 400 and "changed there" in json.dumps(answer)


def test_changes_and_withdrawals_follow(nodes):
    kh, cn = nodes
    kh_token = run(kh, "token", "--username", "kh_node_admin").strip()
    status, found = call(kh, "/api/v1/directory/services?q=transit+shelter", kh_token)
    shelter = found["results"][0]
    status, changed = call(
        kh,
        f"/api/v1/directory/services/{shelter['id']}",
        kh_token,
        "PATCH",
        {"places_available": 2},
    )
    assert status == 200
    status, people = call(kh, "/api/v1/directory/focal-persons?q=sophea", kh_token)
    sophea = people["results"][0]
    status, _ = call(
        kh,
        f"/api/v1/directory/focal-persons/{sophea['id']}",
        kh_token,
        "PATCH",
        {"published": False},
    )
    assert status == 200
    relay(kh)

    cn_token = run(cn, "token", "--username", "cn_node_admin").strip()
    status, copy = call(cn, f"/api/v1/directory/services/{shelter['id']}", cn_token)
    assert copy["places_available"] == 2 and copy["version"] == changed["version"]
    assert "LIM Sophea (demo)" not in names(public(cn, country="KH"))
    status, copy = call(cn, f"/api/v1/directory/focal-persons/{sophea['id']}", cn_token)
    assert status == 200 and copy["published"] is False

    # Sending everything again changes nothing on the other side.
    assert "Queued" in run(kh, "directory_sync")
    relay(kh)
    status, again = call(cn, f"/api/v1/directory/services/{shelter['id']}", cn_token)
    assert again["version"] == changed["version"] and again["places_available"] == 2
