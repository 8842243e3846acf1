"""In real Chromium against a running node: a caseworker sends a match query about the demo
person from her matching page, reads the answer's candidates, asks who the first one is,
and reads the disclosed identity (screenshot under test-artifacts/). The other country's
answers are handed to the node's exchange handlers from a shell, as the exchange would."""

from __future__ import annotations

import pytest

from ctip.core.tests.test_browser import ARTIFACTS, browser, sign_in  # noqa: F401 - fixture
from ctip.testing.nodes import ctip, start_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# CN pinned as a peer without an address (messages wait in the outbox), a key agreed.
SETUP = """
from ctip.accounts.models import User
from ctip.cases.models import Person
from ctip.matching import xborder
from ctip.testing.peers import pin_offline_peer
pin_offline_peer("CN")
xborder.key_rotate(actor=None, peer="CN")
agency = User.objects.get(username="kh_caseworker").agency
person = next(p for p in Person.objects.filter(owner_agency=agency) if p.name_latin == "CHAN SOKHA")
print(person.pk)
"""

# CN answers the query with two candidates.
ANSWER = """
from ctip.exchange.models import Peer
from ctip.matching import xborder
from ctip.matching.models import MatchQuery
from ctip.testing.peers import received_from_peer
query = MatchQuery.objects.get(direction="out")
body = {"query_id": query.query_id, "refused": "", "candidates": [
    {"handle": "browserHandleOne0001", "score": 0.94},
    {"handle": "browserHandleTwo0002", "score": 0.86},
]}
xborder.handle_answer(received_from_peer(Peer.objects.get(node_id="CN"), xborder.ANSWER_TYPE, body))
"""

# CN discloses the identity behind the first candidate (the person agreed to the purpose).
DISCLOSE = """
from ctip.exchange.models import Peer
from ctip.matching import xborder
from ctip.matching.models import IdentityRequest
from ctip.testing.peers import received_from_peer
asked = IdentityRequest.objects.get(direction="out", handle="browserHandleOne0001")
identity = {"case_ref": "CN-C-7Q2M4K9X", "name_zh": "索卡·占", "name_latin": "SUO KA ZHAN",
            "sex": "female", "nationality": "KH", "born_from": 2000, "born_to": 2002}
xborder.handle_identity(received_from_peer(
    Peer.objects.get(node_id="CN"), xborder.IDENTITY_TYPE,
    {"request_id": asked.request_id, "identity": identity},
    purpose=asked.purpose, in_reply_to=asked.msg_id,
))
"""


def shell(node, code: str) -> str:
    return ctip("shell", "--home", str(node.home), "-c", code).stdout.strip()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    running = start_node(tmp_path_factory.mktemp("matching-browser"), "KH")
    yield running
    running.stop()


def test_query_answer_and_identity_from_the_page(browser, node):  # noqa: F811 - fixture
    ARTIFACTS.mkdir(exist_ok=True)
    person = shell(node, SETUP).splitlines()[-1]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    failed = []
    context.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page = context.new_page()
    sign_in(page, node, "kh_caseworker")
    url = f"{node.url}/matching/persons/{person}/"

    page.goto(url)
    # The page says what it holds: the person's duplicates, merges and the other country.
    assert page.title().startswith("Matching: KH-P-")
    assert (
        "duplicates, merges and questions to the other country" in page.locator("h1").inner_text()
    )
    assert page.locator("h2#duplicates").count() == 1 and page.locator("h2#merges").count() == 1
    page.click("#send-query button[type=submit]")
    page.wait_for_url(url)
    assert "Match query sent to CN" in page.locator("ul.messages").inner_text()
    assert page.locator("section.sent-query[data-state=waiting]").count() == 1

    shell(node, ANSWER)
    page.goto(url)
    rows = page.locator("section.sent-query[data-state=answered] table.candidates tbody tr")
    assert rows.count() == 2 and "0.94" in rows.first.inner_text()
    rows.first.locator("select[name=purpose]").select_option("family_tracing")
    rows.first.locator("button[type=submit]").click()
    page.wait_for_url(url)
    assert "Identity request sent" in page.locator("ul.messages").inner_text()
    first = page.locator("tr[data-handle=browserHandleOne0001]")
    assert "Waiting for the answer" in first.inner_text()
    assert first.locator("select").count() == 0

    shell(node, DISCLOSE)
    page.goto(url)
    assert "Identity disclosed" in first.inner_text()
    assert "索卡·占" in page.locator("#identities + p + table").inner_text()
    assert page.locator("tr[data-handle=browserHandleTwo0002] select").count() == 1
    page.screenshot(path=str(ARTIFACTS / "matching-query.png"), full_page=True)
    assert [u for u in failed if "/static/vendor/" not in u] == []
    context.close()
