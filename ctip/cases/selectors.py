"""Reads of persons, always through the acting user's permissions."""

from __future__ import annotations

from django.db.models import QuerySet

from ctip.accounts import permissions
from ctip.cases.models import Person
from ctip.core.crypto import index_token


def person_list(*, user, query: str = "") -> QuerySet[Person]:
    qs = permissions.scope(
        user, "person", Person.objects.select_related("owner_agency", "data_key")
    )
    if query:
        if not permissions.sees_pii(user):
            # Searching by name is itself a use of personal data.
            return qs.none()
        for token in person_query_tokens(query):
            qs = qs.filter(search_tokens__contains=f" {token} ")
    return qs


def access_person(user, pk, *, action: str = permissions.VIEW, request=None) -> Person:
    return permissions.access(
        user,
        "person",
        Person.objects.select_related("owner_agency", "data_key"),
        pk,
        action,
        request=request,
    )


def person_query_tokens(query: str) -> list[str]:
    return [index_token(word, "person.name") for word in query.split()]
