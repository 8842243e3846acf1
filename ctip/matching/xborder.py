"""Privacy-preserving match queries between the two nodes (plan IV.5).

Three exchange message types, none holding a name, a date or any other plain value:

* ``matching.key`` — a new encoding key, sent by the node that rotates it (inside the
  signed, encrypted envelope). Both nodes then hold the same key under the same id.
* ``matching.query`` — the keyed Bloom-filter encodings of one person (normalised name
  parts, birth years, sex) under a key id.
* ``matching.answer`` — opaque handles and Dice scores of the peer's persons that reach
  the threshold; persons below it are not mentioned at all, so a query reveals nothing
  about people who do not match. A handle resolves only on the node that issued it,
  through a follow-up request under the consent rules.

Both sides rate-limit (per user when asking, per peer when answering) and audit each
query. The types are registered with ``personal_data=False``: their bodies are keyed
encodings and handles, not personal data that the consent gate is about; the disclosure
of an identity is a separate, consent-gated message.
"""

from __future__ import annotations

import base64
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ctip.accounts import permissions
from ctip.audit.models import Action
from ctip.audit.services import audit_record, audit_security_event
from ctip.cases.models import Person
from ctip.matching.core import bloom
from ctip.matching.models import MatchHandle, MatchKey, MatchQuery, QueryDirection
from ctip.matching.services import person_record, readable_records

log = logging.getLogger("ctip.matching")

KEY_TYPE, QUERY_TYPE, ANSWER_TYPE = "matching.key", "matching.query", "matching.answer"
#: Dice score at or above which a peer's person is returned as a candidate.
THRESHOLD = float(getattr(settings, "CTIP_MATCH_QUERY_THRESHOLD", 0.8))
#: Queries one user may send per day; queries a node answers per peer per hour.
USER_DAILY_LIMIT = int(getattr(settings, "CTIP_MATCH_QUERY_USER_DAILY", 50))
PEER_HOURLY_LIMIT = int(getattr(settings, "CTIP_MATCH_QUERY_PEER_HOURLY", 120))
KEY_LIFETIME = timedelta(days=int(getattr(settings, "CTIP_MATCH_KEY_DAYS", 90)))
MAX_CANDIDATES = 10

_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,40}$"}
_B64 = {"type": "string", "maxLength": 400, "pattern": "^[A-Za-z0-9+/=]+$"}

KEY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["key_id", "secret", "not_after"],
    "properties": {
        "key_id": _ID,
        "secret": {"type": "string", "pattern": "^[A-Za-z0-9+/=]{44}$"},
        "not_after": {"type": "string", "maxLength": 40},
    },
}
QUERY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["query_id", "key_id", "encoding"],
    "properties": {
        "query_id": _ID,
        "key_id": _ID,
        "encoding": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "birth"],
            "properties": {"name": _B64, "birth": _B64},
        },
    },
}
ANSWER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["query_id", "candidates", "refused"],
    "properties": {
        "query_id": _ID,
        "refused": {"type": "string", "enum": ["", "rate_limited", "unknown_key", "bad_query"]},
        "candidates": {
            "type": "array",
            "maxItems": MAX_CANDIDATES,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["handle", "score"],
                "properties": {
                    "handle": _ID,
                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                },
            },
        },
    },
}


class QueryRefused(ValidationError):
    pass


def register() -> None:
    from ctip.exchange.registry import register_message_type

    register_message_type(KEY_TYPE, 1, KEY_SCHEMA, handle_key, personal_data=False)
    register_message_type(QUERY_TYPE, 1, QUERY_SCHEMA, handle_query, personal_data=False)
    register_message_type(ANSWER_TYPE, 1, ANSWER_SCHEMA, handle_answer, personal_data=False)


def _secret(key: MatchKey) -> bytes:
    return base64.b64decode(key.secret)


def current_key(peer: str) -> MatchKey | None:
    return (
        MatchKey.objects.filter(peer=peer, not_after__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )


# --- keys ---------------------------------------------------------------------------------


@transaction.atomic
def key_rotate(*, actor, peer: str, request=None) -> MatchKey:
    """A new key for ``peer``, sent to it in an encrypted exchange message."""
    from ctip.exchange.services import message_send

    peer = peer.upper()
    now = timezone.now()
    key = MatchKey(
        key_id=f"{settings.CTIP_NODE}{peer}-{secrets.token_hex(8)}",
        peer=peer,
        secret=base64.b64encode(secrets.token_bytes(32)).decode(),
        created_at=now,
        not_after=now + KEY_LIFETIME,
    )
    key.save(force_insert=True)
    message_send(
        actor=actor,
        to=peer,
        msg_type=KEY_TYPE,
        body={"key_id": key.key_id, "secret": key.secret, "not_after": key.not_after.isoformat()},
        request=request,
    )
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="matching.key",
        object_id=key.key_id,
        details={"peer": peer},
        request=request,
    )
    return key


def handle_key(message) -> None:
    from django.utils.dateparse import parse_datetime

    body = message.body
    not_after = parse_datetime(body["not_after"])
    if not_after is None:
        raise ValueError("bad not_after")
    if MatchKey.objects.filter(key_id=body["key_id"]).exists():
        return
    MatchKey.objects.create(
        key_id=body["key_id"],
        peer=message.sender,
        secret=body["secret"],
        not_after=min(not_after, timezone.now() + KEY_LIFETIME),
    )
    audit_record(
        actor=None,
        action=Action.CREATE,
        object_type="matching.key",
        object_id=body["key_id"],
        details={"peer": message.sender, "received": True},
    )


