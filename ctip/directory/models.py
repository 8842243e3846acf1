"""Directory: registered services (III.7), shelters and their minimum-standards
assessments (III.3), focal persons (III.4).

Entries describe organisations and officials, not victims. Each entry belongs to the
country (node) that registered it; the other node holds a read-only copy received through
the exchange. UUID primary keys identify an entry on both nodes.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Country
from ctip.directory.validators import (
    validate_country_codes,
    validate_language_codes,
    validate_phone,
    validate_text_list,
)


def localized(obj, field: str) -> str:
    """``obj.<field>_km`` / ``_zh_hans`` / ``_en`` in the active language, English fallback."""
    lang = (get_language() or "en").lower()
    if lang.startswith("km"):
        value = getattr(obj, f"{field}_km", "")
    elif lang.startswith("zh"):
        value = getattr(obj, f"{field}_zh_hans", "")
    else:
        value = ""
    return value or getattr(obj, f"{field}_en", "")


class ServiceType(models.TextChoices):
    SHELTER = "shelter", _("Shelter")
    MEDICAL = "medical", _("Medical care")
    LEGAL_AID = "legal_aid", _("Legal aid")
    PSYCHOSOCIAL = "psychosocial", _("Psychosocial support")
    FAMILY_TRACING = "family_tracing", _("Family tracing")
    VOCATIONAL_TRAINING = "vocational_training", _("Vocational training")
    FINANCIAL_SUPPORT = "financial_support", _("Financial support")
    INTERPRETATION = "interpretation", _("Interpretation")
    REPATRIATION_SUPPORT = "repatriation_support", _("Repatriation support")


class Sector(models.TextChoices):
    GOVERNMENT = "government", _("Government")
    NON_GOVERNMENT = "non_government", _("Non-government")
    INTERNATIONAL = "international", _("International organisation")


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("Registration pending")
    REGISTERED = "registered", _("Registered")
    SUSPENDED = "suspended", _("Suspended")
    EXPIRED = "expired", _("Registration expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DirectoryEntry(models.Model):
    """Fields every synchronised directory entry has."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The country (node) that owns the entry; only that node changes it.
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    published = models.BooleanField(
        _("published"),
        default=False,
        help_text=_("Published entries appear in the public directory, without sign-in."),
    )
    # Incremented on every change by the owning node; a received copy older than the one
    # held is ignored.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # Lower-cased names, places and descriptions in all three languages, for search.
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_local(self) -> bool:
        return self.country == getattr(settings, "CTIP_NODE", None)


class Service(DirectoryEntry):
    """A registered government or non-government service for victims (plan III.7)."""

    service_type = models.CharField(_("service type"), max_length=30, choices=ServiceType.choices)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    provider = models.ForeignKey(
        "accounts.Agency",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="directory_services",
    )

    name_en = models.CharField(_("name (English)"), max_length=200)
    name_km = models.CharField(_("name (Khmer)"), max_length=200, blank=True)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_km = models.TextField(_("description (Khmer)"), blank=True)
    description_zh_hans = models.TextField(_("description (Chinese)"), blank=True)

    # Who the service is for. An empty nationality list means any nationality.
    serves_women = models.BooleanField(_("serves women"), default=True)
    serves_men = models.BooleanField(_("serves men"), default=True)
    serves_children = models.BooleanField(_("serves children"), default=False)
    nationalities = models.JSONField(
        _("nationalities served"),
        default=list,
        blank=True,
        validators=[validate_country_codes],
        help_text=_("ISO country codes, e.g. KH, CN. Leave empty for any nationality."),
    )

    city = models.CharField(_("city or province"), max_length=100)
    coverage_areas = models.JSONField(
        _("coverage areas"),
        default=list,
        blank=True,
        validators=[validate_text_list],
        help_text=_("Provinces, cities or districts the service covers."),
    )
    languages = models.JSONField(
        _("languages"), default=list, blank=True, validators=[validate_language_codes]
    )

    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Beds or places in all.")
    )
    places_available = models.PositiveIntegerField(_("places available"), null=True, blank=True)
    availability_updated_at = models.DateTimeField(_("availability updated"), null=True, blank=True)

    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[validate_phone])
    hotline = models.CharField(_("hotline"), max_length=30, blank=True, validators=[validate_phone])
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    # The street address is for signed-in users only (a shelter's location is kept from
    # the public for the safety of the people it houses).
    address = models.TextField(_("address (not public)"), blank=True)

    registration_status = models.CharField(
        _("registration status"),
        max_length=20,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.PENDING,
    )
    registration_number = models.CharField(_("registration number"), max_length=60, blank=True)
    registration_authority = models.CharField(_("registered with"), max_length=200, blank=True)
    registered_on = models.DateField(_("registered on"), null=True, blank=True)
    renewal_due = models.DateField(_("registration renewal due"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["country", "service_type", "name_en"]
        indexes = [models.Index(fields=["published", "service_type", "country"])]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "registration_number"],
                condition=~models.Q(registration_number=""),
                name="service_unique_registration_number",
                violation_error_message=_(
                    "A service with this registration number is already registered."
                ),
            ),
            models.UniqueConstraint(
                fields=["provider", "service_type", "name_en"],
                name="service_unique_per_provider",
                violation_error_message=_(
                    "This provider already has a service of this type with this name."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(places_available__isnull=True)
                | models.Q(capacity__isnull=True)
                | models.Q(places_available__lte=models.F("capacity")),
                name="service_available_within_capacity",
                violation_error_message=_("Places available cannot exceed the capacity."),
            ),
            models.CheckConstraint(
                condition=models.Q(published=False) | models.Q(registration_status="registered"),
                name="service_published_only_if_registered",
                violation_error_message=_("Only a registered service can be published."),
            ),
        ]

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def description(self) -> str:
        return localized(self, "description")

    @property
    def is_shelter(self) -> bool:
        return self.service_type == ServiceType.SHELTER

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.provider_id and self.country and self.provider.country != self.country:
            errors.setdefault("provider", []).append(
                _("The provider must be an agency of the service's country.")
            )
        if (
            self.capacity is not None
            and self.places_available is not None
            and self.places_available > self.capacity
        ):
            errors.setdefault("places_available", []).append(
                _("Places available cannot exceed the capacity.")
            )
        if self.published and self.registration_status != RegistrationStatus.REGISTERED:
            errors.setdefault("published", []).append(
                _("Only a registered service can be published.")
            )
        if self.registration_status == RegistrationStatus.REGISTERED:
            if not self.registration_number:
                errors.setdefault("registration_number", []).append(
                    _("A registered service needs its registration number.")
                )
            if not self.renewal_due:
                errors.setdefault("renewal_due", []).append(
                    _("A registered service needs its renewal date.")
                )
        if self.registered_on and self.renewal_due and self.renewal_due <= self.registered_on:
            errors.setdefault("renewal_due", []).append(
                _("The renewal date must be after the registration date.")
            )
        if not (self.phone or self.hotline or self.email):
            errors.setdefault("phone", []).append(
                _("Give at least one way to reach the service: phone, hotline or email.")
            )
        if not (self.serves_women or self.serves_men or self.serves_children):
            errors.setdefault("serves_women", []).append(
                _("Say who the service is for: women, men or children.")
            )
        if errors:
            raise ValidationError(errors)
