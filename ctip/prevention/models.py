"""Prevention (plan II.1, II.2): the preventive strategy drafted, reviewed and agreed by
both sides; each country's tool packages for safe marriage and labour migration, published
in three languages; dissemination to target groups; and singleness and marriage
certificates that carry a signed code either government can verify offline.

Strategy versions, their sections, steps and comments have UUIDs given where they are made
and never change once a version is submitted, so both nodes hold the same rows after the
exchange (a received row that is already held is ignored).

The names and document numbers on certificates are personal data: encrypted at rest under
the certificate's data key, never in ``str()``, URLs, logs or audit details. The verification
page shows only what the signed code itself says (initials, type, authority, dates).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.accounts.models import Country
from ctip.core.models import DataKeyField, EncryptedTextField

STRATEGY = "strategy"
PACKAGE = "tool_package"
DISSEMINATION = "dissemination"
CERTIFICATE = "civil_certificate"
PLAN_ACTIVITY = "II.1"


def in_language(obj, field: str, language: str | None = None) -> str:
    """``obj.<field>_km`` / ``_zh_hans`` / ``_en`` in ``language`` (default: the active
    one), English fallback."""
    lang = (language or get_language() or "en").lower()
    suffix = "km" if lang.startswith("km") else "zh_hans" if lang.startswith("zh") else "en"
    return getattr(obj, f"{field}_{suffix}") or getattr(obj, f"{field}_en")


# --- The preventive strategy (II.1) -------------------------------------------------------


class StrategyDocument(models.Model):
    """The joint preventive strategy (one document, in versions)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(_("title"), max_length=200)
    origin = models.CharField(_("started by"), max_length=2, choices=Country.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.title

    def ctip_visible_to(self, user) -> bool:
        return permissions.can(user, STRATEGY, permissions.VIEW)


class StrategyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    AGREED = "agreed", _("Agreed by both sides")


class StrategyVersion(models.Model):
    """A version drafted by one side. Editable while a draft (on the drafting node only);
    frozen when submitted for review; agreed when both sides have approved it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.ForeignKey(
        StrategyDocument, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveSmallIntegerField(_("version"), validators=[MinValueValidator(1)])
    origin = models.CharField(_("drafted by"), max_length=2, choices=Country.choices)
    author = models.CharField(_("drafting agency"), max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["document", "-number", "-created_at"]

    def __str__(self) -> str:
        return f"strategy version {self.number}"

    def ctip_visible_to(self, user) -> bool:
        if self.submitted_at is None and self.origin != settings.CTIP_NODE:
            return False
        return permissions.can(user, STRATEGY, permissions.VIEW)

    @property
    def approvals(self) -> set[str]:
        return {s.country for s in self.steps.all() if s.kind == StepKind.APPROVED}

    @property
    def status(self) -> str:
        if self.submitted_at is None:
            return StrategyStatus.DRAFT
        if self.approvals >= {Country.KH, Country.CN}:
            return StrategyStatus.AGREED
        return StrategyStatus.IN_REVIEW

    def get_status_display(self) -> str:
        return StrategyStatus(self.status).label


class StrategySection(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(StrategyVersion, on_delete=models.CASCADE, related_name="sections")
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1)])
    heading = models.CharField(_("heading"), max_length=200)
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "number"], name="prevention_section_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"section {self.number}"


class StepKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted for review")
    REVIEWED = "reviewed", _("Reviewed, changes requested")
    APPROVED = "approved", _("Approved as final")


class StrategyStep(models.Model):
    """One side's step on a version: submission, review or approval (finalisation)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(StrategyVersion, on_delete=models.CASCADE, related_name="steps")
    country = models.CharField(_("side"), max_length=2, choices=Country.choices)
    kind = models.CharField(_("step"), max_length=10, choices=StepKind.choices)
    by = models.CharField(_("by (agency)"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "country"],
                condition=models.Q(kind="approved"),
                name="prevention_one_approval_per_side",
            )
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.kind}"


class StrategyComment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    section = models.ForeignKey(StrategySection, on_delete=models.CASCADE, related_name="comments")
    country = models.CharField(_("side"), max_length=2, choices=Country.choices)
    by = models.CharField(_("by (agency)"), max_length=200)
    text = models.TextField(_("comment"))
    at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"comment {self.pk}"


# --- Tool packages (II.2) -----------------------------------------------------------------


class Topic(models.TextChoices):
    MARRIAGE = "marriage", _("Cross-border marriage")
    LABOUR = "labour", _("Labour migration")


