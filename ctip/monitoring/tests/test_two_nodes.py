"""Monthly statistics between two real node processes (KH and CN), through the exchange
over HTTP: KH imports a month from CSV and sends it; CN holds it as KH's, with the small
counts withheld; CN's answer for the same month comes back; a resend after a correction
replaces the figures on the other side."""

from __future__ import annotations

import json

import pytest

from ctip.testing.nodes import ctip, node_env, peer_nodes, start_node

pytestmark = [pytest.mark.slow]


def run(node, *args: str) -> str:
    return ctip(*args, "--home", str(node.home), env=node_env()).stdout


def held(node, month: str) -> dict:
    lines = run(node, "stats", "show", "--month", month).splitlines()
    return {row["country"]: row for row in map(json.loads, lines)}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("monitoring-sync")
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


def test_statistics_round_trip_between_the_nodes(nodes, tmp_path):
    kh, cn = nodes
    csv_file = tmp_path / "kh-2025-01.csv"
    csv_file.write_text(
        "month,border_crossings,deportations,returns,"
        "victims_forced_labour_female,victims_forced_labour_male,"
        "victims_forced_criminality_female,victims_forced_criminality_male\n"
        "2025-01,14210,4,25,12,3,20,31\n",
        encoding="utf-8",
    )
    assert "1 month(s) imported" in run(
        kh, "stats", "import", str(csv_file), "--user", "kh_me_officer"
    )
    assert "Queued 1" in run(kh, "stats", "send", "--month", "2025-01", "--user", "kh_me_officer")
    run(kh, "exchange", "relay", "--wait", "20")

    on_cn = held(cn, "2025-01")["KH"]
    assert on_cn["source"] == "received" and on_cn["received_from"] == "KH"
    assert on_cn["border_crossings"] == 14210 and on_cn["returns"] == 25
    assert on_cn["deportations"] is None  # 4 is below the threshold
    victims = on_cn["victims"]
    assert victims["total"] == 66
    flat = [v for line in victims["cells"] for v in line] + victims["row_totals"]
    assert 3 not in flat  # the small cell, and a second one so the row total cannot give it
    assert victims["rows"][0] == "forced_labour" and victims["cells"][0][:2] == [None, None]
    assert all(v is None or v == 0 or v >= 10 for v in flat + victims["col_totals"])

    # China answers with its own figures for the month: side by side on both nodes.
    cn_csv = tmp_path / "cn-2025-01.csv"
    cn_csv.write_text("month,border_crossings,deportations\n2025-01,22400,515\n", encoding="utf-8")
    run(cn, "stats", "import", str(cn_csv), "--user", "cn_me_officer")
    run(cn, "stats", "send", "--month", "2025-01", "--user", "cn_me_officer")
    run(cn, "exchange", "relay", "--wait", "20")
    both = held(kh, "2025-01")
    assert both["KH"]["source"] == "imported" and both["CN"]["source"] == "received"
    assert both["CN"]["deportations"] == 515

    # A correction on KH is a new revision that replaces the figures on CN.
    csv_file.write_text("month,border_crossings\n2025-01,14300\n", encoding="utf-8")
    run(kh, "stats", "import", str(csv_file), "--user", "kh_me_officer")
    run(kh, "stats", "send", "--month", "2025-01", "--user", "kh_me_officer")
    run(kh, "exchange", "relay", "--wait", "20")
    on_cn = held(cn, "2025-01")["KH"]
    assert on_cn["revision"] == 2 and on_cn["border_crossings"] == 14300
