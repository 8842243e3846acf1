"""In real Chromium: the plan timeline, and a progress report with its Khmer text rendered
by the served Khmer font. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctip.core.tests.test_browser import sign_in
from ctip.testing.nodes import ctip, node_env, start_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CTIP_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (install Debian's chromium package)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def kh_node(tmp_path_factory):
    node = start_node(tmp_path_factory.mktemp("plan-browser"), "KH")
    # The plan's demo (the lead wires it into `ctip demo`; here it is loaded directly).
    ctip(
        "shell",
        "--home",
        str(node.home),
        "-c",
        "from ctip.plan.demo import load_demo; load_demo('KH')",
        env=node_env(),
    )
    yield node
    node.stop()


def test_timeline_and_a_progress_report_in_khmer(browser, kh_node):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    outside = []
    page.on(
        "request", lambda r: outside.append(r.url) if not r.url.startswith(kh_node.url) else None
    )
    # The M&E officer (the NCCT secretariat) signs in and starts on the plan's dashboard.
    sign_in(page, kh_node, "kh_me_officer")
    assert page.url == f"{kh_node.url}/plan/"

    page.goto(f"{kh_node.url}/plan/timeline/")
    chart = page.locator("svg#timeline")
    assert chart.is_visible()
    assert page.locator("svg#timeline rect.bar").count() > 20
    titles = page.locator("svg#timeline rect.bar title").all_text_contents()
    assert any(t.startswith("III.4 · 2017 · Cambodia: In progress") for t in titles)
    assert any("uncertain in the draft" in t for t in titles)
    page.screenshot(path=str(ARTIFACTS / "plan-timeline-en.png"), full_page=True)

    # Filtered to one area and one country, in Khmer.
    with page.expect_navigation():
        page.select_option("#lang-select", "km")
    page.goto(f"{kh_node.url}/plan/timeline/?area=III&country=KH")
    labels = page.locator("svg#timeline text").all_text_contents()
    assert any("\u1780" <= ch <= "\u17ff" for ch in "".join(labels))  # Khmer activity texts
    assert page.locator("svg#timeline rect.bar").count() >= 4
    page.screenshot(path=str(ARTIFACTS / "plan-timeline-km.png"), full_page=True)

    # The demo's progress report: English and Khmer, printable.
    page.goto(f"{kh_node.url}/plan/reports/")
    page.locator("#report-list a").first.click()
    page.wait_for_selector("#report-status")
    khmer = page.locator('#report-status [lang="km"]').all_inner_texts()
    assert any("ស្ថានទូតកម្ពុជា" in t for t in khmer)
    loaded = page.evaluate(
        """async () => {
            await document.fonts.ready;
            await document.fonts.load('16px "Noto Sans Khmer"', 'ក');
            return document.fonts.check('16px "Noto Sans Khmer"', 'ក');
        }"""
    )
    assert loaded
    page.screenshot(path=str(ARTIFACTS / "plan-report-km.png"))  # the first page
    assert outside == []
