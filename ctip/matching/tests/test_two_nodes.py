"""A cross-border match query between two real node processes (KH and CN), through the
exchange over HTTP: the nodes agree a key, KH asks about two of its persons, CN answers
with an opaque handle and a score for the woman it holds (索卡·占 in its police record)
and with nothing at all for someone it does not hold; no name, date or encoding is stored
or answered in the clear, and both sides audit every query."""

from __future__ import annotations

import json
import sqlite3

import pytest

from ctip.testing.nodes import ctip, node_env, start_node

pytestmark = [pytest.mark.slow]


def run(node, *args: str) -> str:
    return ctip(*args, "--home", str(node.home), env=node_env()).stdout


def relay(*nodes) -> None:
    for node in nodes:
        run(node, "exchange", "relay", "--wait", "20")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("matching-nodes")
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


def db_rows(node, sql: str) -> list[tuple]:
    with sqlite3.connect(node.home / "db.sqlite3") as conn:
        return conn.execute(sql).fetchall()


def test_query_finds_the_match_and_reveals_nothing_else(nodes):
    kh, cn = nodes
    assert "Queued key" in run(kh, "match", "key-rotate", "--to", "CN")
    relay(kh)
    assert db_rows(cn, "select count(*) from matching_matchkey")[0][0] == 1
    # Chan Sokha (her records in Cambodia), and a woman CN has never recorded.
    asked = run(
        kh, "match", "query", "--name", "CHAN SOKHA", "--to", "CN", "--username", "kh_caseworker"
    )
    sokha_refs = {line.split()[-1] for line in asked.splitlines()}
    run(kh, "match", "query", "--name", "LONG SREYMOM", "--to", "CN", "--username", "kh_caseworker")
    relay(kh)
    relay(cn)
    answers = json.loads(run(kh, "match", "answers"))
    assert len(answers) == len(sokha_refs) + 1
    assert all(a["answered"] and not a["refused"] for a in answers)
    (other,) = [a for a in answers if a["person"] not in sokha_refs]
    assert other["candidates"] == []  # nothing at all about the people who do not match
    returned = [c for a in answers if a["person"] in sokha_refs for c in a["candidates"]]
    assert returned and all(set(c) == {"handle", "score"} for c in returned)
    assert max(c["score"] for c in returned) >= 0.8
    # Handles resolve on CN only (one per answer: two answers cannot be linked by handle).
    handles = db_rows(cn, "select handle, person_id from matching_matchhandle")
    assert sorted(h for h, _ in handles) == sorted(c["handle"] for c in returned)
    # CN keeps counts only: no encodings, no names, in its query rows.
    stored = db_rows(cn, "select * from matching_matchquery")
    assert len(stored) == len(answers)
    text = json.dumps(stored, default=str)
    assert "SOKHA" not in text.upper() and "name" not in text
    # Both sides audited both queries.
    for node in (kh, cn):
        audited = db_rows(
            node, "select count(*) from audit_auditevent where object_type = 'matching.matchquery'"
        )[0][0]
        assert audited >= len(answers)
