"""Writes of persons. Each runs in one transaction with its audit row."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from ctip.accounts import permissions
from ctip.accounts.services import grant_access
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.cases.models import Person
from ctip.core.crypto import index_token, normalise_for_index


@dataclass(frozen=True)
class PersonInput:
    name_km: str = ""
    name_zh: str = ""
    name_latin: str = ""
    aliases: str = ""
    document_number: str = ""
    contact: str = ""
    place_of_origin: str = ""
    notes: str = ""
    sex: str = "unknown"
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    age_estimate: int | None = None
    nationality: str = ""


def new_reference() -> str:
    return f"{settings.CTIP_NODE}-P-{secrets.token_hex(4).upper()}"


def person_search_tokens(person: Person) -> str:
    words: set[str] = set()
    for value in (person.name_km, person.name_zh, person.name_latin, person.aliases):
        words.update(normalise_for_index(value or "").replace(",", " ").split())
    tokens = {index_token(w, "person.name") for w in words}
    if person.document_number:
        tokens.add(index_token(person.document_number.replace(" ", ""), "person.name"))
    return " " + " ".join(sorted(tokens)) + " " if tokens else ""


@transaction.atomic
def person_create(*, user, data: PersonInput, request=None) -> Person:
    permissions.require(user, "person", permissions.CREATE, request=request)
    person = Person(
        reference=new_reference(),
        owner_agency=user.agency,
        created_by=user,
        **{
            k: (v if v != "" else None) if k in Person.PII_FIELDS else v
            for k, v in vars(data).items()
        },
    )
    person.search_tokens = person_search_tokens(person)
    person.full_clean()
    person.save(force_insert=True)
    filled = [f for f in Person.PII_FIELDS if getattr(person, f)]
    audit_record(actor=user, action=Action.CREATE, obj=person, fields=filled, request=request)
    return person


@transaction.atomic
def person_set_sealed(
    *, user, person: Person, sealed: bool, reason: str, named_users=(), request=None
) -> Person:
    """Seal (or unseal) a record. A sealed record is visible only to the named users,
    who receive need-to-know grants; the sealing user is always one of them."""
    permissions.require(user, "person", permissions.SEAL, request=request)
    if sealed and not reason.strip():
        raise ValueError("sealing a record needs a reason")
    if sealed:
        for named in {user, *named_users}:
            grant_access(
                actor=user,
                user=named,
                resource="person",
                object_id=str(person.pk),
                reason=reason,
                days=365,
            )
    person.sealed = sealed
    person.full_clean()
    person.save(update_fields=["sealed"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        obj=person,
        fields=["sealed"],
        details={"sealed": sealed, "reason_given": bool(reason)},
        request=request,
    )
    return person
