"""In real Chromium: the M&E officer's dashboard in Khmer, its charts drawn and Khmer text
rendered by the served Khmer font. The screenshot goes to test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctip.core.tests.test_browser import (  # noqa: F401 - the shared browser fixture
    browser,
    current_code,
    font_loaded,
    switch_language,
)
from ctip.testing.nodes import start_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


def sign_in_me(page, node, username: str = "kh_me_officer") -> None:
    """Password, then the TOTP code if the node asks for one (the M&E officer sees no
    personal data, so two-factor sign-in is the node's choice for this role)."""
    creds = node.credentials[username]
    page.goto(f"{node.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", creds["password"])
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")
    if "/accounts/verify/" in page.url:
        page.fill("#id_token", current_code(creds["totp_secret"]))
        with page.expect_navigation():
            page.click("form.stack button[type=submit]")
    assert "/accounts/login/" not in page.url


@pytest.fixture(scope="module")
def kh_node(tmp_path_factory):
    node = start_node(tmp_path_factory.mktemp("monitoring-browser"), "KH")
    yield node
    node.stop()


def test_dashboard_in_khmer(browser, kh_node):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside, failed = [], []
    page.on(
        "request", lambda r: outside.append(r.url) if not r.url.startswith(kh_node.url) else None
    )
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    sign_in_me(page, kh_node)
    switch_language(page, "km")
    page.goto(f"{kh_node.url}/monitoring/")
    assert page.locator("html").get_attribute("lang") == "km"
    titles = page.locator("section.panel h2").all_inner_texts()
    assert titles[0].startswith("ជនរងគ្រោះដែលត្រូវបានកំណត់អត្តសញ្ញាណ")
    assert all(any("\u1780" <= ch <= "\u17ff" for ch in t) for t in titles), titles
    assert page.locator("svg.me-chart").count() == len(titles)
    assert page.locator("svg.me-chart rect.seg").count() > 0  # the demo's victims drawn
    assert page.locator("section.panel table").count() == len(titles)
    assert font_loaded(page, "Noto Sans Khmer", "ក")
    page.screenshot(path=str(ARTIFACTS / "monitoring-dashboard-km.png"), full_page=True)
    assert outside == [] and failed == []
