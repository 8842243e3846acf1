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
    LANGUAGE_LEVELS,
    validate_country_code,
    validate_country_codes,
    validate_language_codes,
    validate_language_levels,
    validate_phone,
    validate_telegram,
    validate_text_list,
    validate_wechat,
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


def names_in_scripts(obj, field: str = "name") -> list[tuple[str, str]]:
    """(HTML lang, text) of the entry's name in each script it has, the active one first."""
    current = localized(obj, field)
    items = [
        (lang, getattr(obj, f"{field}_{suffix}"))
        for lang, suffix in (("km", "km"), ("zh-Hans", "zh_hans"), ("en", "en"))
        if getattr(obj, f"{field}_{suffix}")
    ]
    return sorted(items, key=lambda item: item[1] != current)


def language_names(codes) -> list[str]:
    from ctip.directory.codes import language_name

    return [language_name(code) for code in codes]


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

    @property
    def names(self) -> list[tuple[str, str]]:
        return names_in_scripts(self)

    @property
    def language_labels(self) -> list[str]:
        return language_names(self.languages)

    @property
    def serves_labels(self) -> list[str]:
        return [
            str(label)
            for flag, label in (
                (self.serves_women, _("women")),
                (self.serves_men, _("men")),
                (self.serves_children, _("children")),
            )
            if flag
        ]

    @property
    def registration_overdue(self) -> bool:
        return bool(self.renewal_due and self.renewal_due < timezone.localdate())

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
        others = Service.objects.exclude(pk=self.pk)
        if (
            self.registration_number
            and others.filter(
                country=self.country, registration_number=self.registration_number
            ).exists()
        ):
            errors.setdefault("registration_number", []).append(
                _("A service with this registration number is already registered.")
            )
        if (
            self.provider_id
            and others.filter(
                provider_id=self.provider_id,
                service_type=self.service_type,
                name_en=self.name_en,
            ).exists()
        ):
            errors.setdefault("name_en", []).append(
                _("This provider already has a service of this type with this name.")
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


# --- Shelters and minimum standards (plan III.3) ------------------------------------------


class StandardsChecklist(models.Model):
    """One version of a minimum-standards checklist, loaded from a data file in
    ``ctip/directory/standards/``. A loaded version never changes: a changed file is a new
    version (its digest is kept to refuse silent edits)."""

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    title_en = models.CharField(_("title (English)"), max_length=300)
    title_km = models.CharField(_("title (Khmer)"), max_length=300, blank=True)
    title_zh_hans = models.CharField(_("title (Chinese)"), max_length=300, blank=True)
    source = models.TextField(_("source"), blank=True)
    pass_mark = models.PositiveSmallIntegerField(_("pass mark"))
    scale_labels = models.JSONField(_("scale labels"), default=dict)
    digest = models.CharField(max_length=64, editable=False)
    loaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="checklist_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def title(self) -> str:
        return localized(self, "title")

    def scale_label(self, score: int | None) -> str:
        if score is None:
            return str(_("not applicable"))
        labels = self.scale_labels.get(str(score)) or {}
        lang = (get_language() or "en").lower()
        key = "km" if lang.startswith("km") else "zh_hans" if lang.startswith("zh") else "en"
        return labels.get(key) or labels.get("en") or str(score)


class Standard(models.Model):
    """One standard of a checklist, with its own score scale."""

    checklist = models.ForeignKey(
        StandardsChecklist, on_delete=models.CASCADE, related_name="standards"
    )
    code = models.CharField(_("code"), max_length=12)
    order = models.PositiveSmallIntegerField(default=0)
    area_code = models.CharField(max_length=40)
    area_en = models.CharField(max_length=200)
    area_km = models.CharField(max_length=200, blank=True)
    area_zh_hans = models.CharField(max_length=200, blank=True)
    title_en = models.CharField(max_length=300)
    title_km = models.CharField(max_length=300, blank=True)
    title_zh_hans = models.CharField(max_length=300, blank=True)
    guidance_en = models.TextField(blank=True)
    guidance_km = models.TextField(blank=True)
    guidance_zh_hans = models.TextField(blank=True)
    # A critical standard below the pass mark means the shelter does not meet the minimum.
    critical = models.BooleanField(default=False)
    scale_min = models.PositiveSmallIntegerField(default=0)
    scale_max = models.PositiveSmallIntegerField(default=3)
    # Standards that may not apply to every shelter (e.g. children's education in a shelter
    # for adults) can be marked "not applicable" in an assessment.
    may_be_not_applicable = models.BooleanField(default=False)

    class Meta:
        ordering = ["checklist", "order"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "code"], name="standard_unique_code"),
            models.CheckConstraint(
                condition=models.Q(scale_max__gt=models.F("scale_min")),
                name="standard_scale_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title_en}"

    @property
    def title(self) -> str:
        return localized(self, "title")

    @property
    def area(self) -> str:
        return localized(self, "area")

    @property
    def guidance(self) -> str:
        return localized(self, "guidance")


class Compliance(models.TextChoices):
    MEETS = "meets", _("Meets the minimum standards")
    PARTLY = "partly", _("Partly meets the minimum standards")
    DOES_NOT_MEET = "does_not_meet", _("Does not meet the minimum standards")


class ShelterAssessment(models.Model):
    """An assessment of one shelter against one checklist version, on one day. Recorded
    whole and not edited afterwards: a later visit is a new assessment (the history)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service = models.ForeignKey(
        Service,
        verbose_name=_("shelter"),
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    checklist = models.ForeignKey(
        StandardsChecklist, verbose_name=_("checklist"), on_delete=models.PROTECT
    )
    assessed_on = models.DateField(_("assessed on"))
    assessing_agency = models.ForeignKey(
        "accounts.Agency",
        verbose_name=_("assessing agency"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    team = models.CharField(
        _("assessment team"),
        max_length=300,
        blank=True,
        help_text=_("Posts or offices of the assessors."),
    )
    summary = models.TextField(
        _("summary"), blank=True, help_text=_("Do not write residents' names or details.")
    )
    next_assessment_due = models.DateField(_("next assessment due"), null=True, blank=True)
    compliance = models.CharField(
        _("result"), max_length=20, choices=Compliance.choices, editable=False
    )
    score_total = models.PositiveIntegerField(default=0, editable=False)
    score_max = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-assessed_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "checklist", "assessed_on"],
                name="assessment_one_per_shelter_checklist_day",
                violation_error_message=_(
                    "This shelter already has an assessment against this checklist on that day."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(next_assessment_due__isnull=True)
                | models.Q(next_assessment_due__gt=models.F("assessed_on")),
                name="assessment_next_after_this",
                violation_error_message=_("The next assessment must be after this one."),
            ),
        ]

    def __str__(self) -> str:
        return f"assessment {self.pk}"

    @property
    def percent(self) -> int | None:
        return round(100 * self.score_total / self.score_max) if self.score_max else None

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.service_id and not self.service.is_shelter:
            errors["service"] = [_("Only shelters are assessed against minimum standards.")]
        if self.assessed_on and self.assessed_on > timezone.localdate():
            errors["assessed_on"] = [_("An assessment cannot be dated in the future.")]
        elif (
            self.service_id
            and self.checklist_id
            and ShelterAssessment.objects.filter(
                service_id=self.service_id,
                checklist_id=self.checklist_id,
                assessed_on=self.assessed_on,
            )
            .exclude(pk=self.pk)
            .exists()
        ):
            errors["assessed_on"] = [
                _("This shelter already has an assessment against this checklist on that day.")
            ]
        if errors:
            raise ValidationError(errors)


class AssessmentScore(models.Model):
    assessment = models.ForeignKey(
        ShelterAssessment, on_delete=models.CASCADE, related_name="scores"
    )
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    evidence = models.TextField(
        _("evidence"),
        blank=True,
        help_text=_("What was seen, read or heard. Do not write residents' names."),
    )

    class Meta:
        ordering = ["standard__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "standard"], name="score_one_per_standard"
            ),
            models.CheckConstraint(
                condition=models.Q(not_applicable=True, score__isnull=True)
                | models.Q(not_applicable=False, score__isnull=False),
                name="score_given_unless_not_applicable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.standard_id}: {self.score}"

    def clean(self) -> None:
        standard = self.standard
        if self.not_applicable:
            if not standard.may_be_not_applicable:
                raise ValidationError(
                    {"not_applicable": _("This standard applies to every shelter.")}
                )
            if self.score is not None:
                raise ValidationError(
                    {"score": _("A standard marked not applicable has no score.")}
                )
            return
        if self.score is None:
            raise ValidationError({"score": _("Give a score.")})
        if not standard.scale_min <= self.score <= standard.scale_max:
            raise ValidationError(
                {
                    "score": _("The score must be between %(min)s and %(max)s for this standard.")
                    % {"min": standard.scale_min, "max": standard.scale_max}
                }
            )

    @property
    def label(self) -> str:
        return self.assessment.checklist.scale_label(self.score)

    @property
    def below_pass_mark(self) -> bool:
        return self.score is not None and self.score < self.assessment.checklist.pass_mark


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class FollowUpAction(models.Model):
    """Something a shelter must do after an assessment, by a due date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(
        ShelterAssessment, on_delete=models.PROTECT, related_name="follow_ups"
    )
    standard = models.ForeignKey(
        Standard,
        verbose_name=_("standard"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.TextField(_("action"))
    responsible = models.CharField(_("responsible"), max_length=200)
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=20, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["status", "due_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", completed_on__isnull=True)
                | models.Q(status__in=["done", "cancelled"], completed_on__isnull=False),
                name="follow_up_closed_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"follow-up {self.pk}"

    @property
    def is_overdue(self) -> bool:
        return self.status == FollowUpStatus.OPEN and self.due_on < timezone.localdate()

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.assessment_id and self.due_on and self.due_on <= self.assessment.assessed_on:
            errors["due_on"] = [_("The due date must be after the assessment.")]
        if (
            self.standard_id
            and self.assessment_id
            and self.standard.checklist_id != self.assessment.checklist_id
        ):
            errors["standard"] = [_("Choose a standard of the assessment's checklist.")]
        if self.status != FollowUpStatus.OPEN:
            if not self.completed_on:
                errors["completed_on"] = [_("Give the date it was closed.")]
            elif self.assessment_id and self.completed_on < self.assessment.assessed_on:
                errors["completed_on"] = [_("It cannot be closed before the assessment.")]
            elif self.completed_on > timezone.localdate():
                errors["completed_on"] = [_("The date cannot be in the future.")]
            if not self.outcome.strip():
                errors["outcome"] = [_("Say what was done, or why it was cancelled.")]
        if errors:
            raise ValidationError(errors)


# --- Focal persons (plan III.4) -----------------------------------------------------------


class PostType(models.TextChoices):
    MINISTRY = "ministry", _("Ministry")
    EMBASSY = "embassy", _("Embassy")
    CONSULATE = "consulate", _("Consulate")
    POLICE = "police", _("Police")
    BORDER_LIAISON = "border_liaison", _("Border liaison office")
    PROVINCIAL = "provincial", _("Provincial office")
    OTHER = "other", _("Other")


class Responsibility(models.TextChoices):
    IDENTIFICATION = "identification", _("Victim identification")
    PROTECTION = "protection", _("Victim protection and shelter")
    NATIONALITY_VERIFICATION = "nationality_verification", _("Nationality verification")
    TRAVEL_DOCUMENTS = "travel_documents", _("Travel documents")
    REPATRIATION = "repatriation", _("Repatriation and handover")
    REINTEGRATION = "reintegration", _("Reintegration")
    LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement cooperation")
    PREVENTION = "prevention", _("Prevention")


class LanguageLevel(models.TextChoices):
    NATIVE = "native", _("native")
    FLUENT = "fluent", _("fluent")
    WORKING = "working", _("working")
    BASIC = "basic", _("basic")


assert tuple(LanguageLevel.values) == LANGUAGE_LEVELS  # noqa: S101 - one list, two places


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    MOBILE = "mobile", _("Mobile")
    EMAIL = "email", _("Email")
    WECHAT = "wechat", _("WeChat")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")


def validate_responsibilities(value) -> None:
    if not isinstance(value, list) or any(v not in Responsibility.values for v in value):
        raise ValidationError(_("Unknown responsibility."), code="invalid_responsibility")


class FocalPerson(DirectoryEntry):
    """A named official appointed as focal person (plan III.4). Their work contact details
    are public by design once published; an unpublished entry is seen only by signed-in
    users of the directory."""

    agency = models.ForeignKey(
        "accounts.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="focal_persons",
    )
    name_en = models.CharField(_("name (Latin letters)"), max_length=200)
    name_km = models.CharField(_("name (Khmer)"), max_length=200, blank=True)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("position (English)"), max_length=200)
    title_km = models.CharField(_("position (Khmer)"), max_length=200, blank=True)
    title_zh_hans = models.CharField(_("position (Chinese)"), max_length=200, blank=True)

    post_type = models.CharField(_("post"), max_length=20, choices=PostType.choices)
    post_city = models.CharField(_("city"), max_length=100)
    post_country = models.CharField(
        _("country of the post"), max_length=2, validators=[validate_country_code]
    )
    responsibilities = models.JSONField(
        _("responsibilities"), default=list, blank=True, validators=[validate_responsibilities]
    )
    languages = models.JSONField(
        _("languages"), default=list, validators=[validate_language_levels]
    )
    hours = models.CharField(_("office hours"), max_length=200, blank=True)

    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[validate_phone])
    mobile = models.CharField(_("mobile"), max_length=30, blank=True, validators=[validate_phone])
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=30, blank=True, validators=[validate_wechat])
    telegram = models.CharField(
        _("Telegram"), max_length=40, blank=True, validators=[validate_telegram]
    )
    whatsapp = models.CharField(
        _("WhatsApp"), max_length=30, blank=True, validators=[validate_phone]
    )
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=20, choices=Channel.choices, blank=True
    )

    appointed_on = models.DateField(_("appointed on"))
    appointment_reference = models.CharField(_("appointment letter"), max_length=100, blank=True)
    ends_on = models.DateField(_("appointment ends"), null=True, blank=True)

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
        ordering = ["country", "post_country", "post_city", "name_en"]
        indexes = [models.Index(fields=["published", "country"])]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "name_en", "post_city"],
                name="focal_person_unique_per_agency_post",
                violation_error_message=_(
                    "This person is already registered as a focal person of this agency "
                    "in this city."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gt=models.F("appointed_on")),
                name="focal_person_ends_after_appointment",
                violation_error_message=_("The appointment must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"focal person {self.pk}"

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def title(self) -> str:
        return localized(self, "title")

    @property
    def is_current(self) -> bool:
        today = timezone.localdate()
        return self.appointed_on <= today and (self.ends_on is None or self.ends_on >= today)

    @property
    def names(self) -> list[tuple[str, str]]:
        return names_in_scripts(self)

    @property
    def language_labels(self) -> list[tuple[str, str]]:
        """(language, level), both in the reader's language."""
        levels = dict(LanguageLevel.choices)
        return [
            (name, str(levels.get(item["level"], item["level"])))
            for name, item in zip(
                language_names([i["code"] for i in self.languages]), self.languages, strict=True
            )
        ]

    @property
    def responsibility_labels(self) -> list[str]:
        labels = dict(Responsibility.choices)
        return [str(labels.get(r, r)) for r in self.responsibilities]

    def channel_values(self) -> dict[str, str]:
        return {c: getattr(self, c) for c in Channel.values if getattr(self, c)}

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.agency_id and self.country and self.agency.country != self.country:
            errors["agency"] = [_("The agency must be of the focal person's country.")]
        if not self.channel_values():
            errors["phone"] = [_("Give at least one way to reach the focal person.")]
        if self.ends_on and self.appointed_on and self.ends_on <= self.appointed_on:
            errors["ends_on"] = [_("The appointment must end after it starts.")]
        if self.preferred_channel and not getattr(self, self.preferred_channel, ""):
            errors["preferred_channel"] = [_("The preferred channel has no value.")]
        if (
            self.agency_id
            and FocalPerson.objects.exclude(pk=self.pk)
            .filter(agency_id=self.agency_id, name_en=self.name_en, post_city=self.post_city)
            .exists()
        ):
            errors["name_en"] = [
                _(
                    "This person is already registered as a focal person of this agency "
                    "in this city."
                )
            ]
        if isinstance(self.languages, list) and not self.languages:
            errors["languages"] = [_("Give at least one language the person speaks.")]
        if errors:
            raise ValidationError(errors)