class ToolPackage(models.Model):
    """What a person planning to marry or work across the border must know, from one
    country: the documents and procedures its government requires, step by step, and the
    warning signs of trafficking. Published on the public site in three languages."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    topic = models.CharField(_("topic"), max_length=10, choices=Topic.choices)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_km = models.CharField(_("title (Khmer)"), max_length=200)
    title_zh_hans = models.CharField(_("title (Chinese)"), max_length=200)
    summary_en = models.TextField(_("summary (English)"), blank=True)
    summary_km = models.TextField(_("summary (Khmer)"), blank=True)
    summary_zh_hans = models.TextField(_("summary (Chinese)"), blank=True)
    published = models.BooleanField(_("published"), default=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["country", "topic"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "topic"], name="prevention_one_package_per_topic"
            )
        ]

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> str:
        return in_language(self, "title")

    @property
    def summary(self) -> str:
        return in_language(self, "summary")

    def ctip_visible_to(self, user) -> bool:
        return permissions.can(user, PACKAGE, permissions.VIEW)


class ItemKind(models.TextChoices):
    STEP = "step", _("Step of the procedure")
    DOCUMENT = "document", _("Required document")
    WARNING = "warning", _("Warning sign of trafficking")


class PackageItem(models.Model):
    """A step, a required document or a warning sign, in three languages. Steps and
    documents name the issuing authority (an agency) and its contact (a published focal
    person of the directory)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    package = models.ForeignKey(ToolPackage, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices)
    number = models.PositiveSmallIntegerField(_("order"), validators=[MinValueValidator(1)])
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_km = models.CharField(_("title (Khmer)"), max_length=200)
    title_zh_hans = models.CharField(_("title (Chinese)"), max_length=200)
    text_en = models.TextField(_("text (English)"), blank=True)
    text_km = models.TextField(_("text (Khmer)"), blank=True)
    text_zh_hans = models.TextField(_("text (Chinese)"), blank=True)
    authority = models.ForeignKey(
        "accounts.Agency",
        verbose_name=_("issuing authority"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    contact = models.ForeignKey(
        "directory.FocalPerson",
        verbose_name=_("contact (directory)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["package", "kind", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "kind", "number"], name="prevention_item_number_unique"
            )
        ]

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> str:
        return in_language(self, "title")

    @property
    def text(self) -> str:
        return in_language(self, "text")


# --- Dissemination (II.2) -----------------------------------------------------------------


class DisseminationChannel(models.TextChoices):
    VILLAGE_MEETING = "village_meeting", _("Village or commune meeting")
    SCHOOL = "school", _("School session")
    SOCIAL_MEDIA = "social_media", _("Social media")
    HOTLINE = "hotline", _("Hotline")
    RADIO_TV = "radio_tv", _("Radio or television")
    LEAFLETS = "leaflets", _("Leaflets handed out")
    OTHER = "other", _("Other")


class AudienceGroup(models.TextChoices):
    PROSPECTIVE_SPOUSES = "prospective_spouses", _("People planning a cross-border marriage")
    MIGRANT_WORKERS = "migrant_workers", _("Prospective migrant workers")
    STUDENTS = "students", _("Students")
    PARENTS = "parents", _("Parents and families")
    COMMUNITY_LEADERS = "community_leaders", _("Village and community leaders")
    GENERAL_PUBLIC = "general_public", _("General public")


COUNT_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10_000_000)]
REACHED_FIELDS = (
    "female_under_18",
    "female_18_24",
    "female_25_plus",
    "male_under_18",
    "male_18_24",
    "male_25_plus",
    "unknown",
)