# --- queries ------------------------------------------------------------------------------


def _encoding(key: MatchKey, person: Person) -> bloom.Encoding:
    record = person_record(person)
    return bloom.encode(_secret(key), record.names, record.birth, record.sex)


def query_send(*, user, person: Person, to: str, request=None) -> MatchQuery:
    """Ask the peer whether it holds someone matching ``person`` (encodings only).

    The checks run before the sending transaction, so that the audit row of a refused
    attempt is kept."""
    permissions.require(user, "matching_query", permissions.CREATE, request=request)
    permissions.access(user, "person", Person.objects.all(), person.pk, request=request)
    to = to.upper()
    since = timezone.now() - timedelta(days=1)
    sent = MatchQuery.objects.filter(
        direction=QueryDirection.OUT, asked_by=user, created_at__gte=since
    ).count()
    if sent >= USER_DAILY_LIMIT:
        audit_security_event(
            actor=user,
            event="match_query_rate_limited",
            object_type="matching.query",
            request=request,
        )
        raise QueryRefused(f"at most {USER_DAILY_LIMIT} match queries a day")
    return _query_send(user=user, person=person, to=to, request=request)


@transaction.atomic
def _query_send(*, user, person: Person, to: str, request=None) -> MatchQuery:
    from ctip.exchange.services import message_send

    key = current_key(to)
    if key is None:
        raise QueryRefused(f"no encoding key agreed with {to}: rotate one first")
    query = MatchQuery.objects.create(
        direction=QueryDirection.OUT,
        peer=to,
        query_id=secrets.token_urlsafe(18),
        key_id=key.key_id,
        person=person,
        asked_by=user,
    )
    message_send(
        actor=user,
        to=to,
        msg_type=QUERY_TYPE,
        body={
            "query_id": query.query_id,
            "key_id": key.key_id,
            "encoding": _encoding(key, person).to_json(),
        },
        request=request,
    )
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=query,
        details={"peer": to, "person": str(person.pk)},
        request=request,
    )
    return query


def _answer(message, query_id: str, candidates: list[dict], refused: str = "") -> None:
    from ctip.exchange.services import message_send

    message_send(
        actor=None,
        to=message.sender,
        msg_type=ANSWER_TYPE,
        body={"query_id": query_id, "candidates": candidates, "refused": refused},
        in_reply_to=message.msg_id,
    )


def handle_query(message) -> None:
    """Answer a peer's query with handles and scores of the persons that reach the
    threshold (sealed records never), within the per-peer rate limit."""
    body, peer = message.body, message.sender
    since = timezone.now() - timedelta(hours=1)
    recent = MatchQuery.objects.filter(
        direction=QueryDirection.IN, peer=peer, created_at__gte=since
    ).count()
    query, created = MatchQuery.objects.get_or_create(
        direction=QueryDirection.IN,
        peer=peer,
        query_id=body["query_id"],
        defaults={"key_id": body["key_id"]},
    )
    if not created:
        return
    key = MatchKey.objects.filter(
        key_id=body["key_id"], peer=peer, not_after__gt=timezone.now()
    ).first()
    refused = ""
    if recent >= PEER_HOURLY_LIMIT:
        refused = "rate_limited"
    elif key is None:
        refused = "unknown_key"
    candidates: list[dict] = []
    if not refused:
        try:
            asked = bloom.Encoding.from_json(body["encoding"])
        except ValueError:
            refused = "bad_query"
    if not refused:
        scored = []
        secret = _secret(key)
        people = Person.objects.filter(sealed=False).select_related("data_key")
        for person, record in readable_records(people):
            mine = bloom.encode(secret, record.names, record.birth, record.sex)
            score = bloom.similarity(asked, mine)
            if score >= THRESHOLD:
                scored.append((score, person))
        scored.sort(key=lambda x: -x[0])
        for score, person in scored[:MAX_CANDIDATES]:
            handle = MatchHandle.objects.create(
                handle=secrets.token_urlsafe(18), query=query, person=person, score=score
            )
            candidates.append({"handle": handle.handle, "score": score})
    query.answered_at = timezone.now()
    query.refused = refused
    query.save(update_fields=["answered_at", "refused"])
    audit_record(
        actor=None,
        action=Action.VIEW if candidates else Action.CREATE,
        obj=query,
        details={"peer": peer, "candidates": len(candidates), "refused": refused},
    )
    if refused:
        audit_security_event(
            actor=None,
            event=f"match_query_{refused}",
            object_type="matching.query",
            object_id=str(query.pk),
            details={"peer": peer},
        )
    _answer(message, query.query_id, candidates, refused)


def handle_answer(message) -> None:
    body, peer = message.body, message.sender
    query = MatchQuery.objects.filter(
        direction=QueryDirection.OUT, peer=peer, query_id=body["query_id"]
    ).first()
    if query is None:
        log.warning("match answer for an unknown query from %s", peer)
        return
    query.answer = body["candidates"]
    query.refused = body["refused"]
    query.answered_at = timezone.now()
    query.save(update_fields=["answer", "refused", "answered_at"])
    audit_record(
        actor=None,
        action=Action.UPDATE,
        obj=query,
        details={"peer": peer, "candidates": len(body["candidates"]), "refused": body["refused"]},
    )
