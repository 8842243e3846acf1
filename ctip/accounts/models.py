"""Countries, agencies, users and their roles, API tokens and need-to-know grants."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Country(models.TextChoices):
    KH = "KH", _("Cambodia")
    CN = "CN", _("China")


class AgencyType(models.TextChoices):
    MINISTRY = "ministry", _("Ministry")
    POLICE = "police", _("Police")
    COURT = "court", _("Court")
    EMBASSY = "embassy", _("Embassy or consulate")
    SHELTER = "shelter", _("Shelter")
    NGO = "ngo", _("Non-government organisation")
    INTERNATIONAL = "international", _("International organisation")


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    SUPERVISOR = "supervisor", _("Supervisor")
    SHELTER_STAFF = "shelter_staff", _("Shelter staff")
    POLICE_FOCAL = "police_focal", _("Police focal officer")
    CONSULAR_FOCAL = "consular_focal", _("Consular focal person")
    ME_OFFICER = "me_officer", _("M&E officer")
    DATA_PROTECTION_OFFICER = "data_protection_officer", _("Data protection officer")
    NODE_ADMIN = "node_admin", _("Node administrator")
    DIRECTORY_EDITOR = "directory_editor", _("Directory editor")
    CIVIL_REGISTRAR = "civil_registrar", _("Civil registration officer")


class Agency(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_km = models.CharField(_("name (Khmer)"), max_length=200, blank=True)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=AgencyType.choices)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["country", "code"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language, falling back to English."""
        lang = (get_language() or "en").lower()
        if lang.startswith("km") and self.name_km:
            return self.name_km
        if lang.startswith("zh") and self.name_zh_hans:
            return self.name_zh_hans
        return self.name_en


class User(AbstractUser):
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT)
    preferred_language = models.CharField(max_length=10, default="en")
    # Raised by ``services.user_sessions_end`` (an administrator's kill, deactivation, a new
    # password, a role removed): every session signed before it stops at its next request.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["username"]

    # Django checks this hash on every request and ends the session when it differs (that
    # is how a new password signs out other browsers). The generation joins the password
    # in it, so ending a user's sessions needs neither the session store nor the password.
    def get_session_auth_hash(self) -> str:
        return self._ctip_session_hash(secret=None)

    def get_session_auth_fallback_hash(self):
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._ctip_session_hash(secret=fallback_secret)

    def _ctip_session_hash(self, *, secret: str | None) -> str:
        return salted_hmac(
            "ctip.accounts.User.session_auth_hash",
            f"{self.password}\x00{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def roles(self) -> frozenset[str]:
        cached = self.__dict__.get("_roles")
        if cached is None:
            cached = frozenset(self.role_assignments.values_list("role", flat=True))
            self.__dict__["_roles"] = cached
        return cached

    @property
    def country(self) -> str | None:
        return self.agency.country if self.agency_id else None


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=40, choices=Role.choices)
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.role}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """An API token. Only its SHA-256 is stored: a database dump does not hand out access."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token {self.prefix}… of user {self.user_id}"


class AccessGrant(models.Model):
    """Need-to-know: one named user may see one record outside their agency, for a time.

    Sealed records are visible only to users holding such a grant.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_grants")
    resource = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=300)
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["resource", "object_id"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("granted_at")),
                name="grant_expires_after_granted",
            )
        ]

    def __str__(self) -> str:
        return f"grant {self.resource}:{self.object_id} to {self.user_id}"
