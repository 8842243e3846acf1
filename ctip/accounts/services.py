"""Writes of accounts: users, roles, agencies, API tokens, two-factor devices, grants, sessions."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from ctip.accounts.models import (
    AccessGrant,
    Agency,
    ApiToken,
    Role,
    RoleAssignment,
    User,
    hash_token,
)
from ctip.audit.models import Action
from ctip.audit.services import audit_record, audit_security_event


@dataclass(frozen=True)
class AgencyInput:
    code: str
    name_en: str
    type: str
    country: str
    name_km: str = ""
    name_zh_hans: str = ""
    parent_code: str | None = None


@transaction.atomic
def agency_upsert(*, actor, data: AgencyInput) -> Agency:
    parent = Agency.objects.get(code=data.parent_code) if data.parent_code else None
    agency = Agency.objects.filter(code=data.code).first()
    action = Action.UPDATE if agency else Action.CREATE
    agency = agency or Agency(code=data.code)
    for name in ("name_en", "name_km", "name_zh_hans", "type", "country"):
        setattr(agency, name, getattr(data, name))
    agency.parent = parent
    agency.full_clean()
    agency.save()
    audit_record(actor=actor, action=action, obj=agency, details={"code": agency.code})
    return agency


@dataclass(frozen=True)
class NewUser:
    user: User
    password: str
    totp_secret: str | None  # base32, for any authenticator app
    totp_uri: str | None


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    agency: Agency,
    roles: list[str],
    password: str | None = None,
    with_totp: bool = True,
    language: str = "en",
) -> NewUser:
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))}")
    password = password or secrets.token_urlsafe(12)
    user = User(username=username, agency=agency, preferred_language=language)
    user.set_password(password)
    user.full_clean()
    user.save()
    for role in roles:
        RoleAssignment.objects.create(user=user, role=role)
    secret = uri = None
    if with_totp:
        device = TOTPDevice(user=user, name="authenticator", confirmed=True)
        device.save()
        secret = base64.b32encode(device.bin_key).decode().rstrip("=")
        uri = device.config_url
    audit_record(
        actor=actor,
        action=Action.CREATE,
        obj=user,
        details={"roles": sorted(roles), "agency": agency.code, "two_factor": with_totp},
    )
    return NewUser(user, password, secret, uri)


@transaction.atomic
def token_create(*, actor, user: User) -> str:
    """Issue an API token; the raw value is returned once and only its hash is kept."""
    raw = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, prefix=raw[:8], key_hash=hash_token(raw))
    audit_record(
        actor=actor, action=Action.CREATE, object_type="accounts.apitoken", object_id=str(user.pk)
    )
    return raw


@transaction.atomic
def grant_access(
    *, actor, user: User, resource: str, object_id: str, reason: str, days: int = 30
) -> AccessGrant:
    if not reason.strip():
        raise ValueError("a need-to-know grant needs a reason")
    now = timezone.now()
    grant = AccessGrant.objects.create(
        user=user,
        resource=resource,
        object_id=str(object_id),
        reason=reason,
        granted_by=actor,
        granted_at=now,
        expires_at=now + timedelta(days=days),
    )
    audit_record(
        actor=actor,
        action=Action.CREATE,
        obj=grant,
        details={"resource": resource, "object_id": str(object_id), "grantee": user.pk},
    )
    return grant


# --- Ending sessions (SECURITY.md #31) ---------------------------------------------------

DB_SESSIONS = "django.contrib.sessions.backends.db"


class SessionEndReason:
    """Why a user's sessions were ended (a code in the audit row, never free text)."""

    ADMINISTRATOR = "administrator"
    DEACTIVATED = "deactivated"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason code, not a password
    ROLE_REMOVED = "role_removed"


