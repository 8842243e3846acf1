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

The follow-up that resolves a handle, under the consent rules:

* ``matching.identity_request`` — a handle, the purpose, the asking node's case (or
  person) reference and the requesting officer; no personal data of the person.
* ``matching.identity_answer`` — ``personal_data=True``: the minimal identity (names in the
  scripts held, sex, a birth range in whole years, nationality, the issuing node's case
  reference), sent only when the handle was issued to *that* peer, has not expired, the
  person is not sealed and a consent of the person (``cases.consent``, through
  ``require_consent`` and again at the exchange's outbox gate) covers the purpose and
  country. The envelope carries the purpose, legal basis and consent reference.
* ``matching.identity_refusal`` — a refusal code, nothing else, so a refused request can
  carry no data by construction. A handle issued to another peer is answered exactly like
  an unknown one; sealed and not consented are both ``not_disclosed``.
"""

from __future__ import annotations

import base64
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ctip.accounts import permissions
from ctip.audit.models import Action
from ctip.audit.services import audit_record, audit_security_event
from ctip.cases.models import Case, Person
from ctip.exchange.core import HandlerRefused
from ctip.matching.core import bloom
from ctip.matching.models import (
    IdentityOutcome,
    IdentityRequest,
    MatchHandle,
    MatchKey,
    MatchQuery,
    QueryDirection,
)
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
IDENTITY_REQUEST_TYPE = "matching.identity_request"
IDENTITY_TYPE = "matching.identity_answer"
IDENTITY_REFUSAL_TYPE = "matching.identity_refusal"
#: Days a handle resolves after it was issued.
HANDLE_LIFETIME = timedelta(days=int(getattr(settings, "CTIP_MATCH_HANDLE_DAYS", 30)))
#: Identity requests one user may send per day; a node answers per peer per day.
IDENTITY_USER_DAILY_LIMIT = int(getattr(settings, "CTIP_MATCH_IDENTITY_USER_DAILY", 10))
IDENTITY_PEER_DAILY_LIMIT = int(getattr(settings, "CTIP_MATCH_IDENTITY_PEER_DAILY", 100))
#: Purposes an identity may be asked for: finding the person's family, verifying their
#: nationality, bringing them home. Not law enforcement (DP-2).
IDENTITY_PURPOSES = ("nationality_verification", "family_tracing", "repatriation")
#: What crosses the border for each identity (DP-3): no document, contact, place or note.
IDENTITY_FIELDS = ("name_km", "name_zh", "name_latin", "sex", "nationality", "birth_year")
REFUSALS = ("unknown_handle", "expired", "not_disclosed", "rate_limited", "bad_request")

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


_NAME = {"type": "string", "maxLength": 200}
_REF = {"type": "string", "pattern": "^(KH|CN)-[PC]-[0-9A-Z]{4,16}$"}
_YEAR = {"type": ["integer", "null"], "minimum": 1900, "maximum": 2100}
IDENTITY_REQUEST_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["request_id", "handle", "purpose", "asking_ref", "officer"],
    "properties": {
        "request_id": _ID,
        "handle": _ID,
        "purpose": {"enum": list(IDENTITY_PURPOSES)},
        "asking_ref": _REF,
        "officer": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "agency"],
            "properties": {"name": _NAME, "agency": {"type": "string", "maxLength": 40}},
        },
    },
}
IDENTITY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["request_id", "identity"],
    "properties": {
        "request_id": _ID,
        "identity": {
            "type": "object",
            "additionalProperties": False,
            "required": ["case_ref", "sex", "nationality", "born_from", "born_to"],
            "properties": {
                "case_ref": {"type": "string", "pattern": "^(KH|CN)-C-[0-9A-Z]{4,16}$"},
                "name_km": _NAME,
                "name_zh": _NAME,
                "name_latin": _NAME,
                "sex": {"enum": ["female", "male", "other", "unknown"]},
                "nationality": {"type": "string", "pattern": "^([A-Z]{2})?$"},
                "born_from": _YEAR,
                "born_to": _YEAR,
            },
        },
    },
}
IDENTITY_REFUSAL_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["request_id", "refused"],
    "properties": {"request_id": _ID, "refused": {"enum": list(REFUSALS)}},
}


class QueryRefused(ValidationError):
    pass


class UnknownIdentityRequest(HandlerRefused):
    """An identity answer or refusal that replies to no request of ours (or not to the
    message we sent, or for another purpose): refused, nothing stored."""

    code = "unknown_request"


def register() -> None:
    from ctip.exchange.registry import register_message_type

    register_message_type(KEY_TYPE, 1, KEY_SCHEMA, handle_key, personal_data=False)
    register_message_type(QUERY_TYPE, 1, QUERY_SCHEMA, handle_query, personal_data=False)
    register_message_type(ANSWER_TYPE, 1, ANSWER_SCHEMA, handle_answer, personal_data=False)
    register_message_type(
        IDENTITY_REQUEST_TYPE,
        1,
        IDENTITY_REQUEST_SCHEMA,
        handle_identity_request,
        personal_data=False,
    )
    register_message_type(IDENTITY_TYPE, 1, IDENTITY_SCHEMA, handle_identity, personal_data=True)
    register_message_type(
        IDENTITY_REFUSAL_TYPE,
        1,
        IDENTITY_REFUSAL_SCHEMA,
        handle_identity_refusal,
        personal_data=False,
    )


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


_RATE_EVENTS = {
    "matching.query": "match_query_rate_limited",
    "matching.identityrequest": "match_identity_rate_limited",
}


def _over_daily_limit(model, user, limit: int, object_type: str, request) -> bool:
    """Has ``user`` sent ``limit`` of these (queries, identity requests) in the last day?
    If so, the refused attempt is a security event."""
    since = timezone.now() - timedelta(days=1)
    sent = model.objects.filter(
        direction=QueryDirection.OUT, asked_by=user, created_at__gte=since
    ).count()
    if sent < limit:
        return False
    audit_security_event(
        actor=user, event=_RATE_EVENTS[object_type], object_type=object_type, request=request
    )
    return True


def query_send(*, user, person: Person, to: str, request=None) -> MatchQuery:
    """Ask the peer whether it holds someone matching ``person`` (encodings only).

    The checks run before the sending transaction, so that the audit row of a refused
    attempt is kept."""
    permissions.require(user, "matching_query", permissions.CREATE, request=request)
    permissions.access(user, "person", Person.objects.all(), person.pk, request=request)
    to = to.upper()
    if _over_daily_limit(MatchQuery, user, USER_DAILY_LIMIT, "matching.query", request):
        raise QueryRefused(_("At most %(n)s match queries a day.") % {"n": USER_DAILY_LIMIT})
    return _query_send(user=user, person=person, to=to, request=request)


@transaction.atomic
def opaque_id() -> str:
    """A random id for a query, a handle or a request (24 URL-safe characters) that never
    begins with "-": an officer pastes it after ``--handle`` on the command line, where a
    leading "-" would be read as an option."""
    while (value := secrets.token_urlsafe(18)).startswith("-"):
        pass
    return value


def _query_send(*, user, person: Person, to: str, request=None) -> MatchQuery:
    from ctip.exchange.services import message_send

    key = current_key(to)
    if key is None:
        raise QueryRefused(
            _("No encoding key is agreed with %(peer)s yet (ctip match key-rotate).") % {"peer": to}
        )
    query = MatchQuery.objects.create(
        direction=QueryDirection.OUT,
        peer=to,
        query_id=opaque_id(),
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
                handle=opaque_id(),
                query=query,
                person=person,
                score=score,
                created_at=query.created_at,
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


# --- identity requests: resolving a handle under the consent rules -------------------------


def _query_of_handle(handle: str) -> MatchQuery | None:
    """The sent query whose answer held ``handle`` (answers are short lists)."""
    since = timezone.now() - HANDLE_LIFETIME
    for query in MatchQuery.objects.filter(
        direction=QueryDirection.OUT, answered_at__gte=since, person__isnull=False
    ).only("id", "peer", "answer", "person_id"):
        if any(c.get("handle") == handle for c in query.answer or ()):
            return query
    return None


def _asking_ref(person: Person) -> str:
    case = Case.objects.filter(person=person).order_by("closed_at", "-opened_at").first()
    return case.reference if case is not None else person.reference


def identity_request_send(*, user, handle: str, purpose: str, request=None) -> IdentityRequest:
    """Ask the node that issued ``handle`` for the identity behind it, for ``purpose``.

    Only a user who may see the asking person (the one the query was about) may ask; an
    unknown handle and a handle of a query the user may not see are the same "not found".
    The checks run before the sending transaction, so the audit rows of refusals stay."""
    permissions.require(user, "matching_query", permissions.CREATE, request=request)
    query = _query_of_handle(handle) if isinstance(handle, str) else None
    if query is None:
        raise permissions.deny(user, "matching_handle", permissions.VIEW, handle, request)
    person = permissions.access(
        user, "person", Person.objects.all(), query.person_id, request=request
    )
    if purpose not in IDENTITY_PURPOSES:
        raise QueryRefused(
            _("An identity may be asked for %(purposes)s only.")
            % {"purposes": ", ".join(IDENTITY_PURPOSES)}
        )
    if _over_daily_limit(
        IdentityRequest, user, IDENTITY_USER_DAILY_LIMIT, "matching.identityrequest", request
    ):
        raise QueryRefused(
            _("At most %(n)s identity requests a day.") % {"n": IDENTITY_USER_DAILY_LIMIT}
        )
    if IdentityRequest.objects.filter(
        direction=QueryDirection.OUT, handle=handle, outcome=IdentityOutcome.PENDING
    ).exists():
        raise QueryRefused(_("This identity was already asked for; the answer is awaited."))
    return _identity_request_send(
        user=user, query=query, person=person, handle=handle, purpose=purpose, request=request
    )


@transaction.atomic
def _identity_request_send(
    *, user, query: MatchQuery, person: Person, handle: str, purpose: str, request=None
) -> IdentityRequest:
    from ctip.exchange.errors import ExchangeError
    from ctip.exchange.services import message_send

    asked = IdentityRequest(
        direction=QueryDirection.OUT,
        peer=query.peer,
        request_id=opaque_id(),
        handle=handle,
        purpose=purpose,
        query=query,
        person=person,
        data_key=person.data_key,
        asked_by=user,
    )
    asked.full_clean()
    officer = {
        "name": (user.get_full_name() or user.username)[:200],
        "agency": user.agency.code if user.agency_id else "",
    }
    try:
        msg = message_send(
            actor=user,
            to=query.peer,
            msg_type=IDENTITY_REQUEST_TYPE,
            body={
                "request_id": asked.request_id,
                "handle": handle,
                "purpose": purpose,
                "asking_ref": _asking_ref(person),
                "officer": officer,
            },
            purpose=purpose,
            request=request,
        )
    except ExchangeError as exc:
        raise QueryRefused(str(exc)) from None
    asked.msg_id = str(msg.pk)
    asked.save(force_insert=True)
    audit_record(
        actor=user,
        action=Action.CREATE,
        obj=asked,
        details={
            "peer": query.peer,
            "handle": handle,
            "purpose": purpose,
            "person": str(person.pk),
        },
        request=request,
    )
    return asked


def _identity_of(person: Person, case: Case) -> dict:
    """The minimal identity (DP-3): names in the scripts held, sex, the birth range in
    whole years, nationality and this node's case reference."""
    from ctip.matching.services import person_birth

    birth = person_birth(person)
    identity = {
        "case_ref": case.reference,
        "sex": person.sex,
        "nationality": person.nationality or "",
        "born_from": birth.earliest.year if birth else None,
        "born_to": birth.latest.year if birth else None,
    }
    for field in ("name_km", "name_zh", "name_latin"):
        value = getattr(person, field)
        if value:
            identity[field] = value[:200]
    return identity


def _consenting_case(person: Person, peer: str, purpose: str):
    """(case, check) for the first of the person's unsealed cases whose consent covers the
    purpose with ``peer`` (open cases first), through the cases app's ``require_consent``;
    (None, the last refusal) when none does. A refusal is recorded on that case's timeline
    and as a ``consent_blocked`` security event, as for every blocked cross-border action."""
    from ctip.cases.consent import ALL_CATEGORIES, PURPOSE_CATEGORIES
    from ctip.cases.services import ConsentBlocked, _blocked, require_consent

    blocked = None
    cases = Case.objects.filter(person=person, sealed=False).order_by("closed_at", "-opened_at")
    for case in cases:
        try:
            check = require_consent(
                case=case,
                purpose=purpose,
                country=peer,
                categories=PURPOSE_CATEGORIES.get(purpose, ALL_CATEGORIES),
                action="matching:identity_answer",
            )
        except ConsentBlocked as exc:
            blocked = blocked or exc
            continue
        return case, check
    if blocked is not None:
        _blocked(None, blocked, None)
    return None, None


def _refuse_identity(
    message, incoming: IdentityRequest, code: str, reason: str, now
) -> IdentityRequest:
    from ctip.exchange.services import message_send

    incoming.outcome, incoming.refused, incoming.reason = IdentityOutcome.REFUSED, code, reason
    incoming.answered_at = now
    incoming.save()
    audit_security_event(
        actor=None,
        event=f"match_identity_{reason}",
        object_type="matching.identityrequest",
        object_id=str(incoming.pk),
        details={"peer": incoming.peer, "handle": incoming.handle[:40], "refused": code},
    )
    message_send(
        actor=None,
        to=message.sender,
        msg_type=IDENTITY_REFUSAL_TYPE,
        body={"request_id": incoming.request_id, "refused": code},
        in_reply_to=message.msg_id,
    )
    return incoming


def handle_identity_request(message) -> None:
    """Answer a peer's request for the identity behind one of our handles: the minimal
    identity when every rule allows it, otherwise a refusal code without any data."""
    import json

    from ctip.core.crypto import CryptoError
    from ctip.exchange.errors import ConsentRefused
    from ctip.exchange.services import message_send

    body, peer, now = message.body, message.sender, timezone.now()
    since = now - timedelta(days=1)
    recent = IdentityRequest.objects.filter(
        direction=QueryDirection.IN, peer=peer, created_at__gte=since
    ).count()
    incoming, created = IdentityRequest.objects.get_or_create(
        direction=QueryDirection.IN,
        peer=peer,
        request_id=body["request_id"],
        defaults={
            "handle": body["handle"],
            "purpose": body["purpose"],
            "officer": json.dumps(body["officer"], ensure_ascii=False, sort_keys=True),
        },
    )
    if not created:
        return
    audit_record(
        actor=None,
        action=Action.CREATE,
        obj=incoming,
        details={
            "peer": peer,
            "handle": body["handle"],
            "purpose": body["purpose"],
            "asking_ref": body["asking_ref"],
            "officer_agency": body["officer"]["agency"],
        },
    )
    if recent >= IDENTITY_PEER_DAILY_LIMIT:
        _refuse_identity(message, incoming, "rate_limited", "rate_limited", now)
        return
    if message.purpose != body["purpose"]:
        _refuse_identity(message, incoming, "bad_request", "purpose_mismatch", now)
        return
    handle = (
        MatchHandle.objects.filter(handle=body["handle"]).select_related("query", "person").first()
    )
    if handle is None:
        _refuse_identity(message, incoming, "unknown_handle", "unknown_handle", now)
        return
    if handle.query.direction != QueryDirection.IN or handle.query.peer != peer:
        # Issued to another peer: answered exactly like an unknown handle.
        _refuse_identity(message, incoming, "unknown_handle", "wrong_peer", now)
        return
    incoming.query, incoming.person = handle.query, handle.person
    if handle.created_at + HANDLE_LIFETIME < now:
        _refuse_identity(message, incoming, "expired", "expired", now)
        return
    person = handle.person
    if person.sealed:
        _refuse_identity(message, incoming, "not_disclosed", "sealed", now)
        return
    case, check = _consenting_case(person, peer, body["purpose"])
    if case is None:
        _refuse_identity(message, incoming, "not_disclosed", "no_consent", now)
        return
    try:
        identity = _identity_of(person, case)
    except CryptoError:  # crypto-shredded: nothing left to disclose
        _refuse_identity(message, incoming, "not_disclosed", "shredded", now)
        return
    try:  # the exchange's gate checks the consent again before anything is queued
        message_send(
            actor=None,
            to=peer,
            msg_type=IDENTITY_TYPE,
            body={"request_id": incoming.request_id, "identity": identity},
            case_ref=case.reference,
            purpose=body["purpose"],
            legal_basis=check.basis,
            consent_ref=check.reference,
            in_reply_to=message.msg_id,
        )
    except ConsentRefused:  # the exchange's own gate said no: same answer as ours
        _refuse_identity(message, incoming, "not_disclosed", "no_consent", now)
        return
    incoming.outcome, incoming.case_ref, incoming.answered_at = (
        IdentityOutcome.DISCLOSED,
        case.reference,
        now,
    )
    incoming.save()
    audit_record(
        actor=None,
        action=Action.EXPORT,
        obj=person,
        fields=[f for f in IDENTITY_FIELDS if f in identity or f == "birth_year"],  # no values
        details={
            "to": peer,
            "identity_request": str(incoming.pk),
            "handle": handle.handle,
            "purpose": body["purpose"],
            "case": case.reference,
            "legal_basis": check.basis,
            "consent_ref": check.reference,
        },
    )


def _reply_to(message) -> IdentityRequest:
    asked = (
        IdentityRequest.objects.select_for_update(of=("self",))
        .filter(
            direction=QueryDirection.OUT,
            peer=message.sender,
            request_id=message.body["request_id"],
        )
        .select_related("person")
        .first()
    )
    if (
        asked is None
        or asked.outcome != IdentityOutcome.PENDING
        or not message.in_reply_to
        or str(message.in_reply_to) != asked.msg_id
    ):
        audit_security_event(
            actor=None,
            event="match_identity_unexpected_answer",
            object_type="matching.identityrequest",
            object_id=str(asked.pk) if asked else "",
            details={"peer": message.sender, "type": message.msg_type},
        )
        raise UnknownIdentityRequest("no pending identity request of ours is answered here")
    return asked


def handle_identity(message) -> None:
    """The peer disclosed an identity: stored encrypted under the asking person's data key,
    bound to the purpose it was asked for (an answer for another purpose is refused)."""
    import json

    asked = _reply_to(message)
    if message.purpose != asked.purpose:
        audit_security_event(
            actor=None,
            event="match_identity_purpose_mismatch",
            object_type="matching.identityrequest",
            object_id=str(asked.pk),
            details={"peer": message.sender},
        )
        raise UnknownIdentityRequest("the answer names another purpose than the request")
    asked.identity = json.dumps(message.body["identity"], ensure_ascii=False, sort_keys=True)
    asked.outcome, asked.answered_at = IdentityOutcome.DISCLOSED, timezone.now()
    asked.save()
    audit_record(
        actor=None,
        action=Action.UPDATE,
        obj=asked,
        fields=["identity"],
        details={
            "peer": message.sender,
            "handle": asked.handle,
            "outcome": IdentityOutcome.DISCLOSED,
            "msg_id": message.msg_id,
        },
    )


def handle_identity_refusal(message) -> None:
    asked = _reply_to(message)
    asked.outcome, asked.refused = IdentityOutcome.REFUSED, message.body["refused"]
    asked.answered_at = timezone.now()
    asked.save()
    audit_record(
        actor=None,
        action=Action.UPDATE,
        obj=asked,
        details={
            "peer": message.sender,
            "handle": asked.handle,
            "outcome": IdentityOutcome.REFUSED,
            "refused": asked.refused,
            "msg_id": message.msg_id,
        },
    )


def identity_of(asked: IdentityRequest) -> dict:
    """The disclosed identity of a sent request ({} when none); callers audit the view."""
    import json

    if asked.direction != QueryDirection.OUT or not asked.identity:
        return {}
    return json.loads(asked.identity)


def identity_requests(*, user, person: Person | None = None) -> list[IdentityRequest]:
    """The sent identity requests about persons the user may see (of one person if given)."""
    if not permissions.can(user, "matching_query", permissions.VIEW):
        return []
    visible = permissions.scope(user, "person", Person.objects.all()).values("pk")
    qs = IdentityRequest.objects.filter(direction=QueryDirection.OUT, person__in=visible)
    if person is not None:
        qs = qs.filter(person=person)
    return list(qs.select_related("person", "asked_by"))


# --- retention: expired handles ------------------------------------------------------------


@transaction.atomic
def handles_purge(*, now: datetime | None = None) -> int:
    """Delete the handles this node issued that no longer resolve (older than
    ``CTIP_MATCH_HANDLE_DAYS``): each one links a peer's query to one of our persons, and
    an expired one serves nothing (DP-7). A request about a purged handle is then answered
    ``unknown_handle``, like any handle we never issued. One audit row with the count."""
    now = now or timezone.now()
    cutoff = now - HANDLE_LIFETIME
    _total, by_model = MatchHandle.objects.filter(created_at__lt=cutoff).delete()
    deleted = by_model.get(MatchHandle._meta.label, 0)
    audit_record(
        actor=None,
        action=Action.DELETE,
        object_type="matching.matchhandle",
        details={"deleted": deleted, "issued_before": cutoff.isoformat()},
    )
    return deleted
