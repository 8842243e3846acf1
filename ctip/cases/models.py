"""Persons, screenings with the common identification form, victim cases and their SOP
workflow, consent, approvals, referrals, services received and documents.

Personal fields are encrypted at rest (``EncryptedTextField``). A screening is encrypted
under its person's data key; a case and everything recorded in it (notes, consents,
approvals, referrals, services, documents) under the case's own data key, so that a case
can be crypto-shredded at the end of its retention.
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


class DocumentType(models.TextChoices):
    PASSPORT = "passport", _("Passport")
    NATIONAL_ID = "national_id", _("National identity card")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    FAMILY_BOOK = "family_book", _("Family book")
    HOUSEHOLD_REGISTER = "household_register", _("Household register (hukou)")
    OTHER = "other", _("Other document")
    NONE = "none", _("No document")


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
        "origin_code",
        "family_contacts",
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
    # The reference place (commune or city code, see data/places.json); the province alone
    # is kept in clear for statistics and routing.
    origin_code = EncryptedTextField(_("place of origin (reference code)"))
    family_contacts = EncryptedTextField(_("family contacts"))
    notes = EncryptedTextField(_("notes"))
    # Keyed hashes of normalised name tokens and the document number, for exact search.
    search_tokens = models.TextField(blank=True, editable=False)

    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("birth month"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("birth day"), null=True, blank=True)
    age_estimate = models.PositiveSmallIntegerField(_("estimated age"), null=True, blank=True)
    nationality = models.CharField(_("nationality"), max_length=2, blank=True)
    document_type = models.CharField(
        _("identity document"), max_length=20, choices=DocumentType.choices, blank=True
    )
    origin_province = models.CharField(_("province of origin"), max_length=12, blank=True)

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


# --- The identification form and screenings ----------------------------------------------


class FormVersion(models.Model):
    """One version of the common identification form, as loaded from its data file.

    Frozen once a screening is submitted with it: a changed file under the same version is
    refused (its SHA-256 differs), so both nodes can compare versions by hash.
    """

    form_id = models.CharField(max_length=60)
    version = models.CharField(max_length=20)
    sha256 = models.CharField(max_length=64)
    definition = models.TextField(editable=False)
    loaded_at = models.DateTimeField(default=timezone.now, editable=False)
    frozen_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["form_id", "-loaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["form_id", "version"], name="form_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.form_id} {self.version}"


class ScreeningStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")


class ScreeningSource(models.TextChoices):
    DEVICE = "device", _("Filled in on a computer or tablet")
    PAPER = "paper", _("Paper form, entered later")
    IMPORT = "import", _("Imported from field collection (ODK, KoboToolbox)")


class ScreeningResult(models.TextChoices):
    VICTIM = "victim", _("Victim of trafficking")
    PRESUMED_VICTIM = "presumed_victim", _("Presumed victim of trafficking")
    NOT_A_VICTIM = "not_a_victim", _("Not a victim of trafficking")
    NEEDS_REVIEW = "needs_review", _("Needs review by a supervisor")


class Screening(models.Model):
    """One filled-in identification form. Answers and findings are encrypted under the
    person's data key; the result is kept in clear for lists and statistics."""

    PII_FIELDS = ("answers", "findings")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=24, unique=True)
    data_key = DataKeyField()
    owner_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT)
    sealed = models.BooleanField(_("sealed"), default=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="screenings")
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=ScreeningStatus.choices, default="draft"
    )
    source = models.CharField(
        _("how collected"), max_length=10, choices=ScreeningSource.choices, default="device"
    )
    answers = EncryptedTextField(_("answers"))
    findings = EncryptedTextField(_("findings"))
    result = models.CharField(
        _("result"), max_length=20, choices=ScreeningResult.choices, blank=True
    )
    child = models.BooleanField(_("child"), null=True, blank=True)
    interview_date = models.DateField(_("interview date"), null=True, blank=True)
    # The submission's instance id from ODK/KoboToolbox: a file imported twice is not
    # imported twice.
    external_id = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="screening_external_id_once",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft", result="")
                | models.Q(status="submitted", submitted_at__isnull=False) & ~models.Q(result=""),
                name="screening_result_when_submitted",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_draft(self) -> bool:
        return self.status == ScreeningStatus.DRAFT


