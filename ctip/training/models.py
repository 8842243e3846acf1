"""Capacity building (plan V.1–V.3): the common training manual in versions and languages,
joint trainings with their sessions and materials, participants (officials who are users of
this node, or external participants), attendance, pre/post test scores and certificates.

The manual's chapters say which version of the identification form and of the SOP they
teach. Those live in the cases app; they are referred to here by version string (and the
form file's SHA-256), not by foreign key, so a manual can name a version this node does not
hold (the other country's, or one not loaded yet) and the cases app can change its tables.

Names, positions and contacts of participants, the names of trainers and the holder's name
printed on a certificate are personal data: encrypted at rest under the participant's (or
training's) data key, never in ``str()``, URLs, logs or audit details.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.accounts.models import Country
from ctip.core.models import DataKeyField, EncryptedTextField

RESOURCE = "training"
SCORE_VALIDATORS = [MinValueValidator(0), MaxValueValidator(100)]
SHA256_VALIDATOR = RegexValidator(r"^[0-9a-f]{64}$", _("A SHA-256 is 64 lowercase hex digits."))
VERSION_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$"
VERSION_VALIDATOR = RegexValidator(
    VERSION_PATTERN,
    _("A version is letters, digits, dots, dashes or underscores (at most 40)."),
)


class Language(models.TextChoices):
    EN = "en", _("English")
    KM = "km", _("Khmer")
    ZH_HANS = "zh-hans", _("Simplified Chinese")


LANGUAGE_SUFFIX = {Language.EN: "en", Language.KM: "km", Language.ZH_HANS: "zh_hans"}


def _in_language(obj, field: str) -> str:
    """The field in the active language, falling back to English."""
    lang = (get_language() or "en").lower()
    suffix = "km" if lang.startswith("km") else "zh_hans" if lang.startswith("zh") else "en"
    return getattr(obj, f"{field}_{suffix}") or getattr(obj, f"{field}_en")


# --- The common training manual (V.1) -----------------------------------------------------


class ManualStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEWED = "reviewed", _("Reviewed")
    PUBLISHED = "published", _("Published")


class ManualVersion(models.Model):
    """One version of the common training manual. Drafted, reviewed by a second person,
    then published; a published version is frozen (a change makes a new version)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.CharField(_("version"), max_length=40, validators=[VERSION_VALIDATOR])
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_km = models.CharField(_("title (Khmer)"), max_length=200, blank=True)
    title_zh_hans = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    # The languages this version is published in; every chapter must have its text in each.
    languages = models.JSONField(_("languages"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=ManualStatus.choices, default=ManualStatus.DRAFT
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["version"], name="training_manual_version_unique"),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | models.Q(status="reviewed", reviewed_at__isnull=False)
                | models.Q(
                    status="published", reviewed_at__isnull=False, published_at__isnull=False
                ),
                name="training_manual_status_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"manual {self.version}"

    @property
    def title(self) -> str:
        return _in_language(self, "title")

    @property
    def is_frozen(self) -> bool:
        return self.status == ManualStatus.PUBLISHED

    def ctip_visible_to(self, user) -> bool:
        """Published versions to every viewer; drafts to those who manage trainings."""
        if self.status == ManualStatus.PUBLISHED:
            return permissions.can(user, RESOURCE, permissions.VIEW)
        return permissions.can(user, RESOURCE, permissions.CHANGE)


class Chapter(models.Model):
    """A chapter of one manual version, in up to three languages, and the versions of the
    identification form and the SOP it teaches (by version string: see the module doc)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    manual = models.ForeignKey(ManualVersion, on_delete=models.CASCADE, related_name="chapters")
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1)])
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    title_km = models.CharField(_("title (Khmer)"), max_length=200, blank=True)
    title_zh_hans = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    body_km = models.TextField(_("text (Khmer)"), blank=True)
    body_zh_hans = models.TextField(_("text (Chinese)"), blank=True)
    form_version = models.CharField(
        _("identification form version taught"),
        max_length=40,
        blank=True,
        validators=[VERSION_VALIDATOR],
    )
    form_sha256 = models.CharField(
        _("SHA-256 of that form version"),
        max_length=64,
        blank=True,
        validators=[SHA256_VALIDATOR],
    )
    sop_version = models.CharField(
        _("SOP version taught"), max_length=40, blank=True, validators=[VERSION_VALIDATOR]
    )

    class Meta:
        ordering = ["manual", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["manual", "number"], name="training_chapter_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(form_sha256="") | ~models.Q(form_version=""),
                name="training_chapter_hash_needs_version",
            ),
        ]

    def __str__(self) -> str:
        return f"chapter {self.number}"

    @property
    def title(self) -> str:
        return _in_language(self, "title")

    @property
    def body(self) -> str:
        return _in_language(self, "body")

    def has_language(self, language: str) -> bool:
        suffix = LANGUAGE_SUFFIX[language]
        return bool(
            getattr(self, f"title_{suffix}").strip() and getattr(self, f"body_{suffix}").strip()
        )


# --- Trainings (V.2, V.3) -----------------------------------------------------------------


class TrainingType(models.TextChoices):
    LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement")
    SOCIAL_WORK = "social_work", _("Social work")
    DIPLOMATIC = "diplomatic", _("Diplomatic and consular officials")
    ID_FORM_SOP = "id_form_sop", _("Victim identification form and SOPs")


class TargetGroup(models.TextChoices):
    POLICE = "police", _("Police and law enforcement officers")
    PROSECUTORS = "prosecutors", _("Prosecutors and judges")
    IMMIGRATION = "immigration", _("Immigration and border officials")
    SOCIAL_WORKERS = "social_workers", _("Social workers")
    SHELTER_STAFF = "shelter_staff", _("Shelter staff")
    DIPLOMATIC = "diplomatic", _("Diplomatic and consular officials")
    LABOUR = "labour", _("Labour inspectors")
    NGO = "ngo", _("Non-government organisations")


class TrainingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class Training(models.Model):
    """One training event. Visible to every role that may view trainings on this node;
    changed only by managers from one of its organising agencies."""

    PII_FIELDS = ("trainers",)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()
    title = models.CharField(_("title"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=TrainingType.choices)
    host_country = models.CharField(_("host country"), max_length=2, choices=Country.choices)
    place = models.CharField(_("place"), max_length=200)
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    status = models.CharField(
        _("status"), max_length=10, choices=TrainingStatus.choices, default="planned"
    )
    organizers = models.ManyToManyField(
        "accounts.Agency", verbose_name=_("organising agencies"), related_name="+"
    )
    target_groups = models.JSONField(_("target groups"), default=list, blank=True)
    trainers = EncryptedTextField(_("trainers (one per line)"))
    manual = models.ForeignKey(
        ManualVersion,
        verbose_name=_("manual version used"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trainings",
    )
    min_attendance_percent = models.PositiveSmallIntegerField(
        _("attendance needed for a certificate (%)"),
        default=80,
        validators=[MaxValueValidator(100)],
    )
    pass_mark = models.DecimalField(
        _("post-test pass mark (0–100, empty: none)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=SCORE_VALIDATORS,
    )
    certificate_valid_months = models.PositiveSmallIntegerField(
        _("certificates valid for (months, empty: no end)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-start_date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="training_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(min_attendance_percent__lte=100),
                name="training_attendance_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(pass_mark__isnull=True)
                | models.Q(pass_mark__gte=0, pass_mark__lte=100),
                name="training_pass_mark_range",
            ),
        ]

    def __str__(self) -> str:
        return f"training {self.pk}"

    def ctip_visible_to(self, user) -> bool:
        return permissions.can(user, RESOURCE, permissions.VIEW)

    def is_organizer(self, user) -> bool:
        return bool(user.agency_id) and self.organizers.filter(pk=user.agency_id).exists()


class TrainingSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    training = models.ForeignKey(Training, on_delete=models.CASCADE, related_name="sessions")
    date = models.DateField(_("date"))
    title = models.CharField(_("topic"), max_length=200)
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(24)],
    )
    chapter = models.ForeignKey(
        Chapter,
        verbose_name=_("manual chapter taught"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["date", "title"]

    def __str__(self) -> str:
        return f"session {self.pk}"

    def ctip_visible_to(self, user) -> bool:
        return permissions.can(user, RESOURCE, permissions.VIEW)


class MaterialKind(models.TextChoices):
    MANUAL = "manual", _("Training manual")
    SLIDES = "slides", _("Slides")
    HANDOUT = "handout", _("Handout")
    EXERCISE = "exercise", _("Exercise or case study")
    VIDEO = "video", _("Video")
    OTHER = "other", _("Other")


class Material(models.Model):
    """A material used in a training: a manual version, or a named item with an optional
    link (no uploads: files stay where the taskforces keep them)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    training = models.ForeignKey(Training, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(_("kind"), max_length=10, choices=MaterialKind.choices)
    title = models.CharField(_("title"), max_length=200)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    manual = models.ForeignKey(
        ManualVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    link = models.URLField(_("link"), blank=True, max_length=500)

    class Meta:
        ordering = ["kind", "title"]

    def __str__(self) -> str:
        return f"material {self.pk}"


# --- Participants, attendance, tests and certificates --------------------------------------


class ParticipantSex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class ParticipantSource(models.TextChoices):
    FORM = "form", _("Registered on a form")
    IMPORT = "import", _("Imported from a list")
    API = "api", _("Registered through the API")


class Participant(models.Model):
    """One official taking part in one training: a user of this node, or an external
    participant (another country's official, a partner organisation's staff) recorded by
    agency, country and position."""

    PII_FIELDS = ("full_name", "position", "contact")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()
    training = models.ForeignKey(Training, on_delete=models.PROTECT, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="training_participations",
    )
    full_name = EncryptedTextField(_("full name (as on the certificate)"))
    position = EncryptedTextField(_("position"))
    contact = EncryptedTextField(_("contact (e-mail or phone)"))
    # Keyed hash of the normalised name: finds the same person registered twice.
    name_token = models.CharField(max_length=32, editable=False)
    agency = models.ForeignKey(
        "accounts.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agency_name = models.CharField(_("agency (as written)"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    sex = models.CharField(_("sex"), max_length=10, choices=ParticipantSex.choices, blank=True)
    pre_score = models.DecimalField(
        _("pre-test score (0–100)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=SCORE_VALIDATORS,
    )
    post_score = models.DecimalField(
        _("post-test score (0–100)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=SCORE_VALIDATORS,
    )
    source = models.CharField(max_length=10, choices=ParticipantSource.choices, editable=False)
    registered_at = models.DateTimeField(default=timezone.now, editable=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["registered_at"]
        indexes = [models.Index(fields=["name_token"])]
        constraints = [
            models.UniqueConstraint(
                fields=["training", "user"],
                condition=models.Q(user__isnull=False),
                name="training_participant_user_once",
                violation_error_message=_("This user is already registered for this training."),
            ),
            models.UniqueConstraint(
                fields=["training", "name_token"],
                name="training_participant_name_once",
                violation_error_message=_("A participant with this name is already registered."),
            ),
            models.CheckConstraint(
                condition=models.Q(pre_score__isnull=True)
                | models.Q(pre_score__gte=0, pre_score__lte=100),
                name="training_pre_score_range",
            ),
            models.CheckConstraint(
                condition=models.Q(post_score__isnull=True)
                | models.Q(post_score__gte=0, post_score__lte=100),
                name="training_post_score_range",
            ),
            models.CheckConstraint(
                condition=models.Q(agency__isnull=False) | ~models.Q(agency_name=""),
                name="training_participant_has_agency",
            ),
        ]

    def __str__(self) -> str:
        return f"participant {self.pk}"  # never a name

    @property
    def agency_label(self) -> str:
        return self.agency.name if self.agency_id else self.agency_name

    @property
    def is_external(self) -> bool:
        return self.user_id is None

    def ctip_visible_to(self, user) -> bool:
        """The participant themselves, and managers from an organising agency."""
        if user is None or not permissions.can(user, RESOURCE, permissions.VIEW):
            return False
        if self.user_id is not None and self.user_id == user.pk:
            return True
        return permissions.can(user, RESOURCE, permissions.CHANGE) and self.training.is_organizer(
            user
        )

    @property
    def improvement(self):
        if self.pre_score is None or self.post_score is None:
            return None
        return self.post_score - self.pre_score


class Attendance(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="attendance"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="attendance"
    )
    present = models.BooleanField(_("present"))
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "participant"], name="training_attendance_once"
            )
        ]

    def __str__(self) -> str:
        return f"attendance {self.pk}"


class RevocationReason(models.TextChoices):
    ERROR = "error", _("Issued in error")
    MISCONDUCT = "misconduct", _("Misconduct or fraud")
    DATA_CORRECTED = "data_corrected", _("Details corrected; a new certificate was issued")
    OTHER = "other", _("Other")


class Certificate(models.Model):
    """A certificate of one participant, with a long random verification code that anyone
    may check on the public verification page. Revoked certificates stay (and verify as
    revoked); a participant holds at most one certificate that is not revoked."""

    PII_FIELDS = ("holder_name",)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()  # the participant's
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="certificates"
    )
    code = models.CharField(max_length=32, unique=True, editable=False)
    holder_name = EncryptedTextField(_("name as printed"))
    issued_at = models.DateTimeField(editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    revocation_reason = models.CharField(
        _("reason for revocation"), max_length=20, choices=RevocationReason.choices, blank=True
    )

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant"],
                condition=models.Q(revoked_at__isnull=True),
                name="training_one_valid_certificate",
                violation_error_message=_("This participant already holds a certificate."),
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revocation_reason="")
                | models.Q(revoked_at__isnull=False) & ~models.Q(revocation_reason=""),
                name="training_certificate_revocation_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"certificate {self.pk}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def validity(self, today=None) -> str:
        """``valid``, ``expired`` or ``revoked`` (today in the node's time zone)."""
        if self.is_revoked:
            return "revoked"
        today = today or timezone.localdate()
        if self.valid_until is not None and self.valid_until < today:
            return "expired"
        return "valid"

    def ctip_visible_to(self, user) -> bool:
        """The holder sees their own certificate; managers from an organising agency see
        the certificates of their trainings."""
        if user is None or not permissions.can(user, RESOURCE, permissions.VIEW):
            return False
        return self.participant.ctip_visible_to(user)
