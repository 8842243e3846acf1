"""Reads of accounts for the node administrator's pages (they take the acting user)."""

from __future__ import annotations

from django.db.models import QuerySet

from ctip.accounts import permissions
from ctip.accounts.models import User


def user_list(*, user) -> QuerySet[User]:
    """Every account of the node, for a role that may view users (else none)."""
    if not permissions.can(user, "user", permissions.VIEW):
        return User.objects.none()
    return User.objects.select_related("agency").prefetch_related("role_assignments")


def access_user(user, pk: object, *, action: str = permissions.VIEW, request=None) -> User:
    """One account the acting user may ``action``, or ``NotFound`` (logged) for a missing
    and a forbidden one alike."""
    if permissions.can(user, "user", action):
        try:
            return User.objects.select_related("agency").get(pk=pk)
        except (User.DoesNotExist, ValueError, TypeError):
            pass
    raise permissions.deny(user, "user", action, object_id=pk, request=request)
