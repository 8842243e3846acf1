"""In real Chromium: the police focal officer opens the demo law-enforcement case, records a
suspect through the form, and reads the held meeting's minutes in both languages
(screenshots under test-artifacts/); a caseworker of the same node is told "not found"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctip.core.tests.test_browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from ctip.testing.nodes import start_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CTIP_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (install Debian's chromium package)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def kh_node(tmp_path_factory):
    node = start_node(tmp_path_factory.mktemp("enforcement-browser"), "KH")
    yield node
    node.stop()


def test_police_record_a_suspect_and_read_the_minutes(browser, kh_node):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    failed = []
    context.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page = context.new_page()
    sign_in(page, kh_node, "kh_police_focal")

    page.goto(f"{kh_node.url}/enforcement/")
    page.click("text=LE-KH-")
    page.wait_for_url("**/enforcement/cases/**")
    case_url = page.url
    assert "SOM Rith (demo suspect)" in page.locator("#suspects + table").inner_text()
    page.click("text=Add a suspect")
    page.fill("#id_name", "KEO Dara (browser suspect)")
    page.select_option("#id_role", "transporter")
    page.fill("#id_nationality", "KH")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(case_url)
    assert "KEO Dara (browser suspect)" in page.locator("#suspects + table").inner_text()
    page.screenshot(path=str(ARTIFACTS / "enforcement-case.png"), full_page=True)

    page.click("#meetings + ul >> text=Case investigation meeting")
    page.wait_for_url("**/enforcement/meetings/**")
    assert page.locator("[data-status=held]").count() == 1
    assert "ការផ្លាស់ប្តូរព័ត៌មាន" in page.locator("section[lang=km]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "enforcement-meeting.png"), full_page=True)
    assert failed == []
    context.close()

    # A caseworker of the same node never reaches the case, nor the area.
    other = browser.new_context()
    social = other.new_page()
    sign_in(social, kh_node, "kh_caseworker")
    assert social.goto(case_url).status == 404
    assert social.goto(f"{kh_node.url}/enforcement/").status == 404
    assert "KEO Dara" not in social.content()
    other.close()
