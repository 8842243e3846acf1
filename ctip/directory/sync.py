"""Directory sync between the two nodes, through the exchange (plan III.4, III.7).

Each node owns its own country's entries. When a directory editor changes a *published*
entry, or unpublishes one, the owning node puts a ``directory.entry`` message in the
exchange outbox, in the same transaction as the change (so the change and its message are
committed together; the exchange relays it afterwards, in order, with retries). The other
node keeps a read-only copy and applies a message only if it is newer than its copy.

What crosses the border is the allow-list below (SECURITY.md DP-3): the public fields of
the entry plus, for services, capacity, free places and registration, which caseworkers
of the other country need to refer; never a shelter's street address or an appointment
letter number, and never an unpublished entry's content: unpublishing sends only a
withdrawal (kind, id, version). Directory entries hold no personal data of victims; the
focal persons' work contacts are published by design, so the type is registered with
``personal_data=False``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ctip.accounts.models import Agency, AgencyType, Country
from ctip.accounts.services import AgencyInput, agency_upsert
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.directory.models import FocalPerson, Service

log = logging.getLogger("ctip.directory")

MESSAGE_TYPE = "directory.entry"
SCHEMA_VERSION = 1

SERVICE_SYNC_FIELDS = (
    "service_type",
    "sector",
    "name_en",
    "name_km",
    "name_zh_hans",
    "description_en",
    "description_km",
    "description_zh_hans",
    "serves_women",
    "serves_men",
    "serves_children",
    "nationalities",
    "city",
    "coverage_areas",
    "languages",
    "capacity",
    "places_available",
    "availability_updated_at",
    "phone",
    "hotline",
    "email",
    "website",
    "hours",
    "registration_status",
    "registration_number",
    "registration_authority",
    "registered_on",
    "renewal_due",
)
FOCAL_PERSON_SYNC_FIELDS = (
    "name_en",
    "name_km",
    "name_zh_hans",
    "title_en",
    "title_km",
    "title_zh_hans",
    "post_type",
    "post_city",
    "post_country",
    "responsibilities",
    "languages",
    "hours",
    "phone",
    "mobile",
    "email",
    "wechat",
    "telegram",
    "whatsapp",
    "preferred_channel",
    "appointed_on",
    "ends_on",
)
DATE_FIELDS = {"registered_on", "renewal_due", "appointed_on", "ends_on"}
DATETIME_FIELDS = {"availability_updated_at"}

# --- the JSON Schema (the allow-list, checked on sending and on receipt) -------------------


def _text(n: int) -> dict:
    return {"type": "string", "maxLength": n}


_DATE = {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_DATETIME = {"type": ["string", "null"], "maxLength": 40}
_INT = {"type": ["integer", "null"], "minimum": 0}
_CODES = {"type": "array", "maxItems": 60, "items": _text(12)}
_NAMES = {"type": "array", "maxItems": 60, "items": _text(100)}


def _object(properties: dict) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(properties),
        "properties": properties,
    }


SERVICE_ENTRY = _object(
    {
        "service_type": _text(30),
        "sector": _text(20),
        "name_en": _text(200),
        "name_km": _text(200),
        "name_zh_hans": _text(200),
        "description_en": _text(5000),
        "description_km": _text(5000),
        "description_zh_hans": _text(5000),
        "serves_women": {"type": "boolean"},
        "serves_men": {"type": "boolean"},
        "serves_children": {"type": "boolean"},
        "nationalities": _CODES,
        "city": _text(100),
        "coverage_areas": _NAMES,
        "languages": _CODES,
        "capacity": _INT,
        "places_available": _INT,
        "availability_updated_at": _DATETIME,
        "phone": _text(30),
        "hotline": _text(30),
        "email": _text(254),
        "website": _text(200),
        "hours": _text(200),
        "registration_status": _text(20),
        "registration_number": _text(60),
        "registration_authority": _text(200),
        "registered_on": _DATE,
        "renewal_due": _DATE,
    }
)
FOCAL_PERSON_ENTRY = _object(
    {
        "name_en": _text(200),
        "name_km": _text(200),
        "name_zh_hans": _text(200),
        "title_en": _text(200),
        "title_km": _text(200),
        "title_zh_hans": _text(200),
        "post_type": _text(20),
        "post_city": _text(100),
        "post_country": _text(2),
        "responsibilities": _CODES | {"items": _text(40)},
        "languages": {
            "type": "array",
            "maxItems": 20,
            "items": _object({"code": _text(5), "level": _text(10)}),
        },
        "hours": _text(200),
        "phone": _text(30),
        "mobile": _text(30),
        "email": _text(254),
        "wechat": _text(30),
        "telegram": _text(40),
        "whatsapp": _text(30),
        "preferred_channel": _text(20),
        "appointed_on": _DATE | {"type": "string"},
        "ends_on": _DATE,
    }
)
AGENCY = _object(
    {
        "code": {"type": "string", "pattern": r"^[-a-zA-Z0-9_]{1,40}$"},
        "name_en": _text(200),
        "name_km": _text(200),
        "name_zh_hans": _text(200),
        "type": {"enum": list(AgencyType.values)},
        "country": {"enum": list(Country.values)},
    }
)
BODY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "id", "country", "version", "updated_at", "published", "agency", "entry"],
    "properties": {
        "kind": {"enum": ["service", "focal_person"]},
        "id": {
            "type": "string",
            "pattern": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        },
        "country": {"enum": list(Country.values)},
        "version": {"type": "integer", "minimum": 1},
        "updated_at": {"type": "string", "maxLength": 40},
        "published": {"type": "boolean"},
        "agency": {"oneOf": [AGENCY, {"type": "null"}]},
        "entry": {"oneOf": [SERVICE_ENTRY, FOCAL_PERSON_ENTRY, {"type": "null"}]},
    },
    "allOf": [
        # A published entry travels whole; a withdrawal carries no content at all.
        {
            "if": {"properties": {"published": {"const": True}}},
            "then": {"properties": {"entry": {"type": "object"}, "agency": {"type": "object"}}},
            "else": {"properties": {"entry": {"type": "null"}, "agency": {"type": "null"}}},
        },
        {
            "if": {"properties": {"kind": {"const": "service"}, "published": {"const": True}}},
            "then": {"properties": {"entry": SERVICE_ENTRY}},
        },
        {
            "if": {"properties": {"kind": {"const": "focal_person"}, "published": {"const": True}}},
            "then": {"properties": {"entry": FOCAL_PERSON_ENTRY}},
        },
    ],
}


def register() -> None:
    """Register the message type (from ``DirectoryConfig.ready``)."""
    from ctip.exchange.registry import register_message_type

    register_message_type(
        MESSAGE_TYPE, SCHEMA_VERSION, BODY_SCHEMA, handle_entry, personal_data=False
    )


# --- sending ------------------------------------------------------------------------------


def _json_value(name: str, value):
    if value is None:
        return None
    if name in DATETIME_FIELDS:
        return value.isoformat()
    if name in DATE_FIELDS:
        return value.isoformat()
    return value


def _agency_body(agency: Agency) -> dict:
    return {
        "code": agency.code,
        "name_en": agency.name_en,
        "name_km": agency.name_km,
        "name_zh_hans": agency.name_zh_hans,
        "type": agency.type,
        "country": agency.country,
    }


def entry_body(entry: Service | FocalPerson) -> dict:
    """The message body for an entry: its content if published, else a withdrawal."""
    is_service = isinstance(entry, Service)
    fields = SERVICE_SYNC_FIELDS if is_service else FOCAL_PERSON_SYNC_FIELDS
    agency = entry.provider if is_service else entry.agency
    return {
        "kind": "service" if is_service else "focal_person",
        "id": str(entry.pk),
        "country": entry.country,
        "version": entry.version,
        "updated_at": entry.updated_at.isoformat(),
        "published": entry.published,
        "agency": _agency_body(agency) if entry.published else None,
        "entry": (
            {name: _json_value(name, getattr(entry, name)) for name in fields}
            if entry.published
            else None
        ),
    }


def peers() -> list[str]:
    from ctip.exchange.models import Peer

    return list(Peer.objects.exclude(node_id=settings.CTIP_NODE).values_list("node_id", flat=True))


def entry_changed(*, actor, entry, changed: Iterable[str] | None, request=None) -> list:
    """Queue the change of a local entry for the other node, inside the caller's
    transaction. Sent: a published entry (whole), or the withdrawal of one just
    unpublished. Not sent: an entry that is and stays unpublished."""
    if entry.country != settings.CTIP_NODE:
        return []
    just_unpublished = not entry.published and changed is not None and "published" in changed
    if not entry.published and not just_unpublished:
        return []
    from ctip.exchange.services import message_send

    body = entry_body(entry)
    return [
        message_send(actor=actor, to=node, msg_type=MESSAGE_TYPE, body=body, request=request)
        for node in peers()
    ]


def resend_all(*, actor=None, to: str | None = None) -> int:
    """Send the current state of every local entry to the other node (or ``to``): for a node
    peered after its directory was filled, or after a long outage. The receiver keeps what
    it has when it is not older, so sending twice changes nothing there."""
    from ctip.exchange.services import message_send

    targets = [to.upper()] if to else peers()
    sent = 0
    for model in (Service, FocalPerson):
        related = "provider" if model is Service else "agency"
        for entry in model.objects.filter(country=settings.CTIP_NODE).select_related(related):
            with transaction.atomic():
                for node in targets:
                    message_send(
                        actor=actor, to=node, msg_type=MESSAGE_TYPE, body=entry_body(entry)
                    )
                    sent += 1
    return sent


# --- receiving ----------------------------------------------------------------------------


def _refuse(reason: str):
    from ctip.exchange.core import HandlerRefused

    return HandlerRefused(reason)


def _remote_agency(data: dict, sender: str) -> Agency:
    if data["country"] != sender:
        raise _refuse("the entry's agency is not of the sending country")
    agency = Agency.objects.filter(code=data["code"]).first()
    if agency is not None:
        if agency.country != sender:
            raise _refuse("the agency code names an agency of another country")
        return agency
    try:
        return agency_upsert(
            actor=None,
            data=AgencyInput(
                data["code"],
                data["name_en"],
                data["type"],
                data["country"],
                data["name_km"],
                data["name_zh_hans"],
            ),
        )
    except ValidationError as exc:
        raise _refuse(f"invalid agency: {', '.join(sorted(exc.message_dict))}") from None


def _parse(name: str, value):
    if value is None:
        return None
    if name in DATE_FIELDS:
        parsed = parse_date(value)
    elif name in DATETIME_FIELDS:
        parsed = parse_datetime(value)
    else:
        return value
    if parsed is None:
        raise _refuse(f"{name} is not a valid date")
    return parsed


def handle_entry(message) -> None:
    """Apply a ``directory.entry`` from the other node (inside the exchange's receiving
    transaction; a refusal rolls it back and answers with a negative receipt)."""
    from ctip.directory.services import (
        focal_person_search_text,
        service_search_text,
        validate,
    )

    body, sender = message.body, message.sender
    if body["country"] != sender:
        raise _refuse("a node may only send its own country's directory entries")
    is_service = body["kind"] == "service"
    model = Service if is_service else FocalPerson
    pk = uuid.UUID(body["id"])
    existing = model.objects.select_for_update().filter(pk=pk).first()
    if existing is not None and existing.country != sender:
        raise _refuse("the entry belongs to another country's directory")
    if existing is not None and existing.version >= body["version"]:
        log.info("directory entry %s v%s already held (v%s)", pk, body["version"], existing.version)
        return
    updated_at = parse_datetime(body["updated_at"]) or timezone.now()
    if body["entry"] is None:  # a withdrawal: keep the copy (referrals may point at it)
        if existing is None:
            return
        existing.published = False
        existing.version = body["version"]
        existing.updated_at = updated_at
        existing.save(update_fields=["published", "version", "updated_at"])
        audit_record(
            actor=None,
            action=Action.UPDATE,
            obj=existing,
            fields=["published"],
            details={"from": sender, "version": body["version"], "published": False},
        )
        return
    if body["kind"] == "service" and set(body["entry"]) != set(SERVICE_SYNC_FIELDS):
        raise _refuse("the body does not match its kind")
    if body["kind"] == "focal_person" and set(body["entry"]) != set(FOCAL_PERSON_SYNC_FIELDS):
        raise _refuse("the body does not match its kind")
    agency = _remote_agency(body["agency"], sender)
    entry = existing or model(id=pk, country=sender, created_at=timezone.now())
    for name, value in body["entry"].items():
        setattr(entry, name, _parse(name, value))
    if is_service:
        entry.provider = agency
    else:
        entry.agency = agency
    entry.published = True
    entry.version = body["version"]
    entry.updated_at = updated_at
    entry.search_text = (
        service_search_text(entry) if is_service else focal_person_search_text(entry)
    )
    try:
        validate(entry)
    except ValidationError as exc:
        names = sorted(getattr(exc, "message_dict", {"entry": []}))
        raise _refuse(f"invalid {body['kind']}: {', '.join(names)}") from None
    entry.save()
    audit_record(
        actor=None,
        action=Action.UPDATE if existing else Action.CREATE,
        obj=entry,
        details={"from": sender, "version": entry.version, "published": True},
    )
