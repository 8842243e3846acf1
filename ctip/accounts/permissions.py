"""The one place that decides who may see or change what.

Two parts, both plain data plus a few functions:

* **Capabilities**: what each role may do with each resource (``CAPABILITIES``), including
  the pseudo-resource ``pii``: a role without ``("pii", "view")`` sees no personal fields.
* **Object rules** (``scope``): a record is visible to users of its owning agency, and to
  named users holding an unexpired need-to-know grant; a *sealed* record only to the latter.

Views, API endpoints and services call ``require``/``access``/``scope``. Forbidden and
missing are the same answer (``NotFound``), and every denial is logged as a security event,
which outlives the rollback of the transaction it was refused in (``deny``).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from ctip.accounts.models import AccessGrant, Role

security_log = logging.getLogger("ctip.security")

VIEW, CREATE, CHANGE, DELETE, SEAL = "view", "create", "change", "delete", "seal"

_PII = {"pii": {VIEW}}

CAPABILITIES: dict[str, dict[str, set[str]]] = {
    Role.CASEWORKER: {"person": {VIEW, CREATE, CHANGE}, **_PII},
    Role.SUPERVISOR: {"person": {VIEW, CREATE, CHANGE, SEAL}, "grant": {CREATE}, **_PII},
    Role.SHELTER_STAFF: {"person": {VIEW}, **_PII},
    Role.POLICE_FOCAL: {"person": {VIEW}, **_PII},
    Role.CONSULAR_FOCAL: {"person": {VIEW}, **_PII},
    # M&E works on aggregates only (do-no-harm rule DP-4).
    Role.ME_OFFICER: {"statistics": {VIEW}},
    # The DPO reviews who did what; they see that records exist, not what they say.
    Role.DATA_PROTECTION_OFFICER: {"audit": {VIEW}, "person": {VIEW}},
    Role.NODE_ADMIN: {"user": {VIEW, CREATE, CHANGE}, "agency": {VIEW, CREATE, CHANGE}},
}


def register(resource: str, grants: dict[str, set[str]]) -> None:
    """Domain apps declare their resources here (from ``AppConfig.ready``):
    ``register("shelter", {Role.SHELTER_STAFF: {VIEW, CHANGE}, Role.CASEWORKER: {VIEW}})``.
    Registering the same resource twice merges the actions."""
    for role, actions in grants.items():
        if role not in Role.values:
            raise ValueError(f"unknown role {role!r} for resource {resource!r}")
        CAPABILITIES.setdefault(role, {}).setdefault(resource, set()).update(actions)


# Roles that see personal data, and the node administrator, must use two-factor sign-in.
# Directory editors change what the public page shows, so they too. (Today every role is
# here: a new role without the second factor must be a decision, written down.)
TWO_FACTOR_ROLES = {role for role, caps in CAPABILITIES.items() if "pii" in caps} | {
    Role.NODE_ADMIN,
    Role.DIRECTORY_EDITOR,
    Role.CIVIL_REGISTRAR,  # reads holders' names and numbers on certificates
    # Sees no victim's data, but manages trainings: participants' names, positions and
    # contacts of officials, and the certificates issued to them (SECURITY.md #29).
    Role.ME_OFFICER,
    # Reads the whole audit log (who opened which record, from which address, failed
    # sign-ins and locks) and reviews break-glass grants and consent overrides.
    Role.DATA_PROTECTION_OFFICER,
}


class NotFound(Http404):
    """Raised for both "does not exist" and "you may not see it"."""


def roles_of(user) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    return user.roles


def can(user, resource: str, action: str) -> bool:
    return any(action in CAPABILITIES.get(role, {}).get(resource, ()) for role in roles_of(user))


def sees_pii(user) -> bool:
    return can(user, "pii", VIEW)


def needs_two_factor(user) -> bool:
    return bool(roles_of(user) & TWO_FACTOR_ROLES)


WELL_FORMED_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def loggable_id(value: object) -> str:
    """An id the client sent, fit for the audit log: kept when it looks like an id, else
    "(malformed)" (it may be anything: a NUL byte, a megabyte, or a person's name)."""
    text = "" if value is None else str(value)
    return text if not text or WELL_FORMED_ID.fullmatch(text) else "(malformed)"


def deny(user, resource: str, action: str, object_id: object = None, request=None) -> NotFound:
    """Log the denial as a security event and return the exception to raise.

    Called inside a service's transaction, the exception raised next rolls it back: the
    event outlives that rollback (written again after it, once; ``ctip.audit.refusals``),
    so a denial through a service leaves its trace as one through a view does."""
    from ctip.audit.services import audit_security_event

    audit_security_event(
        actor=user if getattr(user, "is_authenticated", False) else None,
        event="access_denied",
        object_type=resource,
        object_id=loggable_id(object_id),
        details={"action": action},
        request=request,
        outlives_rollback=True,
    )
    security_log.info(
        "access denied user=%s resource=%s action=%s",
        getattr(user, "pk", None),
        resource,
        action,
    )
    return NotFound()


def require(user, resource: str, action: str, request=None) -> None:
    """Function-level check: the user's roles allow ``action`` on ``resource``."""
    if not can(user, resource, action):
        raise deny(user, resource, action, request=request)


def granted_ids(user, resource: str) -> QuerySet:
    return AccessGrant.objects.filter(
        user=user, resource=resource, expires_at__gt=timezone.now()
    ).values("object_id")


def scope(user, resource: str, queryset: QuerySet, action: str = VIEW) -> QuerySet:
    """Object-level rule: own agency (unless sealed) or an explicit need-to-know grant.

    The model must have ``owner_agency`` and ``sealed`` fields and a primary key that is
    compared by its string form in grants.
    """
    if not can(user, resource, action):
        return queryset.none()
    granted = Q(pk__in=[g["object_id"] for g in granted_ids(user, resource)])
    own = Q(owner_agency_id=user.agency_id, sealed=False) if user.agency_id else Q(pk__in=[])
    return queryset.filter(own | granted)


def access(user, resource: str, queryset: QuerySet, pk: object, action: str = VIEW, request=None):
    """Return the one object the user may ``action``, or raise NotFound (and log it)."""
    try:
        return scope(user, resource, queryset, action).get(pk=pk)
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
        # A malformed id is answered like a missing one.
        raise deny(user, resource, action, object_id=pk, request=request) from None


def visible_fields(user, all_fields: Iterable[str], pii_fields: Iterable[str]) -> list[str]:
    """Field-level rule: personal fields only for roles that may view personal data."""
    pii = set(pii_fields)
    return [f for f in all_fields if f not in pii or sees_pii(user)]


# --- Declared permissions on views (checked by the deny-by-default test) -----------------


def permission(resource: str, action: str):
    """Declare, and enforce, the capability a view needs."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            require(request.user, resource, action, request=request)
            return view(request, *args, **kwargs)

        wrapped.ctip_permission = (resource, action)
        return wrapped

    return decorate


def signed_in(view):
    """Declare a view open to every signed-in user (it shows only the user's own things)."""
    from django.contrib.auth.decorators import login_required

    wrapped = login_required(view)
    wrapped.ctip_permission = ("signed_in", None)
    return wrapped


def public(view):
    """Declare a view open to everyone, signed in or not."""
    view.ctip_permission = ("public", None)
    return view
