"""Directory sync, in one process: what a change puts in the exchange outbox (and what it
never does), and how a received entry is applied, refused or ignored."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ctip.accounts.models import Agency
from ctip.audit.models import AuditEvent
from ctip.directory import services, sync
from ctip.directory.models import FocalPerson, Service
from ctip.exchange import registry
from ctip.exchange.core import (
    HandlerRefused,
    SchemaInvalid,
)
from ctip.exchange.models import OutboxMessage
from ctip.testing.peers import pin_offline_peer

pytestmark = pytest.mark.django_db


@pytest.fixture
def cn_peer(db):
    """This (KH) node's exchange keys, and CN pinned as its peer (no address: nothing is
    delivered, messages wait in the outbox)."""
    return pin_offline_peer("CN")


def sent_bodies() -> list[dict]:
    rows = OutboxMessage.objects.filter(msg_type=sync.MESSAGE_TYPE).order_by("seq")
    return [json.loads(m.body) for m in rows]


def test_published_changes_are_queued_with_the_change(cn_peer, make_service, editor):
    service = make_service(address="12 Secret Street")
    [body] = sent_bodies()
    assert body["kind"] == "service" and body["id"] == str(service.pk)
    assert body["country"] == "KH" and body["version"] == 1 and body["published"] is True
    assert body["agency"]["code"] == "kh-shelter-test"
    assert body["entry"]["places_available"] == 12
    assert body["entry"]["name_zh_hans"] == "金边过渡庇护所"
    assert "address" not in body["entry"] and "12 Secret Street" not in json.dumps(body)
    message = OutboxMessage.objects.get()
    assert message.peer == cn_peer and message.created_by == editor

    services.service_update(user=editor, service=service, changes={"places_available": 3})
    assert [b["version"] for b in sent_bodies()] == [1, 2]
    # Unpublishing sends a withdrawal, with no content.
    services.service_update(user=editor, service=service, changes={"published": False})
    withdrawal = sent_bodies()[-1]
    assert withdrawal == {
        "kind": "service",
        "id": str(service.pk),
        "country": "KH",
        "version": 3,
        "updated_at": withdrawal["updated_at"],
        "published": False,
        "agency": None,
        "entry": None,
    }
    # While unpublished, changes stay here.
    services.service_update(user=editor, service=service, changes={"hours": "9-5"})
    assert len(sent_bodies()) == 3


def test_unpublished_entries_never_leave(cn_peer, make_focal, make_service, editor):
    person = make_focal(published=False, appointment_reference="LETTER-9")
    make_service(published=False, registration_number="U-1")
    services.focal_person_update(user=editor, person=person, changes={"hours": "8-4"})
    assert sent_bodies() == []
    services.focal_person_update(user=editor, person=person, changes={"published": True})
    [body] = sent_bodies()
    assert body["kind"] == "focal_person" and body["entry"]["wechat"] == ""
    assert "appointment_reference" not in body["entry"] and "LETTER-9" not in json.dumps(body)
    assert body["entry"]["languages"] == [
        {"code": "km", "level": "native"},
        {"code": "zh", "level": "working"},
    ]


def test_a_failed_change_queues_nothing(cn_peer, make_service, editor):
    service = make_service()
    with pytest.raises(ValidationError):
        services.service_update(user=editor, service=service, changes={"phone": "bad"})
    assert len(sent_bodies()) == 1


def test_no_peer_no_message(make_service):
    make_service()
    assert not OutboxMessage.objects.exists()


# --- receiving ----------------------------------------------------------------------------


def cn_service_body(**entry_overrides) -> dict:
    entry = {
        "service_type": "shelter",
        "sector": "government",
        "name_en": "Guangxi Relief Station",
        "name_km": "មណ្ឌលជំនួយក្វាងស៊ី",
        "name_zh_hans": "广西救助站",
        "description_en": "",
        "description_km": "",
        "description_zh_hans": "",
        "serves_women": True,
        "serves_men": False,
        "serves_children": True,
        "nationalities": ["KH"],
        "city": "Nanning",
        "coverage_areas": ["Guangxi"],
        "languages": ["zh", "km"],
        "capacity": 50,
        "places_available": 8,
        "availability_updated_at": timezone.now().isoformat(),
        "phone": "",
        "hotline": "+86 771 555 0100",
        "email": "",
        "website": "",
        "hours": "24小时",
        "registration_status": "registered",
        "registration_number": "GX-1",
        "registration_authority": "",
        "registered_on": None,
        "renewal_due": (timezone.localdate() + datetime.timedelta(days=99)).isoformat(),
    }
    entry.update(entry_overrides)
    return {
        "kind": "service",
        "id": "6a2f1c1e-0b4e-4d39-9d1c-3f0b7d1e2a10",
        "country": "CN",
        "version": 1,
        "updated_at": timezone.now().isoformat(),
        "published": True,
        "agency": {
            "code": "cn-gx-shelter",
            "name_en": "Guangxi Relief Station",
            "name_km": "",
            "name_zh_hans": "广西救助站",
            "type": "shelter",
            "country": "CN",
        },
        "entry": entry,
    }


def receive(body: dict, sender: str = "CN") -> None:
    entry = registry.message_type(sync.MESSAGE_TYPE, sync.SCHEMA_VERSION)
    registry.validate_body(entry, body)
    sync.handle_entry(
        registry.IncomingMessage(
            msg_id=str(uuid.uuid4()),
            sender=sender,
            msg_type=sync.MESSAGE_TYPE,
            schema_version=1,
            body=body,
            case_ref=None,
            purpose=None,
            in_reply_to=None,
            signer_kid="test",
            sent_at=timezone.now(),
            transport="http",
        )
    )


def test_a_received_entry_is_kept_as_a_read_only_copy(editor):
    receive(cn_service_body())
    copy = Service.objects.get()
    assert copy.country == "CN" and copy.version == 1 and copy.published
    assert copy.provider.code == "cn-gx-shelter" and copy.provider.country == "CN"
    assert copy.search_text and "广西救助站" in copy.search_text
    assert copy.address == "" and not copy.is_local
    assert AuditEvent.objects.filter(object_id=str(copy.pk), details__from="CN").exists()
    with pytest.raises(Exception, match="other country"):
        services.service_update(user=editor, service=copy, changes={"hours": "x"})

    newer = cn_service_body(places_available=2)
    newer["version"] = 3
    receive(newer)
    older = cn_service_body(places_available=40)
    older["version"] = 2
    receive(older)  # late or repeated: ignored
    copy.refresh_from_db()
    assert copy.version == 3 and copy.places_available == 2

    withdrawal = {**cn_service_body(), "version": 4, "published": False}
    withdrawal.update(agency=None, entry=None)
    receive(withdrawal)
    copy.refresh_from_db()
    assert not copy.published and copy.version == 4 and copy.places_available == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.update(country="KH"), "its own country"),
        (lambda b: b["agency"].update(country="KH"), "agency is not of the sending country"),
        (lambda b: b["entry"].update(hotline="0771"), "invalid service: hotline"),
        (lambda b: b["entry"].update(languages=["zz"]), "invalid service: languages"),
    ],
)
def test_bad_entries_are_refused(change, message):
    body = cn_service_body()
    change(body)
    with pytest.raises(HandlerRefused, match=message):
        receive(body)
    assert not Service.objects.exists()


def test_the_other_node_cannot_overwrite_our_entries(make_service, agency_a):
    ours = make_service()
    body = cn_service_body()
    body["id"] = str(ours.pk)
    with pytest.raises(HandlerRefused, match="another country"):
        receive(body)
    body = cn_service_body()
    body["agency"]["code"] = agency_a.code  # a KH agency, claimed as CN's
    with pytest.raises(HandlerRefused):
        receive(body)
    assert Agency.objects.get(code=agency_a.code).country == "KH"


def test_the_schema_is_the_allow_list():
    entry = registry.message_type(sync.MESSAGE_TYPE, sync.SCHEMA_VERSION)
    body = cn_service_body(address="12 Secret Street")
    with pytest.raises(SchemaInvalid):
        registry.validate_body(entry, body)
    withdrawal = {**cn_service_body(), "published": False}  # content with a withdrawal
    with pytest.raises(SchemaInvalid):
        registry.validate_body(entry, withdrawal)
    focal_as_service = cn_service_body()
    focal_as_service["kind"] = "focal_person"
    with pytest.raises(SchemaInvalid):
        registry.validate_body(entry, focal_as_service)


def test_a_received_focal_person_shows_in_the_public_directory(client):
    body = {
        "kind": "focal_person",
        "id": str(uuid.uuid4()),
        "country": "CN",
        "version": 1,
        "updated_at": timezone.now().isoformat(),
        "published": True,
        "agency": {
            "code": "cn-embassy-pp",
            "name_en": "Embassy of China in Phnom Penh",
            "name_km": "",
            "name_zh_hans": "中国驻柬埔寨大使馆",
            "type": "embassy",
            "country": "CN",
        },
        "entry": {
            "name_en": "LIU Yang",
            "name_km": "",
            "name_zh_hans": "刘洋",
            "title_en": "Consular officer",
            "title_km": "",
            "title_zh_hans": "领事官员",
            "post_type": "embassy",
            "post_city": "Phnom Penh",
            "post_country": "KH",
            "responsibilities": ["repatriation"],
            "languages": [{"code": "zh", "level": "native"}, {"code": "km", "level": "working"}],
            "hours": "",
            "phone": "+855 23 555 2003",
            "mobile": "",
            "email": "",
            "wechat": "cn_consular_pp",
            "telegram": "",
            "whatsapp": "",
            "preferred_channel": "wechat",
            "appointed_on": (timezone.localdate() - datetime.timedelta(days=5)).isoformat(),
            "ends_on": None,
        },
    }
    receive(body)
    assert FocalPerson.objects.get().country == "CN"
    html = client.get("/directory/", {"country": "CN"}).content.decode()
    assert "刘洋" in html and "cn_consular_pp" in html
