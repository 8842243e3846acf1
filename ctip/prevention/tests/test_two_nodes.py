"""Two real node processes (KH and CN), peered through the exchange: a certificate issued on
KH verifies on CN offline with KH's pinned key; an altered code fails on both; the
revocation shows on KH at once and on CN once the revocation list entry is delivered; the
strategy drafted on KH reaches CN. The public answers carry no name or number."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from ctip.testing.nodes import ctip, node_env, start_node

pytestmark = [pytest.mark.slow]

HOLDER, NUMBER = "Canary Bopharith", "KH-SC-CANARY-555"


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
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def verify(node, code: str) -> dict:
    status, text = call(node, "/api/v1/prevention/verify?" + urllib.parse.urlencode({"code": code}))
    assert status == 200, text
    assert "Canary" not in text and "CANARY" not in text
    return json.loads(text)


def relay(*nodes) -> None:
    for node in nodes:
        run(node, "exchange", "relay", "--wait", "20")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("prevention-nodes")
    kh = start_node(base, "KH")
    try:
        cn = start_node(base, "CN")
    except Exception:
        kh.stop()
        raise
    try:
        for node, other in ((kh, cn), (cn, kh)):
            fingerprint = run(other, "exchange", "fingerprint").split()[1]
            run(node, "peer", "add", "--url", other.url, "--fingerprint", fingerprint)
        yield kh, cn
    finally:
        kh.stop()
        cn.stop()


def test_certificate_issued_on_kh_verifies_on_cn_and_revocation_follows(nodes):
    kh, cn = nodes
    token = run(kh, "token", "--username", "kh_civil_registrar").strip()
    status, text = call(
        kh,
        "/api/v1/prevention/certificates",
        token,
        "POST",
        {
            "doc_type": "marriage",
            "authority": "kh-moi-gdi",
            "number": NUMBER,
            "holder_name": HOLDER,
            "partner_name": "Wang Canaryjun",
            "issued_on": "2026-01-15",
        },
    )
    assert status == 201, text
    code = json.loads(text)["code"]

    on_cn = verify(cn, code)
    assert on_cn["result"] == "valid", on_cn
    assert on_cn["issuer"] == "KH" and on_cn["doc_type"] == "marriage"
    assert on_cn["initials"] == "C.B. & W.C." and on_cn["issued_on"] == "2026-01-15"
    assert on_cn["authority"] == "kh-moi-gdi"
    # The public page on CN says the same, and nothing more.
    status, page = call(cn, "/prevention/verify/?" + urllib.parse.urlencode({"c": code}))
    assert status == 200 and 'data-result="valid"' in page and "C.B. &amp; W.C." in page
    assert "Canary" not in page and "555" not in page

    # One character changed: not valid on either node, with the reason.
    altered = code[:30] + ("A" if code[30] != "A" else "B") + code[31:]
    for node in (kh, cn):
        answer = verify(node, altered)
        assert answer["result"] == "invalid" and answer["reason"] in (
            "bad_signature",
            "malformed",
            "unknown_key",
        )
        assert answer["message"]
    # CN's own certificate (from its demo) is not KH's: CN signed it, KH verifies it.
    cn_token = run(cn, "token", "--username", "cn_civil_registrar").strip()
    status, text = call(
        cn,
        "/api/v1/prevention/certificates",
        cn_token,
        "POST",
        {
            "doc_type": "singleness",
            "authority": "cn-mca",
            "number": "CN-1",
            "holder_name": "Li Canary",
            "issued_on": "2026-02-01",
        },
    )
    assert status == 201, text
    assert verify(kh, json.loads(text)["code"])["result"] == "valid"

    # An empty request answers with the field errors.
    status, text = call(kh, "/api/v1/prevention/certificates", token, "POST", {})
    assert status == 400 and "doc_type" in text

    # Revoked on KH: at once there, on CN once the revocation list entry arrives.
    status, listing = call(
        kh,
        "/api/v1/prevention/certificates",
        token,
        "POST",
        {
            "doc_type": "singleness",
            "authority": "kh-moi-gdi",
            "number": "KH-2",
            "holder_name": "Sok Canary",
            "issued_on": "2026-02-02",
        },
    )
    second = json.loads(listing)
    status, text = call(
        kh,
        f"/api/v1/prevention/certificates/{second['id']}/revoke",
        token,
        "POST",
        {"reason": "fraud"},
    )
    assert status == 200, text
    assert verify(kh, second["code"])["result"] == "revoked"
    relay(kh)
    on_cn = verify(cn, second["code"])
    assert on_cn["result"] == "revoked" and on_cn["reason"] == "fraud"
    assert verify(cn, code)["result"] == "valid"  # the other one is untouched


def test_strategy_drafted_on_kh_reaches_cn(nodes):
    kh, cn = nodes
    assert "Queued" in run(kh, "prevention_sync")
    relay(kh)
    held = run(
        cn,
        "shell",
        "-c",
        "from ctip.prevention.models import StrategyVersion as V; "
        "v = V.objects.get(); print(v.origin, v.status, v.sections.count(), v.document.title)",
    )
    assert "KH in_review 3 Joint preventive strategy on safe migration" in held