def stored_sessions() -> dict[str, list[str]] | None:
    """Unexpired sessions in the database session store, by user id: ``{"12": [key, ...]}``.
    ``None`` when sessions are kept elsewhere (then they cannot be counted, but ending them
    still works: see ``User.get_session_auth_hash``)."""
    if settings.SESSION_ENGINE != DB_SESSIONS:
        return None
    from django.contrib.sessions.models import Session

    found: dict[str, list[str]] = {}
    # A node has tens to a few hundred open sessions: decoding them all is cheap.
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        user_id = session.get_decoded().get(SESSION_KEY)
        if user_id is not None:
            found.setdefault(str(user_id), []).append(session.session_key)
    return found


@transaction.atomic
def user_sessions_end(
    *, actor, user: User, reason: str = SessionEndReason.ADMINISTRATOR, request=None
) -> int:
    """End every session of ``user`` at once: each one is signed out at its next request,
    whatever the session store, and the stored ones are deleted now. Returns how many stored
    sessions were deleted. API tokens are not sessions: they stop with deactivation or when
    revoked."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    keys = (stored_sessions() or {}).get(str(user.pk), [])
    if keys:
        from django.contrib.sessions.models import Session

        Session.objects.filter(session_key__in=keys).delete()
    audit_security_event(
        actor=actor,
        event="sessions_ended",
        object_type="accounts.user",
        object_id=str(user.pk),
        details={"reason": reason, "sessions": len(keys)},
        request=request,
    )
    return len(keys)


@transaction.atomic
def user_set_active(*, actor, user: User, active: bool, request=None) -> User:
    """Deactivate (sessions end at once; API tokens stop answering) or reactivate a user."""
    user.is_active = active
    user.full_clean()
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        obj=user,
        fields=["is_active"],
        details={"is_active": active},
        request=request,
    )
    if not active:
        user_sessions_end(
            actor=actor, user=user, reason=SessionEndReason.DEACTIVATED, request=request
        )
    return user


@transaction.atomic
def user_set_password(*, actor, user: User, password: str, request=None) -> User:
    """A new password (checked by the password validators); every session of the user ends.
    Raises ``ValidationError`` on ``password``. The password is never audited or logged."""
    from django.core.exceptions import ValidationError

    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, action=Action.UPDATE, obj=user, fields=["password"], request=request)
    user_sessions_end(
        actor=actor, user=user, reason=SessionEndReason.PASSWORD_CHANGED, request=request
    )
    return user


@transaction.atomic
def role_remove(*, actor, user: User, role: str, request=None) -> None:
    """Take a role away; every session of the user ends (a session keeps no right it had).
    Raises ``ValueError`` if the user does not hold the role."""
    deleted, _ = RoleAssignment.objects.filter(user=user, role=role).delete()
    if not deleted:
        raise ValueError(f"the user does not hold the role {role!r}")
    user.__dict__.pop("_roles", None)
    audit_record(
        actor=actor,
        action=Action.DELETE,
        object_type="accounts.roleassignment",
        object_id=str(user.pk),
        details={"role": role},
        request=request,
    )
    user_sessions_end(actor=actor, user=user, reason=SessionEndReason.ROLE_REMOVED, request=request)


# --- Lifting a sign-in lock (SECURITY.md #30) ---------------------------------------------


@transaction.atomic
def user_unlock(*, actor, user: User, request=None) -> bool:
    """Lift the sign-in lock of ``user`` now (django-axes): the failed sign-ins counted
    against the account are forgotten, and the right password works at once. Returns
    whether the account was locked. Audited as a security event (``account_unlocked``,
    with how many failures were counted) when there was anything to forget."""
    from axes.utils import reset

    from ctip.accounts.lockout import lock_state, name_token

    state = lock_state(user.username)
    forgotten = reset(username=name_token(user.username))
    if forgotten:
        audit_security_event(
            actor=actor,
            event="account_unlocked",
            object_type="accounts.user",
            object_id=str(user.pk),
            details={"was_locked": state.locked, "failures": state.failures},
            request=request,
        )
    return state.locked
