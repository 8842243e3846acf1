"""In real Chromium against two running nodes: a handover walked through both nodes' pages.
The demo's Cambodian woman found in Henan (shared reference CN-C-DE000001) waits on KH for
the plan's acceptance: the Cambodian embassy's focal person accepts it on the KH node, the
Chinese caseworker records the handover on the CN node, the embassy confirms it on the KH
node, and both nodes print the same handover record."""

from __future__ import annotations

import os

import pytest

from ctip.core.tests.test_browser import ARTIFACTS, browser, sign_in  # noqa: F401 - fixture
from ctip.testing.nodes import peer_nodes, start_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHARED = "CN-C-DE000001"


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    base = tmp_path_factory.mktemp("repatriation-browser")
    before = os.environ.get("CTIP_TASKS_IMMEDIATE")
    os.environ["CTIP_TASKS_IMMEDIATE"] = "1"  # each step delivered before the page answers
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


def open_case(page, node):
    page.goto(f"{node.url}/persons/repatriation/")
    page.click(f"#board tr:has-text('{SHARED}') a")
    page.wait_for_selector("#repatriation")


def test_handover_through_both_nodes(browser, two_nodes):  # noqa: F811 - pytest fixture
    kh, cn = two_nodes
    ARTIFACTS.mkdir(exist_ok=True)
    embassy = browser.new_context().new_page()
    sign_in(embassy, kh, "kh_consular_focal")
    open_case(embassy, kh)
    assert "Waiting on KH" in embassy.locator("#whose-turn").inner_text()
    assert "SOK Dara" in embassy.locator("#repatriation").inner_text()  # from the directory
    embassy.fill("#rp-plan_acceptance-travel_date", "2026-12-20")
    embassy.fill("#rp-plan_acceptance-border_point", "Phnom Penh International Airport")
    embassy.click("#send-plan_acceptance")
    embassy.wait_for_selector("#repatriation-steps >> text=plan_acceptance")
    assert "Waiting on CN" in embassy.locator("#whose-turn").inner_text()

    caseworker = browser.new_context().new_page()
    sign_in(caseworker, cn, "cn_caseworker")
    open_case(caseworker, cn)
    assert "plan_acceptance" in caseworker.locator("#repatriation-steps").inner_text()
    caseworker.fill("#rp-handover_record-place", "Phnom Penh International Airport")
    caseworker.click("#send-handover_record")
    caseworker.wait_for_selector("#repatriation-steps >> text=handover_record")
    assert "Handed over" in caseworker.locator("#case-stage").inner_text()

    embassy.reload()
    assert "handover_record" in embassy.locator("#repatriation-steps").inner_text()
    embassy.click("#send-handover_confirmation")
    embassy.wait_for_selector("#repatriation-steps >> text=handover_confirmation")
    embassy.screenshot(path=str(ARTIFACTS / "repatriation-kh.png"), full_page=True)

    prints = {}
    for name, page in (("kh", embassy), ("cn", caseworker)):
        page.goto(page.url)  # the case page again, with the latest steps
        page.click("#handover-print")
        page.wait_for_selector("#print-shared-ref")
        text = page.locator("article.handover").inner_text()
        assert SHARED in text and "Phnom Penh International Airport" in text
        prints[name] = {
            line.split("SHA-256", 1)[1].strip() for line in text.splitlines() if "SHA-256" in line
        }
        page.screenshot(path=str(ARTIFACTS / f"handover-record-{name}.png"), full_page=True)
    # The plan, its acceptance, the handover and its confirmation: the same bodies on both.
    assert len(prints["kh"]) == 4 and prints["kh"] == prints["cn"]