class DisseminationEvent(models.Model):
    """One dissemination of a tool package: where, through which channel, to whom, and
    how many people were reached by sex and age group (counts only, no names)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+"
    )
    package = models.ForeignKey(
        ToolPackage,
        verbose_name=_("tool package"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disseminations",
    )
    date = models.DateField(_("date"))
    channel = models.CharField(_("channel"), max_length=20, choices=DisseminationChannel.choices)
    province = models.CharField(_("province"), max_length=100)
    place = models.CharField(_("place"), max_length=200, blank=True)
    audiences = models.JSONField(_("target groups"), default=list)
    female_under_18 = models.PositiveIntegerField(
        _("women and girls under 18"), default=0, validators=COUNT_VALIDATORS
    )
    female_18_24 = models.PositiveIntegerField(
        _("women 18–24"), default=0, validators=COUNT_VALIDATORS
    )
    female_25_plus = models.PositiveIntegerField(
        _("women 25 and over"), default=0, validators=COUNT_VALIDATORS
    )
    male_under_18 = models.PositiveIntegerField(
        _("men and boys under 18"), default=0, validators=COUNT_VALIDATORS
    )
    male_18_24 = models.PositiveIntegerField(_("men 18–24"), default=0, validators=COUNT_VALIDATORS)
    male_25_plus = models.PositiveIntegerField(
        _("men 25 and over"), default=0, validators=COUNT_VALIDATORS
    )
    unknown = models.PositiveIntegerField(
        _("sex or age not known"),
        default=0,
        validators=COUNT_VALIDATORS,
        help_text=_("For example people reached through social media or a hotline."),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-date", "-recorded_at"]

    def __str__(self) -> str:
        return f"dissemination {self.pk}"

    @property
    def reached(self) -> int:
        return sum(getattr(self, name) for name in REACHED_FIELDS)

    def ctip_visible_to(self, user) -> bool:
        return permissions.can(user, DISSEMINATION, permissions.VIEW)


# --- Verifiable singleness and marriage certificates (II.2) -------------------------------


class DocType(models.TextChoices):
    SINGLENESS = "singleness", _("Certificate of singleness")
    MARRIAGE = "marriage", _("Marriage certificate")


class RevocationReason(models.TextChoices):
    ERROR = "error", _("Issued in error")
    FRAUD = "fraud", _("Obtained by fraud")
    SUPERSEDED = "superseded", _("Replaced by a corrected certificate")
    MARRIED = "married", _("Holder has since married")
    DISSOLVED = "dissolved", _("Marriage dissolved or annulled")


class CivilCertificate(models.Model):
    """The record of an issued certificate and its signed verification code. Revoked
    certificates stay (and verify as revoked)."""

    PII_FIELDS = ("holder_name", "partner_name", "number")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()
    doc_type = models.CharField(_("document"), max_length=12, choices=DocType.choices)
    authority = models.ForeignKey(
        "accounts.Agency",
        verbose_name=_("issuing authority"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    number = EncryptedTextField(_("certificate number"))
    number_token = models.CharField(max_length=32, editable=False)
    holder_name = EncryptedTextField(_("holder's name"))
    partner_name = EncryptedTextField(_("spouse's name"), blank=True)
    initials = models.CharField(_("initials"), max_length=24, editable=False)
    issued_on = models.DateField(_("date of issue"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    serial = models.CharField(max_length=20, unique=True, editable=False)
    code = models.CharField(max_length=400, editable=False)
    kid = models.CharField(max_length=64, editable=False)
    issued_at = models.DateTimeField(editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
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
        _("reason for revocation"), max_length=12, choices=RevocationReason.choices, blank=True
    )

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "doc_type", "number_token"],
                name="prevention_certificate_number_once",
                violation_error_message=_(
                    "This authority already issued a certificate with this number."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revocation_reason="")
                | models.Q(revoked_at__isnull=False) & ~models.Q(revocation_reason=""),
                name="prevention_certificate_revocation_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("issued_on")),
                name="prevention_certificate_valid_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"certificate {self.pk}"  # never a name or number

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def ctip_visible_to(self, user) -> bool:
        """Registrars of the issuing authority or of its parent agency."""
        if not permissions.can(user, CERTIFICATE, permissions.VIEW) or not user.agency_id:
            return False
        return user.agency_id in (self.authority_id, self.authority.parent_id)


class PeerRevocation(models.Model):
    """A revocation the other node announced through the exchange (its revocation list)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issuer = models.CharField(max_length=2, choices=Country.choices)
    serial = models.CharField(max_length=20)
    revoked_at = models.DateTimeField()
    reason = models.CharField(max_length=12, choices=RevocationReason.choices)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    msg_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "serial"], name="prevention_peer_revocation_once"
            )
        ]

    def __str__(self) -> str:
        return f"revocation {self.issuer} {self.serial}"


class VerificationResult(models.TextChoices):
    VALID = "valid", _("Valid")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    UNKNOWN = "unknown", _("Unknown")
    INVALID = "invalid", _("Not valid")
    THROTTLED = "throttled", _("Too many checks")


class VerificationAttempt(models.Model):
    """Every check on the public page or API: the log, and the counter of the rate limit.
    The client is kept as a keyed hash of its address, never the address itself."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    client = models.CharField(max_length=32, db_index=True)
    result = models.CharField(max_length=10, choices=VerificationResult.choices)
    reason = models.CharField(max_length=30, blank=True)
    issuer = models.CharField(max_length=2, blank=True)
    serial = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["client", "at"])]

    def __str__(self) -> str:
        return f"verification {self.pk} {self.result}"
