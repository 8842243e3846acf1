"""In real Chromium: a training manager registers a participant for the joint training,
records attendance and scores, issues the certificate and prints it (PDF and a screenshot
of the print view under test-artifacts/); then anyone checks it on the public page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ctip.core.tests.test_browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from ctip.testing.nodes import ctip, start_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
JOINT = "Joint training on the common victim identification form and SOPs"


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
    node = start_node(tmp_path_factory.mktemp("training-browser"), "KH")
    ctip("training_demo", "--home", str(node.home))
    yield node
    node.stop()


def test_register_a_participant_and_print_the_certificate(browser, kh_node):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    failed = []  # every stylesheet, script, font and page must load
    context.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page = context.new_page()
    sign_in(page, kh_node, "kh_supervisor")

    page.goto(f"{kh_node.url}/training/")
    page.click(f"text={JOINT}")
    page.click("text=Register a participant")
    page.fill("#id_full_name", "Chan Bopha")
    page.fill("#id_username", "kh_caseworker_ngo")
    page.fill("#id_position", "Legal aid lawyer")
    page.fill("#id_pre_score", "55")
    page.fill("#id_post_score", "84")
    page.click("#participant-form button[type=submit]")
    page.wait_for_url("**/training/participants/**")
    assert page.locator("h1").inner_text() == "Chan Bopha"
    participant_url = page.url

    # Present at every session of the training.
    page.click(f"table.facts >> text={JOINT}")
    sessions = page.locator("a:text('Attendance')")
    links = [sessions.nth(i).get_attribute("href") for i in range(sessions.count())]
    assert len(links) == 3
    for href in links:
        page.goto(f"{kh_node.url}{href}")
        page.locator("label", has_text="Chan Bopha").locator("input").check()
        page.click("form.stack button[type=submit]")
        page.wait_for_selector("text=Attendance saved")

    page.goto(participant_url)
    page.click("#issue-certificate")
    page.wait_for_url("**/training/certificates/**")
    assert page.locator(".holder").inner_text() == "Chan Bopha"
    code = page.locator(".code").inner_text()
    assert len(code) == 23 and code.count("-") == 3
    verify_url = page.locator(".verify .url").inner_text()

    # The print view: the toolbar disappears, one A4 landscape page.
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()
    page.screenshot(path=str(ARTIFACTS / "training-certificate-print.png"), full_page=True)
    assert failed == []
    pdf = page.pdf(path=str(ARTIFACTS / "training-certificate.pdf"), prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1  # one page
    width, height = map(float, re.search(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups())
    assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
    context.close()

    # Anyone, not signed in, checks the code printed on it.
    public = browser.new_context()
    check = public.new_page()
    public.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    check.goto(verify_url)
    result = check.locator("#verify-result").inner_text()
    assert "This certificate is valid." in result and "Chan Bopha" in result
    assert JOINT in result and "Legal aid lawyer" not in result
    check.screenshot(path=str(ARTIFACTS / "training-certificate-verify.png"), full_page=True)
    assert failed == []
    public.close()
