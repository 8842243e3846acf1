"""Persons: someone recorded in the system. Their personal fields are encrypted at rest.

Screenings, cases, consent and the SOP workflow build on this model.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ctip.core.models import DataKeyField, EncryptedTextField


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class Person(models.Model):
    # Fields that are personal data: shown only to roles that may view personal data,
    # audited on every view, encrypted at rest.
    PII_FIELDS = (
        "name_km",
        "name_zh",
        "name_latin",
        "aliases",
        "document_number",
        "contact",
        "place_of_origin",
        "notes",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=24, unique=True)
    data_key = DataKeyField()
    owner_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT)
    sealed = models.BooleanField(_("sealed"), default=False)

    name_km = EncryptedTextField(_("name in Khmer script"))
    name_zh = EncryptedTextField(_("name in Chinese characters"))
    name_latin = EncryptedTextField(_("name in Latin letters"))
    aliases = EncryptedTextField(_("other names"))
    document_number = EncryptedTextField(_("document number"))
    contact = EncryptedTextField(_("contact"))
    place_of_origin = EncryptedTextField(_("place of origin"))
    notes = EncryptedTextField(_("notes"))
    # Keyed hashes of normalised name tokens and the document number, for exact search.
    search_tokens = models.TextField(blank=True, editable=False)

    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("birth month"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("birth day"), null=True, blank=True)
    age_estimate = models.PositiveSmallIntegerField(_("estimated age"), null=True, blank=True)
    nationality = models.CharField(_("nationality"), max_length=2, blank=True)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(birth_month__isnull=True)
                | models.Q(birth_month__gte=1, birth_month__lte=12),
                name="person_birth_month_range",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_day__isnull=True)
                | models.Q(birth_day__gte=1, birth_day__lte=31, birth_month__isnull=False),
                name="person_birth_day_needs_month",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_month__isnull=True) | models.Q(birth_year__isnull=False),
                name="person_birth_month_needs_year",
            ),
        ]

    def __str__(self) -> str:
        return self.reference  # never a name: str() ends up in logs and error pages

    @property
    def birth_display(self) -> str:
        if self.birth_year:
            parts = [f"{self.birth_year:04d}"]
            if self.birth_month:
                parts.append(f"{self.birth_month:02d}")
                if self.birth_day:
                    parts.append(f"{self.birth_day:02d}")
            return "-".join(parts)
        if self.age_estimate is not None:
            return _("about %(age)s years") % {"age": self.age_estimate}
        return ""