# --- Cases and the SOP workflow -----------------------------------------------------------


class Track(models.TextChoices):
    CROSS_BORDER = "cross_border", _("Cross-border (repatriation)")
    IN_COUNTRY = "in_country", _("In the country")


class Stage(models.TextChoices):
    IDENTIFIED = "identified", _("Identified")
    PROTECTED = "protected", _("Protected")
    VERIFICATION = "verification", _("Nationality and identity verification")
    DOCUMENTS = "documents", _("Travel documents")
    TRAVEL = "travel", _("Travel")
    HANDED_OVER = "handed_over", _("Handed over")
    REINTEGRATION = "reintegration", _("Reintegration")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Closed")


class ClosureReason(models.TextChoices):
    REINTEGRATED = "reintegrated", _("Reintegrated; follow-up completed")
    DECLINED = "declined", _("The person declined further assistance")
    NOT_A_VICTIM = "not_a_victim", _("Found not to be a victim")
    TRANSFERRED = "transferred", _("Transferred to another agency")
    LOST_CONTACT = "lost_contact", _("Contact lost")
    DIED = "died", _("The person died")
    OTHER = "other", _("Other")


class Case(models.Model):
    """The protection case of one person for one episode, moving through the SOP stages."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=24, unique=True)
    data_key = DataKeyField()
    owner_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT)
    sealed = models.BooleanField(_("sealed"), default=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    screening = models.OneToOneField(
        Screening, null=True, blank=True, on_delete=models.PROTECT, related_name="case"
    )
    track = models.CharField(_("track"), max_length=20, choices=Track.choices)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    stage_entered_at = models.DateTimeField(_("in this stage since"))
    stage_due_at = models.DateTimeField(_("stage due"), null=True, blank=True)
    sop_version = models.CharField(max_length=40, editable=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("caseworker"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now, editable=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closure_reason = models.CharField(
        _("reason for closure"), max_length=30, choices=ClosureReason.choices, blank=True
    )

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["owner_agency", "closed_at", "stage_due_at"]),
            models.Index(fields=["assigned_to", "closed_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(closed_at__isnull=True),
                name="case_one_open_per_person",
                violation_error_message=_("This person already has an open case."),
            ),
            models.CheckConstraint(
                condition=models.Q(stage="closed", closed_at__isnull=False)
                | ~models.Q(stage="closed") & models.Q(closed_at__isnull=True),
                name="case_closed_iff_closed_stage",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return not self.is_closed and self.stage_due_at is not None and self.stage_due_at < now


class CaseRecord(models.Model):
    """Something recorded in a case, encrypted under the case's data key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.model_name} {self.pk}"


class EventKind(models.TextChoices):
    OPENED = "opened", _("Case opened")
    STAGE = "stage", _("Stage changed")
    ASSIGNED = "assigned", _("Caseworker assigned")
    NOTE = "note", _("Note added")
    DOCUMENT = "document", _("Document added")
    CONSENT = "consent", _("Consent recorded")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    BLOCKED = "blocked", _("Action blocked")
    APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
    APPROVAL_DECIDED = "approval_decided", _("Approval decided")
    REFERRAL = "referral", _("Referral made")
    REFERRAL_UPDATED = "referral_updated", _("Referral updated")
    SERVICE = "service", _("Service received")
    SEALED = "sealed", _("Sealing changed")
    ACCESS = "access", _("Emergency access")
    TRANSFER_PROPOSED = "transfer_proposed", _("Transfer to another agency proposed")
    TRANSFER_DECIDED = "transfer_decided", _("Transfer to another agency decided")
    REMINDER = "reminder", _("Deadline reminder sent")
    REPATRIATION = "repatriation", _("Repatriation message")


