"""In real Chromium (Debian's package, driven by Playwright): sign in with two factors and
switch between the three languages, with Khmer and Chinese rendered by the served fonts."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from django_otp.oath import totp

from ctip.testing.nodes import start_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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
    node = start_node(tmp_path_factory.mktemp("browser"), "KH")
    yield node
    node.stop()


def current_code(secret: str) -> str:
    padded = secret + "=" * (-len(secret) % 8)
    return f"{totp(base64.b32decode(padded)):06d}"


def sign_in(page, node, username: str):
    creds = node.credentials[username]
    page.goto(f"{node.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", creds["password"])
    page.click("form.stack button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/accounts/verify/" in page.url:  # roles that see personal data: a TOTP code too
        page.fill("#id_token", current_code(creds["totp_secret"]))
        page.click("form.stack button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/verify/" not in url)


def font_loaded(page, family: str, sample: str) -> bool:
    """True when a served @font-face of ``family`` covering ``sample`` has loaded
    (``document.fonts.check`` alone is true when no such face is declared at all)."""
    return page.evaluate(
        """async ([family, sample]) => {
            const faces = await document.fonts.load(`16px "${family}"`, sample);
            return faces.some(f => f.family.replace(/"/g, "") === family && f.status === "loaded");
        }""",
        [family, sample],
    )


def switch_language(page, code: str):
    with page.expect_navigation():
        page.select_option("#lang-select", code)


def test_sign_in_and_switch_between_three_languages(browser, kh_node):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests_outside, failed = [], []
    page.on(
        "request",
        lambda r: requests_outside.append(r.url) if not r.url.startswith(kh_node.url) else None,
    )
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    sign_in(page, kh_node, "kh_caseworker")
    assert page.locator("h1").inner_text().startswith("Welcome")
    assert page.locator("html").get_attribute("lang") == "en"

    switch_language(page, "km")
    assert page.locator("html").get_attribute("lang") == "km"
    nav = page.locator("nav.side").inner_text()
    assert any("\u1780" <= ch <= "\u17ff" for ch in nav), nav  # Khmer script in the menu
    assert font_loaded(page, "Noto Sans Khmer", "ក")
    page.screenshot(path=str(ARTIFACTS / "home-km.png"), full_page=True)

    switch_language(page, "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    nav = page.locator("nav.side").inner_text()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in nav), nav
    assert font_loaded(page, "Noto Sans SC", "人")
    page.screenshot(path=str(ARTIFACTS / "home-zh-hans.png"), full_page=True)

    switch_language(page, "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Persons and cases" in page.locator("nav.side").inner_text()
    assert requests_outside == []  # nothing from a CDN or anywhere else
    assert failed == []  # every stylesheet, script and font was served
    assert page.evaluate("typeof htmx") == "object"  # the vendored htmx loaded


def test_person_list_shows_names_in_three_scripts(browser, kh_node):
    page = browser.new_page()
    # Another user: a code works once, and the first test may have used this window's code.
    sign_in(page, kh_node, "kh_supervisor")
    page.goto(f"{kh_node.url}/persons/")
    text = page.locator("#person-rows").inner_text()
    assert "CHAN SOKHA" in text and "សុខា ចាន់" in text
    page.screenshot(path=str(ARTIFACTS / "persons-en.png"), full_page=True)
