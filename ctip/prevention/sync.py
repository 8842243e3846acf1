"""What the prevention app exchanges with the other node (no personal data in either type):

* ``prevention.strategy``: the shared state of one strategy document (submitted versions,
  their sections, every side's steps and comments). Rows never change once shared, so the
  receiver inserts the rows it does not hold and ignores the rest; a row is accepted only
  from the side that made it.
* ``prevention.certificate_revocation``: one entry of the sender's revocation list (the
  random serial of a certificate it issued, when and why it was revoked). Certificates
  themselves never travel: the other node checks their codes offline with the sender's
  pinned signing key.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime

from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.prevention.models import (
    CivilCertificate,
    PeerRevocation,
    RevocationReason,
    StepKind,
    StrategyComment,
    StrategyDocument,
    StrategySection,
    StrategyStep,
    StrategyVersion,
)

log = logging.getLogger(__name__)

STRATEGY_TYPE = "prevention.strategy"
REVOCATION_TYPE = "prevention.certificate_revocation"
SCHEMA_VERSION = 1

_UUID = {
    "type": "string",
    "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
}
_COUNTRY = {"enum": ["KH", "CN"]}
_WHEN = {"type": "string", "maxLength": 40}
_LABEL = {"type": "string", "maxLength": 200}
_TEXT = {"type": "string", "maxLength": 20000}


def _object(properties: dict) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(properties),
        "properties": properties,
    }


STRATEGY_SCHEMA = _object(
    {
        "id": _UUID,
        "title": _LABEL,
        "origin": _COUNTRY,
        "versions": {
            "type": "array",
            "maxItems": 200,
            "items": _object(
                {
                    "id": _UUID,
                    "number": {"type": "integer", "minimum": 1, "maximum": 32767},
                    "origin": _COUNTRY,
                    "author": _LABEL,
                    "submitted_at": _WHEN,
                    "sections": {
                        "type": "array",
                        "maxItems": 200,
                        "items": _object(
                            {
                                "id": _UUID,
                                "number": {"type": "integer", "minimum": 1, "maximum": 32767},
                                "heading": _LABEL,
                                "text": _TEXT,
                                "comments": {
                                    "type": "array",
                                    "maxItems": 500,
                                    "items": _object(
                                        {
                                            "id": _UUID,
                                            "country": _COUNTRY,
                                            "by": _LABEL,
                                            "text": _TEXT,
                                            "at": _WHEN,
                                        }
                                    ),
                                },
                            }
                        ),
                    },
                    "steps": {
                        "type": "array",
                        "maxItems": 100,
                        "items": _object(
                            {
                                "id": _UUID,
                                "country": _COUNTRY,
                                "kind": {"enum": list(StepKind.values)},
                                "by": _LABEL,
                                "note": _TEXT,
                                "at": _WHEN,
                            }
                        ),
                    },
                }
            ),
        },
    }
)

REVOCATION_SCHEMA = _object(
    {
        "issuer": _COUNTRY,
        "serial": {"type": "string", "pattern": "^[0-9a-f]{20}$"},
        "revoked_at": _WHEN,
        "reason": {"enum": list(RevocationReason.values)},
    }
)


def register() -> None:
    from ctip.exchange.registry import register_message_type

    register_message_type(
        STRATEGY_TYPE, SCHEMA_VERSION, STRATEGY_SCHEMA, handle_strategy, personal_data=False
    )
    register_message_type(
        REVOCATION_TYPE, SCHEMA_VERSION, REVOCATION_SCHEMA, handle_revocation, personal_data=False
    )


def peers() -> list[str]:
    from ctip.exchange.models import Peer

    return list(
        Peer.objects.exclude(node_id=settings.CTIP_NODE)
        .filter(anchors__isnull=False)
        .distinct()
        .values_list("node_id", flat=True)
    )


def _send(*, actor, msg_type: str, body: dict, request=None, to: str | None = None) -> int:
    from ctip.exchange.services import message_send

    targets = [to] if to else peers()
    for node in targets:
        message_send(actor=actor, to=node, msg_type=msg_type, body=body, request=request)
    return len(targets)


# --- strategy -----------------------------------------------------------------------------


def strategy_body(document: StrategyDocument) -> dict:
    versions = (
        document.versions.filter(submitted_at__isnull=False)
        .prefetch_related("sections__comments", "steps")
        .order_by("number", "submitted_at")
    )
    return {
        "id": str(document.pk),
        "title": document.title,
        "origin": document.origin,
        "versions": [
            {
                "id": str(v.pk),
                "number": v.number,
                "origin": v.origin,
                "author": v.author,
                "submitted_at": v.submitted_at.isoformat(),
                "sections": [
                    {
                        "id": str(s.pk),
                        "number": s.number,
                        "heading": s.heading,
                        "text": s.text,
                        "comments": [
                            {
                                "id": str(c.pk),
                                "country": c.country,
                                "by": c.by,
                                "text": c.text,
                                "at": c.at.isoformat(),
                            }
                            for c in s.comments.all()
                        ],
                    }
                    for s in v.sections.all()
                ],
                "steps": [
                    {
                        "id": str(t.pk),
                        "country": t.country,
                        "kind": t.kind,
                        "by": t.by,
                        "note": t.note,
                        "at": t.at.isoformat(),
                    }
                    for t in v.steps.all()
                ],
            }
            for v in versions
        ],
    }


def strategy_changed(*, actor, document: StrategyDocument, request=None, to=None) -> int:
    """Queue the document's shared state for the other node (inside the caller's
    transaction)."""
    return _send(
        actor=actor, msg_type=STRATEGY_TYPE, body=strategy_body(document), request=request, to=to
    )


def _refuse(reason: str):
    from ctip.exchange.core import HandlerRefused

    return HandlerRefused(reason)


def _when(text: str):
    parsed = parse_datetime(text)
    if parsed is None or parsed.tzinfo is None:
        raise _refuse("a time is not an ISO date-time with a zone")
    return parsed


def handle_strategy(message) -> None:
    """Insert the rows of the other side's strategy state that this node does not hold.
    Rows made by this side are never taken from a message (they are held here already)."""
    body, sender = message.body, message.sender
    document = StrategyDocument.objects.filter(pk=uuid.UUID(body["id"])).first()
    added = 0
    if document is None:
        if body["origin"] != sender:
            raise _refuse("a document of this side is unknown here")
        document = StrategyDocument(id=body["id"], title=body["title"], origin=sender)
        document.full_clean()
        document.save(force_insert=True)
    held_versions = {str(pk) for pk in document.versions.values_list("pk", flat=True)}
    for v in body["versions"]:
        if v["id"] not in held_versions:
            if v["origin"] != sender:
                continue  # this side's version, not held here: never taken from the peer
            if StrategyVersion.objects.filter(pk=v["id"]).exists():
                raise _refuse("a version id belongs to another document")
            numbers = [s["number"] for s in v["sections"]]
            section_ids = [s["id"] for s in v["sections"]]
            if len(numbers) != len(set(numbers)) or len(section_ids) != len(set(section_ids)):
                raise _refuse("two sections of a version have the same number or id")
            if StrategySection.objects.filter(pk__in=[s["id"] for s in v["sections"]]).exists():
                raise _refuse("a section id is already in use")
            version = StrategyVersion(
                id=v["id"],
                document=document,
                number=v["number"],
                origin=sender,
                author=v["author"],
                submitted_at=_when(v["submitted_at"]),
            )
            version.full_clean()
            version.save(force_insert=True)
            held_versions.add(v["id"])
            StrategySection.objects.bulk_create(
                StrategySection(
                    id=s["id"],
                    version=version,
                    number=s["number"],
                    heading=s["heading"],
                    text=s["text"],
                )
                for s in v["sections"]
            )
            added += 1
        elif v["id"] not in held_versions:
            continue
        version_sections = {
            str(pk)
            for pk in StrategySection.objects.filter(version_id=v["id"]).values_list(
                "pk", flat=True
            )
        }
        ids = [c["id"] for s in v["sections"] for c in s["comments"]]
        held_comments = {
            str(pk)
            for pk in StrategyComment.objects.filter(pk__in=ids).values_list("pk", flat=True)
        }
        for s in v["sections"]:
            if s["id"] not in version_sections:
                continue
            for c in s["comments"]:
                if c["id"] in held_comments or c["country"] != sender:
                    continue
                held_comments.add(c["id"])
                StrategyComment.objects.create(
                    id=c["id"],
                    section_id=s["id"],
                    country=sender,
                    by=c["by"],
                    text=c["text"],
                    at=_when(c["at"]),
                )
                added += 1
        held_steps = {
            str(pk)
            for pk in StrategyStep.objects.filter(pk__in=[t["id"] for t in v["steps"]]).values_list(
                "pk", flat=True
            )
        }
        for t in v["steps"]:
            if t["id"] in held_steps or t["country"] != sender:
                continue
            held_steps.add(t["id"])
            if (
                t["kind"] == StepKind.APPROVED
                and StrategyStep.objects.filter(
                    version_id=v["id"], country=sender, kind=StepKind.APPROVED
                ).exists()
            ):
                continue
            StrategyStep.objects.create(
                id=t["id"],
                version_id=v["id"],
                country=sender,
                kind=t["kind"],
                by=t["by"],
                note=t["note"],
                at=_when(t["at"]),
            )
            added += 1
    if added:
        audit_record(
            actor=None,
            action=Action.UPDATE,
            obj=document,
            details={"from": sender, "rows": added, "msg": message.msg_id[:40]},
        )


# --- revocations --------------------------------------------------------------------------


def revocation_body(certificate: CivilCertificate) -> dict:
    return {
        "issuer": settings.CTIP_NODE,
        "serial": certificate.serial,
        "revoked_at": certificate.revoked_at.isoformat(),
        "reason": certificate.revocation_reason,
    }


def revocation_announce(*, actor, certificate: CivilCertificate, request=None) -> int:
    return _send(
        actor=actor, msg_type=REVOCATION_TYPE, body=revocation_body(certificate), request=request
    )


def handle_revocation(message) -> None:
    """Add one entry to the sender's revocation list held here (idempotent)."""
    body, sender = message.body, message.sender
    if body["issuer"] != sender:
        raise _refuse("a node may only revoke the certificates it issued")
    _, created = PeerRevocation.objects.get_or_create(
        issuer=sender,
        serial=body["serial"],
        defaults={
            "revoked_at": _when(body["revoked_at"]),
            "reason": body["reason"],
            "msg_id": message.msg_id[:64],
        },
    )
    if created:
        audit_record(
            actor=None,
            action=Action.CREATE,
            object_type="prevention.peerrevocation",
            object_id=f"{sender}:{body['serial']}",
            details={"from": sender, "reason": body["reason"]},
        )


def resend_all(*, actor=None, to: str | None = None) -> int:
    """Send every shared strategy document and the whole revocation list again: for a
    node peered after they were made. The receiver ignores what it holds already."""
    sent = 0
    for document in StrategyDocument.objects.all():
        if document.versions.filter(submitted_at__isnull=False).exists():
            with transaction.atomic():
                sent += strategy_changed(actor=actor, document=document, to=to)
    for certificate in CivilCertificate.objects.filter(revoked_at__isnull=False):
        with transaction.atomic():
            sent += _send(
                actor=actor,
                msg_type=REVOCATION_TYPE,
                body=revocation_body(certificate),
                to=to,
            )
    return sent