class CaseEvent(models.Model):
    """One line of the case timeline. ``details`` holds codes and ids, never personal data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField(editable=False)
    at = models.DateTimeField(default=timezone.now)
    # Empty for what the node did on its own (reminders, messages from the other node).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["case", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class CaseNote(CaseRecord):
    PII_FIELDS = ("text",)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    text = EncryptedTextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["created_at"]


class DocumentKind(models.TextChoices):
    PASSPORT = "passport", _("Passport or identity card")
    TRAVEL_DOCUMENT = "travel_document", _("Travel document (emergency or certificate)")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate or family book")
    PHOTO = "photo", _("Photograph")
    MEDICAL = "medical", _("Medical record")
    CONSENT_FORM = "consent_form", _("Signed consent form")
    PAPER_SCREENING = "paper_screening", _("Paper identification form")
    HANDOVER = "handover", _("Handover record")
    OTHER = "other", _("Other")


class CaseDocument(CaseRecord):
    """An uploaded file. The bytes are AES-GCM encrypted under the case key (in ``content``),
    the original file name is encrypted too; downloads get an opaque name."""

    PII_FIELDS = ("filename",)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    filename = EncryptedTextField(_("file name"))
    content_type = models.CharField(max_length=60)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField()
    content = models.BinaryField(editable=False)
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["uploaded_at"]


class ConsentPurpose(models.TextChoices):
    ASSISTANCE = "assistance", _("Assistance and protection services")
    NATIONALITY_VERIFICATION = "nationality_verification", _("Nationality verification")
    FAMILY_TRACING = "family_tracing", _("Family tracing and assessment")
    REPATRIATION = "repatriation", _("Repatriation and handover")
    CASE_INFORMATION = "case_information", _("Case information for law enforcement")
    REFERRAL = "referral", _("Referral to services")


class DataCategory(models.TextChoices):
    IDENTITY = "identity", _("Names, sex, birth date, nationality")
    CONTACT = "contact", _("Contact details of the person and family")
    DOCUMENTS = "documents", _("Identity and travel documents")
    ORIGIN = "origin", _("Place of origin")
    PHOTO = "photo", _("Photograph")
    HEALTH = "health", _("Health")
    EXPLOITATION = "exploitation", _("What happened (exploitation details)")
    CASE_PROGRESS = "case_progress", _("Case progress")


class ConsentDecision(models.TextChoices):
    GIVEN = "given", _("Agreed")
    REFUSED = "refused", _("Refused")


class HowGiven(models.TextChoices):
    WRITTEN = "written", _("Signed in writing")
    THUMBPRINT = "thumbprint", _("Thumbprint")
    ORAL = "oral", _("Orally, witnessed")
    GUARDIAN = "guardian", _("By parent or guardian (child)")


class Consent(CaseRecord):
    """What the person agreed (or refused) to share, with whom, for what, until when."""

    PII_FIELDS = ("interpreter_name", "notes", "withdrawal_reason")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    decision = models.CharField(_("decision"), max_length=10, choices=ConsentDecision.choices)
    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    recipient_country = models.CharField(
        _("recipient country"), max_length=2, choices=[("KH", _("Cambodia")), ("CN", _("China"))]
    )
    # Empty: any competent agency of the recipient country.
    recipient_agency = models.CharField(_("recipient agency (code)"), max_length=40, blank=True)
    data_categories = models.JSONField(_("data categories"), default=list, blank=True)
    given_on = models.DateField(_("date"))
    expires_on = models.DateField(_("valid until"), null=True, blank=True)
    how_given = models.CharField(_("how given"), max_length=12, choices=HowGiven.choices)
    language = models.CharField(_("language of the explanation"), max_length=10)
    interpreter_used = models.BooleanField(_("interpreter used"), default=False)
    interpreter_name = EncryptedTextField(_("interpreter"))
    notes = EncryptedTextField(_("notes"))
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_reason = EncryptedTextField(_("reason for withdrawal"))

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["case", "purpose", "recipient_country"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gte=models.F("given_on")),
                name="consent_expires_after_given",
            )
        ]


class ApprovalKind(models.TextChoices):
    CASE_CLOSURE = "case_closure", _("Case closure")
    CONSENT_OVERRIDE = "consent_override", _("Consent override")
    BREAK_GLASS = "break_glass", _("Emergency access to a sealed case")


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a supervisor")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Approval(CaseRecord):
    """A request that needs a second person, a supervisor, to decide. Consent overrides and
    emergency access also alert the data protection officer and wait in their review queue."""

    PII_FIELDS = ("reason", "decision_note", "review_note")

    kind = models.CharField(_("kind"), max_length=20, choices=ApprovalKind.choices)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="approvals"
    )
    owner_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT)
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default="pending"
    )
    reason = EncryptedTextField(_("reason"))
    scope = models.JSONField(default=dict, blank=True)
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = EncryptedTextField(_("decision note"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    dpo_alerted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = EncryptedTextField(_("review note"))

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["owner_agency", "status", "kind"])]
        constraints = [
            # The second approver is a second person.
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True)
                | ~models.Q(decided_by=models.F("requested_by")),
                name="approval_by_another_person",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_at__isnull=True)
                | ~models.Q(status="pending") & models.Q(decided_at__isnull=False),
                name="approval_decided_has_date",
            ),
        ]

    @property
    def needs_dpo_review(self) -> bool:
        return self.kind != ApprovalKind.CASE_CLOSURE and self.status == "approved"


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Referral(CaseRecord):
    """A case sent to a registered service (directory) for a need."""

    PII_FIELDS = ("note",)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    service = models.ForeignKey(
        "directory.Service", on_delete=models.PROTECT, related_name="case_referrals"
    )
    need = models.CharField(_("need"), max_length=30)
    status = models.CharField(
        _("status"), max_length=12, choices=ReferralStatus.choices, default="sent"
    )
    cross_border = models.BooleanField(default=False, editable=False)
    note = EncryptedTextField(_("note"))
    referred_at = models.DateTimeField(default=timezone.now, editable=False)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-referred_at"]


class ServiceReceived(CaseRecord):
    """A service the person received, with the person's satisfaction (plan III.3)."""

    PII_FIELDS = ("feedback",)

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="services")
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    service = models.ForeignKey(
        "directory.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("service"), max_length=30)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    feedback = EncryptedTextField(_("the person's feedback"))
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True)
                | models.Q(satisfaction__gte=1, satisfaction__lte=5),
                name="service_satisfaction_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gte=models.F("started_on")),
                name="service_ends_after_start",
            ),
        ]


