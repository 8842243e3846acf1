"""In real Chromium: the cost-sharing statements of the Kunming workshop, Cambodia's copy in
English and Khmer, China's in English and Chinese, rendered with the served fonts."""

from __future__ import annotations

import os

import pytest

from ctip.core.tests.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    sign_in,
)
from ctip.testing.nodes import ctip, node_env, start_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def fonts_cover(page, family: str, lang: str) -> bool:
    """Load every face of ``family`` that the page's ``lang`` text needs (the fonts are
    split by unicode-range), in both weights, and say whether all of that text is drawn
    with it. ``document.fonts.check`` alone answers true when no face of the family is
    declared at all, so the loaded faces are counted too."""
    return page.evaluate(
        """async ([family, lang]) => {
            const text = [...document.querySelectorAll(`[lang="${lang}"]`)]
                .map(e => e.textContent).join("");
            const loaded = [];
            for (const weight of ["400", "700"]) {
                loaded.push(...await document.fonts.load(`${weight} 16px "${family}"`, text));
            }
            await document.fonts.ready;
            return text.length > 0 && loaded.length > 0
                && loaded.every(face => face.status === "loaded")
                && document.fonts.check(`16px "${family}"`, text)
                && document.fonts.check(`700 16px "${family}"`, text);
        }""",
        [family, lang],
    )


def served(page, url: str) -> bool:
    return page.request.get(url).status == 200


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CTIP_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (install Debian's chromium package)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    running = start_node(tmp_path_factory.mktemp("finance-browser"), "KH")
    try:
        result = ctip("finance_demo", "--home", str(running.home), env=node_env())
        assert "loaded" in result.stdout, result.stdout + result.stderr
        yield running
    finally:
        running.stop()


def test_statements_in_khmer_and_in_chinese(chromium, node):
    ARTIFACTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    outside = []
    page.on("request", lambda r: None if r.url.startswith(node.url) else outside.append(r.url))
    broken = []
    page.on("response", lambda r: broken.append(r.url) if r.status >= 400 else None)
    sign_in(page, node, "kh_supervisor")
    assert served(page, f"{node.url}/static/vendor/fonts/fonts.css")
    page.goto(f"{node.url}/finance/")
    page.get_by_role(
        "link", name="Annual review workshop of the Joint Plan of Action (demo)"
    ).click()
    page.wait_for_url("**/finance/meetings/**")
    meeting_url = page.url

    # Cambodia's copy: English and Khmer.
    page.locator("#statement-links li").first.get_by_role(
        "link", name="printable statement"
    ).click()
    page.wait_for_url("**/statement/KH/")
    heading = page.locator("h1").inner_text()
    assert "Cost-sharing statement" in heading and "របាយការណ៍ចែករំលែកការចំណាយ" in heading
    khmer = page.locator('table.lines [lang="km"]').all_inner_texts()
    assert "ការធ្វើដំណើរអន្តរជាតិ" in khmer  # international travel
    assert page.locator("table.lines").inner_text().count("FN-1") == 1
    assert fonts_cover(page, "Noto Sans Khmer", "km")
    # The Khmer words are drawn with the Khmer font, not a fallback box.
    family = page.locator('h1 [lang="km"]').evaluate("e => getComputedStyle(e).fontFamily")
    assert family.startswith('"Noto Sans Khmer"')
    page.screenshot(path=str(ARTIFACTS / "finance-statement-km.png"), full_page=True)

    # China's copy: English and Chinese, with the donor that paid the interpreters.
    page.goto(meeting_url)
    page.locator("#statement-links li").nth(1).get_by_role(
        "link", name="printable statement"
    ).click()
    page.wait_for_url("**/statement/CN/")
    heading = page.locator("h1").inner_text()
    assert "费用分摊表" in heading and "របាយការណ៍" not in page.content()
    text = page.locator("body").inner_text()
    assert "国际移民组织（演示）" in text and "由外部支持承担" in text  # covered by the donor
    assert "东道方" in text  # the host Party
    assert fonts_cover(page, "Noto Sans SC", "zh-hans")
    family = page.locator('h1 [lang="zh-hans"]').evaluate("e => getComputedStyle(e).fontFamily")
    assert family.startswith('"Noto Sans SC"')
    page.screenshot(path=str(ARTIFACTS / "finance-statement-zh-hans.png"), full_page=True)
    assert outside == []  # fonts and styles are served by the node itself
    assert broken == []  # no stylesheet, font or script is missing
