"""In real Chromium: a civil registration officer records a marriage certificate and prints
it; the test reads the QR image off the printed page, decodes it (zxing-cpp), and an
anonymous visitor opens the decoded address: valid. After revocation the same scan shows
revoked. The public leaflet of a tool package is rendered too (screenshots under
test-artifacts/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctip.core.tests.test_browser import CHROMIUM, CHROMIUM_ARGS, sign_in
from ctip.testing.nodes import start_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"

# The QR image as the browser rendered it, as grey levels (one byte a pixel).
READ_PIXELS = """(img) => {
  const scale = 4;
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth * scale;
  canvas.height = img.naturalHeight * scale;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const grey = new Array(canvas.width * canvas.height);
  for (let i = 0; i < grey.length; i++) {
    grey[i] = Math.round((rgba[4 * i] + rgba[4 * i + 1] + rgba[4 * i + 2]) / 3);
  }
  return {width: canvas.width, height: canvas.height, grey: grey};
}"""


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
    node = start_node(tmp_path_factory.mktemp("prevention-browser"), "KH")
    yield node
    node.stop()


def scan(page) -> str:
    """Decode the QR code of the page from its rendered image."""
    import numpy as np
    import zxingcpp

    image = page.locator("#qr")
    image.scroll_into_view_if_needed()
    pixels = image.evaluate(READ_PIXELS)
    grey = np.array(pixels["grey"], dtype=np.uint8).reshape(pixels["height"], pixels["width"])
    found = zxingcpp.read_barcodes(grey)
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


def test_print_scan_and_verify_a_marriage_certificate(browser, kh_node):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    failed = []
    context.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page = context.new_page()
    sign_in(page, kh_node, "kh_civil_registrar")  # password and TOTP code

    page.goto(f"{kh_node.url}/prevention/certificates/new/")
    page.select_option("#id_doc_type", "marriage")
    page.fill("#id_number", "KH-MC-2026-0042")
    page.fill("#id_holder_name", "Srey Canarypich")
    page.fill("#id_partner_name", "Chen Canaryhao")
    page.click("#certificate-form button[type=submit]")
    page.wait_for_url("**/prevention/certificates/*/")
    assert page.locator(".holder").inner_text() == "Srey Canarypich"
    print_url = page.url
    page.screenshot(path=str(ARTIFACTS / "prevention-certificate.png"), full_page=True)

    address = scan(page)
    code = page.locator(".code").inner_text().strip()
    assert address.startswith(kh_node.url) and address.endswith(f"?c={code}")

    visitor = browser.new_context().new_page()  # anyone, not signed in
    visitor.goto(address)
    result = visitor.locator("#verify-result")
    assert result.get_attribute("data-result") == "valid"
    text = result.inner_text()
    assert "S.C. & C.C." in text and "Marriage certificate" in text
    assert "Canary" not in visitor.content() and "0042" not in visitor.content()
    visitor.screenshot(path=str(ARTIFACTS / "prevention-verify-valid.png"), full_page=True)

    page.goto(print_url)
    page.select_option("#revoke-form select", "fraud")
    page.click("#revoke-form button[type=submit]")
    page.wait_for_selector(".revoked-flag")
    assert scan(page) == address  # the same code; its answer changes at once
    visitor.goto(address)
    assert visitor.locator("#verify-result").get_attribute("data-result") == "revoked"
    assert "Obtained by fraud" in visitor.locator("#verify-result").inner_text()
    visitor.screenshot(path=str(ARTIFACTS / "prevention-verify-revoked.png"), full_page=True)

    # The public leaflet of Cambodia's marriage package, in Khmer.
    visitor.goto(f"{kh_node.url}/prevention/packages/")
    visitor.click("text=Marrying a Chinese citizen")
    visitor.click(".languages a[lang=km]")
    visitor.click("a[href*='/leaflet/']")
    visitor.wait_for_url("**/leaflet/?lang=km")
    assert "ការរៀបការជាមួយពលរដ្ឋចិន" in visitor.locator("h1").inner_text()
    visitor.screenshot(path=str(ARTIFACTS / "prevention-leaflet-km.png"), full_page=True)
    assert not failed, failed