# --- Transfers between agencies and deadline reminders ------------------------------------


class TransferStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


class CaseTransfer(CaseRecord):
    """A case handed from one agency to another of the same country: proposed by the owning
    agency, accepted (or declined) by the receiving one. After acceptance the old agency
    sees the case only through the need-to-know grants named in ``keep_access``."""

    PII_FIELDS = ("reason", "decision_note")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    from_agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, related_name="+", editable=False
    )
    to_agency = models.ForeignKey(
        "accounts.Agency",
        verbose_name=_("receiving agency"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TransferStatus.choices, default="proposed"
    )
    reason = EncryptedTextField(_("reason"))
    # Ids of users of the old agency who keep need-to-know access after the transfer.
    keep_access = models.JSONField(default=list, blank=True)
    proposed_at = models.DateTimeField(default=timezone.now, editable=False)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = EncryptedTextField(_("note"))

    class Meta:
        ordering = ["-proposed_at"]
        indexes = [models.Index(fields=["to_agency", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="proposed"),
                name="case_transfer_one_open",
                violation_error_message=_("A transfer of this case is already proposed."),
            ),
            models.CheckConstraint(
                condition=~models.Q(from_agency=models.F("to_agency")),
                name="case_transfer_to_another_agency",
            ),
            models.CheckConstraint(
                condition=models.Q(status="proposed", decided_at__isnull=True)
                | ~models.Q(status="proposed") & models.Q(decided_at__isnull=False),
                name="case_transfer_decided_has_date",
            ),
        ]


class ReminderThreshold(models.TextChoices):
    DUE = "due", _("Due within a day")
    OVERDUE = "overdue", _("Overdue")


class StageReminder(models.Model):
    """One reminder per case, stage (entry) and threshold: the worker may run as often as
    it likes, the unique constraint keeps it to one. ``step`` is empty for the case's own
    SOP stage, or names the repatriation step awaited from this node."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reminders")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    step = models.CharField(max_length=40, blank=True)
    since = models.DateTimeField()
    due_at = models.DateTimeField()
    threshold = models.CharField(max_length=10, choices=ReminderThreshold.choices)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="case_reminders")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "stage", "step", "since", "threshold"],
                name="stage_reminder_once",
            )
        ]

    def __str__(self) -> str:
        return f"reminder {self.pk}"


# --- Repatriation across the border (issue 8) ---------------------------------------------


class RepatriationSide(models.TextChoices):
    HOST = "host", _("Country where the person was found")
    HOME = "home", _("Country of nationality")


class RepatriationStatus(models.TextChoices):
    ACTIVE = "active", _("Under way")
    STOPPED = "stopped", _("Stopped")
    COMPLETED = "completed", _("Completed")


class Repatriation(models.Model):
    """One side of a repatriation: each node has its own case, linked by ``shared_ref`` (the
    reference of the case in the country where the person was found). What happened is in
    the steps; ``waiting_on``/``due_at`` say whose turn it is and until when."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="repatriation")
    shared_ref = models.CharField(_("shared case reference"), max_length=24, unique=True)
    side = models.CharField(max_length=4, choices=RepatriationSide.choices)
    peer = models.CharField(max_length=2)
    status = models.CharField(
        _("status"), max_length=10, choices=RepatriationStatus.choices, default="active"
    )
    stop_reason = models.CharField(max_length=40, blank=True)
    last_step = models.CharField(max_length=40, blank=True)
    steps_done = models.JSONField(default=list, blank=True)
    waiting_on = models.CharField(_("waiting on"), max_length=2, blank=True)
    awaited_step = models.CharField(max_length=40, blank=True)
    since = models.DateTimeField(_("since"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    focal_person = models.ForeignKey(
        "directory.FocalPerson",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["status", "waiting_on", "due_at"])]

    def __str__(self) -> str:
        return self.shared_ref

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == "active" and self.due_at is not None and self.due_at < now

    def elapsed_days(self, now=None) -> int:
        return ((now or timezone.now()) - self.since).days


class StepDirection(models.TextChoices):
    SENT = "sent", _("Sent")
    RECEIVED = "received", _("Received")


class RepatriationStep(CaseRecord):
    """One message of the flow as this node sent or received it. The body is encrypted under
    the case key; its digest lets both sides show they hold the same record."""

    PII_FIELDS = ("body",)

    repatriation = models.ForeignKey(Repatriation, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=40)
    direction = models.CharField(max_length=10, choices=StepDirection.choices)
    msg_id = models.CharField(max_length=64, blank=True)
    body = EncryptedTextField(_("message"))
    body_sha256 = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at"]


# --- Retention: legal holds (DP-7, docs/retention.md) -------------------------------------


class LegalHold(models.Model):
    """A person or a case that the retention purge must keep, whatever its age (a court
    order, a prosecution, a complaint). A hold on a person also keeps every case of the
    person; a hold on a case keeps the case and its person. Released, not deleted: the row
    keeps who placed and released it and when. The reason is encrypted under the held
    record's data key (it may name people), so it goes when the record is shredded."""

    PII_FIELDS = ("reason",)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="legal_holds"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason = EncryptedTextField(_("reason"))
    placed_at = models.DateTimeField(default=timezone.now, editable=False)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False, case__isnull=True)
                | models.Q(person__isnull=True, case__isnull=False),
                name="legal_hold_one_record",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(released_at__isnull=True, person__isnull=False),
                name="legal_hold_one_active_per_person",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(released_at__isnull=True, case__isnull=False),
                name="legal_hold_one_active_per_case",
            ),
            models.CheckConstraint(
                condition=models.Q(released_at__isnull=True, released_by__isnull=True)
                | models.Q(released_at__isnull=False, released_by__isnull=False),
                name="legal_hold_released_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"legal hold {self.pk}"

    @property
    def active(self) -> bool:
        return self.released_at is None
