"""The preventive strategy: drafting, submission, review and approval by each side, comments
per section, the final agreed text; plan activity II.1 status recorded through the plan's
service; the shared state travels through the exchange and is merged on the other node
(rows only from the side that made them)."""

from __future__ import annotations

import json
import secrets

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from ctip.exchange.models import OutboxMessage
from ctip.exchange.registry import IncomingMessage
from ctip.plan.models import StatusUpdate
from ctip.prevention import services, sync
from ctip.prevention.models import (
    StrategyComment,
    StrategyDocument,
    StrategyStatus,
    StrategyStep,
    StrategyVersion,
)

pytestmark = pytest.mark.django_db


def incoming(body, sender="CN") -> IncomingMessage:
    return IncomingMessage(
        msg_id=secrets.token_hex(8),
        sender=sender,
        msg_type=sync.STRATEGY_TYPE,
        schema_version=1,
        body=body,
        case_ref=None,
        purpose=None,
        in_reply_to=None,
        signer_kid="k",
        sent_at=timezone.now(),
        transport="http",
    )


def drafted(manager) -> StrategyVersion:
    version = services.strategy_create(user=manager, title="Joint preventive strategy")
    services.section_save(user=manager, version=version, number=1, heading="Purpose", text="P.")
    services.section_save(user=manager, version=version, number=2, heading="Measures", text="M.")
    return version


def test_draft_submit_and_the_peer_approves_in_its_turn(manager, cn_peer):
    from ctip.plan.services import plan_load

    plan_load()
    version = drafted(manager)
    assert version.status == StrategyStatus.DRAFT
    assert not OutboxMessage.objects.exists()  # a draft stays on this side
    services.version_submit(user=manager, version=version)
    version.refresh_from_db()
    assert version.status == StrategyStatus.IN_REVIEW
    with pytest.raises(ValidationError):  # frozen once submitted
        services.section_save(user=manager, version=version, number=3, heading="X", text="Y")
    update = StatusUpdate.objects.get(activity__number="II.1", country="KH")
    assert update.status == "in_progress" and "in review" in update.note
    message = OutboxMessage.objects.get(msg_type=sync.STRATEGY_TYPE)
    body = json.loads(message.body)
    assert [s["heading"] for s in body["versions"][0]["sections"]] == ["Purpose", "Measures"]

    # This side approves; the other side's approval arrives through the exchange.
    services.version_step(user=manager, version=version, kind="approved")
    with pytest.raises(ValidationError):
        services.version_step(user=manager, version=version, kind="approved")
    state = sync.strategy_body(version.document)
    cn_section = state["versions"][0]["sections"][0]
    cn_section["comments"].append(
        {
            "id": "6d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a11",
            "country": "CN",
            "by": "MCA (CN)",
            "text": "Agreed.",
            "at": timezone.now().isoformat(),
        }
    )
    state["versions"][0]["steps"].append(
        {
            "id": "7d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a12",
            "country": "CN",
            "kind": "approved",
            "by": "MCA (CN)",
            "note": "",
            "at": timezone.now().isoformat(),
        }
    )
    sync.handle_strategy(incoming(state))
    sync.handle_strategy(incoming(state))  # again: nothing changes
    version = StrategyVersion.objects.get(pk=version.pk)
    assert version.status == StrategyStatus.AGREED
    assert StrategyComment.objects.get().country == "CN"
    assert StrategyStep.objects.filter(kind="approved").count() == 2
    assert services.plan_status_report(user=manager, version=version) is True
    latest = StatusUpdate.objects.filter(activity__number="II.1", country="KH").first()
    assert "agreed by both sides" in latest.note
    with pytest.raises(ValidationError):
        services.version_step(user=manager, version=version, kind="reviewed", note="late")


def test_the_peer_cannot_write_rows_in_this_sides_name(manager, cn_peer):
    version = drafted(manager)
    services.version_submit(user=manager, version=version)
    state = sync.strategy_body(version.document)
    # CN claims a KH approval and a KH comment: neither is taken.
    state["versions"][0]["steps"].append(
        {
            "id": "8d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a13",
            "country": "KH",
            "kind": "approved",
            "by": "forged",
            "note": "",
            "at": timezone.now().isoformat(),
        }
    )
    state["versions"][0]["sections"][0]["comments"].append(
        {
            "id": "9d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a14",
            "country": "KH",
            "by": "forged",
            "text": "x",
            "at": timezone.now().isoformat(),
        }
    )
    sync.handle_strategy(incoming(state))
    assert not StrategyStep.objects.filter(by="forged").exists()
    assert not StrategyComment.objects.exists()


