"""Writes of accounts: users, roles, agencies, API tokens, two-factor devices, grants."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
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
from ctip.audit.services import audit_record


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