@override_settings(CTIP_NODE="CN")
def test_a_version_from_the_other_side_is_received_with_its_sections(db):
    body = {
        "id": "1d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a15",
        "title": "Joint preventive strategy",
        "origin": "KH",
        "versions": [
            {
                "id": "2d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a16",
                "number": 1,
                "origin": "KH",
                "author": "NCCT (KH)",
                "submitted_at": timezone.now().isoformat(),
                "sections": [
                    {
                        "id": "3d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a17",
                        "number": 1,
                        "heading": "Purpose",
                        "text": "P.",
                        "comments": [],
                    }
                ],
                "steps": [
                    {
                        "id": "4d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a18",
                        "country": "KH",
                        "kind": "submitted",
                        "by": "NCCT (KH)",
                        "note": "",
                        "at": timezone.now().isoformat(),
                    }
                ],
            }
        ],
    }
    sync.handle_strategy(incoming(body, sender="KH"))
    version = StrategyVersion.objects.get()
    assert version.origin == "KH" and version.status == StrategyStatus.IN_REVIEW
    assert version.sections.get().heading == "Purpose"
    assert StrategyDocument.objects.get().origin == "KH"


def test_review_needs_a_note_and_comments_are_per_section(manager, caseworker_a, client_of):
    version = drafted(manager)
    services.version_submit(user=manager, version=version)
    with pytest.raises(ValidationError):
        services.version_step(user=manager, version=version, kind="reviewed", note=" ")
    services.version_step(user=manager, version=version, kind="reviewed", note="Add hotlines.")
    section = version.sections.get(number=2)
    client = client_of(manager)
    response = client.post(
        f"/prevention/strategy/sections/{section.pk}/comments/",
        {"text": "Name the hotline numbers."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Name the hotline numbers." in response.content.decode()
    assert section.comments.get().by.startswith("Agency kh-agency-a")
    # A caseworker reads the strategy but does not comment or approve.
    reader = client_of(caseworker_a)
    assert reader.get(f"/prevention/strategy/{version.pk}/").status_code == 200
    assert (
        reader.post(
            f"/prevention/strategy/sections/{section.pk}/comments/", {"text": "x"}
        ).status_code
        == 404
    )
    assert (
        reader.post(f"/prevention/strategy/{version.pk}/step/", {"kind": "approved"}).status_code
        == 404
    )
    assert section.comments.count() == 1


def test_new_version_starts_from_the_last_submitted_text(manager, client_of):
    version = drafted(manager)
    services.version_submit(user=manager, version=version)
    client = client_of(manager)
    response = client.post(f"/prevention/strategy/documents/{version.document_id}/new-version/")
    assert response.status_code == 302
    draft = StrategyVersion.objects.get(number=2)
    assert [s.heading for s in draft.sections.all()] == ["Purpose", "Measures"]
    with pytest.raises(ValidationError):  # one draft at a time
        services.version_new(user=manager, document=version.document)
    page = client.get(f"/prevention/strategy/{draft.pk}/").content.decode()
    assert 'id="submit-version"' in page


def test_home_card_shows_versions_waiting_for_this_side(manager, caseworker_a):
    from ctip.prevention.cards import cards

    version = drafted(manager)
    assert cards(manager) == []
    services.version_submit(user=manager, version=version)
    (card,) = cards(manager)
    assert card.count == 1 and card.url == f"/prevention/strategy/{version.pk}/"
    assert cards(caseworker_a) == []  # readers are not asked to review
    services.version_step(user=manager, version=version, kind="approved")
    assert cards(manager) == []


@override_settings(CTIP_NODE="CN")
def test_a_malformed_state_is_refused_whole(db):
    from ctip.exchange.core import HandlerRefused

    section = {
        "id": "3d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a17",
        "number": 1,
        "heading": "P",
        "text": "P.",
        "comments": [],
    }
    body = {
        "id": "1d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a15",
        "title": "Joint preventive strategy",
        "origin": "KH",
        "versions": [
            {
                "id": "2d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a16",
                "number": 1,
                "origin": "KH",
                "author": "NCCT (KH)",
                "submitted_at": timezone.now().isoformat(),
                "sections": [section, {**section, "id": "5d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a19"}],
                "steps": [],
            }
        ],
    }
    with pytest.raises(HandlerRefused):
        sync.handle_strategy(incoming(body, sender="KH"))
    # A document the sender did not start and this node does not hold is refused too.
    with pytest.raises(HandlerRefused):
        sync.handle_strategy(
            incoming(
                {**body, "id": "0d9b6a1e-2b9f-4c38-9d5e-5b1a4c1f0a10", "origin": "CN"},
                sender="KH",
            )
        )
