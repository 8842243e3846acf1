"""Law-enforcement cooperation (plan IV.1–IV.6): the joint taskforce and its focal officers,
the SOP for law-enforcement cooperation, law-enforcement cases (suspects, victims, offences,
operations and rescues), case-information requests and their answers, investigation
meetings (agenda, minutes in two languages, decisions, action items) and testimony
arrangements.

Law-enforcement cases are kept apart from the victim (social-work) cases of the cases app:
a victim is linked to a victim case by its *reference* only, nothing of the victim case is
copied here, and whether the reference can be opened is decided by the cases app's own
access rules each time it is shown. Only police focal officers have the ``enforcement``
resource, so caseworkers, supervisors and shelter staff never see suspects.

Suspects' particulars, case summaries, places, the question and answer of a request,
meeting minutes and testimony notes are encrypted at rest under the law-enforcement case's
(or request's, or meeting's) data key, and are never in ``str()``, URLs, logs or audit
details.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Country
from ctip.core.models import DataKeyField, EncryptedTextField

RESOURCE = "enforcement"
INDICATORS = "enforcement_indicators"

VERSION_VALIDATOR = RegexValidator(
    r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$",
    _("A version is letters, digits, dots, dashes or underscores (at most 40)."),
)


def _in_language(obj, field: str) -> str:
    lang = (get_language() or "en").lower()
    suffix = "km" if lang.startswith("km") else "zh_hans" if lang.startswith("zh") else "en"
    return getattr(obj, f"{field}_{suffix}") or getattr(obj, f"{field}_en")


# --- The joint taskforce (IV.1) -----------------------------------------------------------


class TaskforceRole(models.TextChoices):
    CHAIR = "chair", _("Chair")
    DEPUTY_CHAIR = "deputy_chair", _("Deputy chair")
    FOCAL_OFFICER = "focal_officer", _("Focal officer")
    MEMBER = "member", _("Member")
    SECRETARIAT = "secretariat", _("Secretariat")


class TaskforceMember(models.Model):
    """A member of one country's part of the joint taskforce.

    Name, position, languages and contact are those of the member's entry in the directory
    of focal persons (not copied: the directory keeps them current and sends them to the
    other node). Each node records its own country's members and sends them to the other
    node; the other country's members arrive as read-only copies under the same id.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    focal_person = models.OneToOneField(
        "directory.FocalPerson",
        verbose_name=_("focal person"),
        on_delete=models.PROTECT,
        related_name="taskforce_member",
    )
    taskforce_role = models.CharField(
        _("role in the taskforce"), max_length=20, choices=TaskforceRole.choices
    )
    # The user account of a member of this node (empty for the other country's members).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="taskforce_memberships",
    )
    active = models.BooleanField(_("active"), default=True)
    since = models.DateField(_("member since"))
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["country", "taskforce_role", "since"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(country__in=Country.values), name="enf_member_country"
            ),
        ]

    def __str__(self) -> str:
        return f"taskforce member {self.pk}"

    @property
    def is_local(self) -> bool:
        return self.country == settings.CTIP_NODE


# --- The SOP for law-enforcement cooperation (IV.2) ---------------------------------------


class SopStatus(models.TextChoices):
    DRAFTED = "drafted", _("Drafted")
    EXCHANGED = "exchanged", _("Exchanged with the other country")
    FINALISED = "finalised", _("Finalised at a joint taskforce meeting")


class SopVersion(models.Model):
    """One version of the SOP for law-enforcement cooperation: drafted by one country, sent
    to the other (exchanged), finalised at a joint taskforce meeting. A finalised version is
    frozen; a change makes a new version. The other node holds a read-only copy."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    origin = models.CharField(_("drafted by"), max_length=2, choices=Country.choices)
    version = models.CharField(_("version"), max_length=40, validators=[VERSION_VALIDATOR])
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_km = models.CharField(_("title (Khmer)"), max_length=200, blank=True)
    title_zh_hans = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    body_km = models.TextField(_("text (Khmer)"), blank=True)
    body_zh_hans = models.TextField(_("text (Chinese)"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=SopStatus.choices, default=SopStatus.DRAFTED
    )
    drafted_at = models.DateTimeField(default=timezone.now, editable=False)
    exchanged_at = models.DateTimeField(null=True, blank=True, editable=False)
    finalised_on = models.DateField(_("finalised on"), null=True, blank=True)
    finalised_at_meeting = models.ForeignKey(
        "Meeting",
        verbose_name=_("finalised at the meeting"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sop_versions_finalised",
    )
    revision = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-drafted_at"]
        constraints = [
            models.UniqueConstraint(fields=["version"], name="enf_sop_version_unique"),
            models.CheckConstraint(
                condition=models.Q(status="drafted")
                | models.Q(status="exchanged", exchanged_at__isnull=False)
                | models.Q(
                    status="finalised",
                    exchanged_at__isnull=False,
                    finalised_on__isnull=False,
                ),
                name="enf_sop_status_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"SOP {self.version}"

    @property
    def title(self) -> str:
        return _in_language(self, "title")

    @property
    def body(self) -> str:
        return _in_language(self, "body")

    @property
    def is_local(self) -> bool:
        return self.origin == settings.CTIP_NODE


# --- Law-enforcement cases (IV.3, IV.4) ---------------------------------------------------


class Offence(models.TextChoices):
    LABOUR = "labour_trafficking", _("Trafficking for forced labour")
    SEXUAL = "sexual_exploitation", _("Trafficking for sexual exploitation")
    MARRIAGE = "forced_marriage", _("Forced or fraudulent marriage")
    SCAM = "scam_compound", _("Forced criminality in scam compounds")
    CHILD = "child_trafficking", _("Child trafficking")
    ORGANS = "organ_removal", _("Trafficking for organ removal")
    SMUGGLING = "smuggling", _("Migrant smuggling")
    DOCUMENTS = "document_fraud", _("Document fraud")
    OTHER = "other", _("Other offence")


class LeCaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    INVESTIGATION = "investigation", _("Under investigation")
    PROSECUTION = "prosecution", _("In prosecution")
    CLOSED = "closed", _("Closed")


class LeCase(models.Model):
    """One law-enforcement case (an investigation) of this node's police."""

    PII_FIELDS = ("summary", "locations")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=24, unique=True, editable=False)
    data_key = DataKeyField()
    owner_agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+"
    )
    # Kept for the shared object rule; a sealed law-enforcement case is seen only with a grant.
    sealed = models.BooleanField(_("sealed"), default=False)
    offences = models.JSONField(_("offences"), default=list)
    status = models.CharField(
        _("status"), max_length=20, choices=LeCaseStatus.choices, default=LeCaseStatus.OPEN
    )
    summary = EncryptedTextField(_("summary"))
    locations = EncryptedTextField(_("places involved"))
    opened_at = models.DateTimeField(_("opened"), default=timezone.now, editable=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=LeCaseStatus.values), name="enf_case_status"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def offence_labels(self) -> list[str]:
        labels = dict(Offence.choices)
        return [str(labels.get(code, code)) for code in self.offences]


class SuspectRole(models.TextChoices):
    RECRUITER = "recruiter", _("Recruiter")
    BROKER = "broker", _("Broker or agent")
    TRANSPORTER = "transporter", _("Transporter")
    EXPLOITER = "exploiter", _("Exploiter or employer")
    FINANCIER = "financier", _("Financier")
    OTHER = "other", _("Other")


class SuspectStatus(models.TextChoices):
    IDENTIFIED = "identified", _("Identified")
    WANTED = "wanted", _("Wanted")
    ARRESTED = "arrested", _("Arrested")
    CHARGED = "charged", _("Charged")
    CONVICTED = "convicted", _("Convicted")
    ACQUITTED = "acquitted", _("Acquitted")


class Suspect(models.Model):
    """A suspect of a law-enforcement case (seen only by police focal officers)."""

    PII_FIELDS = ("name", "aliases", "notes")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    le_case = models.ForeignKey(LeCase, on_delete=models.CASCADE, related_name="suspects")
    data_key = DataKeyField()  # the case's: shredding the case shreds its suspects
    name = EncryptedTextField(_("name"))
    aliases = EncryptedTextField(_("aliases"))
    nationality = models.CharField(_("nationality"), max_length=2, blank=True)
    birth_year = models.PositiveSmallIntegerField(
        _("year of birth"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
    )
    role = models.CharField(_("role"), max_length=20, choices=SuspectRole.choices)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=SuspectStatus.choices,
        default=SuspectStatus.IDENTIFIED,
    )
    notes = EncryptedTextField(_("notes"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"suspect {self.pk}"


class VictimRole(models.TextChoices):
    VICTIM = "victim", _("Victim")
    WITNESS = "witness", _("Witness")


class VictimLink(models.Model):
    """A victim or witness of a law-enforcement case, under a pseudonymous label (V1, W2…),
    linked to a victim case of the cases app by its reference when one exists. Nothing of
    the victim case is copied here."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    le_case = models.ForeignKey(LeCase, on_delete=models.CASCADE, related_name="victims")
    label = models.CharField(_("label"), max_length=12)
    role = models.CharField(_("role"), max_length=10, choices=VictimRole.choices)
    case_reference = models.CharField(_("victim case reference"), max_length=24, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["le_case", "label"], name="enf_victim_label_unique"),
            models.UniqueConstraint(
                fields=["le_case", "case_reference"],
                condition=~models.Q(case_reference=""),
                name="enf_victim_case_once",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class OperationKind(models.TextChoices):
    OPERATION = "operation", _("Operation")
    RAID = "raid", _("Raid")
    RESCUE = "rescue", _("Rescue")
    ARREST = "arrest", _("Arrest")
    JOINT = "joint_operation", _("Joint operation with the other country")


class Operation(models.Model):
    """An operation, raid, rescue or arrest of a law-enforcement case."""

    PII_FIELDS = ("place", "notes")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    le_case = models.ForeignKey(LeCase, on_delete=models.CASCADE, related_name="operations")
    data_key = DataKeyField()  # the case's
    kind = models.CharField(_("kind"), max_length=20, choices=OperationKind.choices)
    date = models.DateField(_("date"))
    country = models.CharField(_("country"), max_length=2)
    place = EncryptedTextField(_("place"))
    persons_rescued = models.PositiveIntegerField(_("persons rescued"), default=0)
    arrests = models.PositiveIntegerField(_("arrests"), default=0)
    notes = EncryptedTextField(_("notes"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"operation {self.pk}"


# --- Case-information requests (IV.3, IV.5) -----------------------------------------------


class Direction(models.TextChoices):
    OUTGOING = "outgoing", _("Sent by us")
    INCOMING = "incoming", _("Received from the other country")


class LegalBasis(models.TextChoices):
    BILATERAL = "bilateral_agreement", _("Bilateral agreement on counter trafficking")
    MLA = "mutual_legal_assistance", _("Mutual legal assistance treaty")
    ASEAN_MLAT = "asean_mlat", _("ASEAN treaty on mutual legal assistance")
    INTERPOL = "interpol", _("Police cooperation through INTERPOL")
    DOMESTIC = "domestic_law", _("Domestic criminal procedure law")
    OTHER = "other", _("Other (say which)")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")
    IMMEDIATE = "immediate", _("Immediate (life at risk)")


class RequestStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    RECEIVED = "received", _("Received")
    ANSWERED = "answered", _("Answered")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Outcome(models.TextChoices):
    PROVIDED = "provided", _("Information provided")
    PARTIAL = "partial", _("Partly provided")
    DECLINED = "declined", _("Declined")


class InfoRequest(models.Model):
    """A case-information request, sent to (or received from) a counterpart of the other
    country through the exchange, and its answer. The same id on both nodes."""

    PII_FIELDS = ("asked", "answer")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    data_key = DataKeyField()
    owner_agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+"
    )
    sealed = models.BooleanField(default=False, editable=False)
    # The other country: where an outgoing request goes, or where an incoming one came from.
    peer_country = models.CharField(_("other country"), max_length=2, choices=Country.choices)
    le_case = models.ForeignKey(
        LeCase,
        verbose_name=_("law-enforcement case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    counterpart = models.ForeignKey(
        TaskforceMember,
        verbose_name=_("addressed to"),
        on_delete=models.PROTECT,
        related_name="requests_addressed",
    )
    requester = models.ForeignKey(
        TaskforceMember,
        verbose_name=_("from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests_made",
    )
    sender_reference = models.CharField(_("sender's case reference"), max_length=24)
    victim_case_reference = models.CharField(_("victim case reference"), max_length=24, blank=True)
    asked = EncryptedTextField(_("information asked for"))
    legal_basis = models.CharField(_("legal basis"), max_length=30, choices=LegalBasis.choices)
    legal_basis_detail = models.CharField(_("legal basis (detail)"), max_length=300, blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE
    )
    deadline = models.DateField(_("answer wanted by"))
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices)
    sent_at = models.DateTimeField(_("sent"))
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answer = EncryptedTextField(_("answer"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    # The exchange messages that carried the request and the answer (for their receipts).
    request_msg_id = models.UUIDField(null=True, blank=True, editable=False)
    answer_msg_id = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["direction", "status", "deadline"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(legal_basis=""), name="enf_request_legal_basis"
            ),
            models.CheckConstraint(
                condition=models.Q(direction="incoming") | models.Q(le_case__isnull=False),
                name="enf_outgoing_request_has_case",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="answered")
                | models.Q(answered_at__isnull=False) & ~models.Q(outcome=""),
                name="enf_answered_has_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"request {self.pk}"

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.status in (RequestStatus.SENT, RequestStatus.RECEIVED) and (
            self.deadline < today
        )

    @property
    def days_to_answer(self) -> float | None:
        if self.answered_at is None:
            return None
        return round((self.answered_at - self.sent_at).total_seconds() / 86400, 1)


class RequestEvent(models.Model):
    """The history of a request: every step, never changed or deleted (no text of it)."""

    class Kind(models.TextChoices):
        SENT = "sent", _("Request sent")
        RECEIVED = "received", _("Request received")
        ANSWERED = "answered", _("Answer sent")
        ANSWER_RECEIVED = "answer_received", _("Answer received")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    id = models.BigAutoField(primary_key=True)
    request = models.ForeignKey(InfoRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    msg_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.request_id}"


# --- Investigation meetings (IV.4) --------------------------------------------------------


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class SecondLanguage(models.TextChoices):
    KM = "km", _("Khmer")
    ZH_HANS = "zh-hans", _("Simplified Chinese")


class Meeting(models.Model):
    """A case investigation (or joint taskforce) meeting, in either country. The record is
    the organising node's; it is sent to the other node, which keeps a read-only copy."""

    PII_FIELDS = ("minutes_en", "minutes_second")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    origin = models.CharField(_("recorded by"), max_length=2, choices=Country.choices)
    data_key = DataKeyField()
    title = models.CharField(_("title"), max_length=200)
    host_country = models.CharField(_("host country"), max_length=2, choices=Country.choices)
    place = models.CharField(_("place"), max_length=200)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    status = models.CharField(
        _("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    agenda = models.TextField(_("agenda"), blank=True)
    second_language = models.CharField(
        _("second language of the minutes"), max_length=8, choices=SecondLanguage.choices
    )
    minutes_en = EncryptedTextField(_("minutes (English)"))
    minutes_second = EncryptedTextField(_("minutes (second language)"))
    # This node's law-enforcement cases addressed at the meeting (not sent to the peer) and
    # the references both sides gave (sent: each side resolves its own).
    le_cases = models.ManyToManyField(LeCase, blank=True, related_name="meetings")
    case_references = models.JSONField(_("cases addressed"), default=list, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-starts_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="enf_meeting_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(host_country__in=Country.values), name="enf_meeting_host"
            ),
        ]

    def __str__(self) -> str:
        return f"meeting {self.pk}"

    @property
    def is_local(self) -> bool:
        return self.origin == settings.CTIP_NODE


class ParticipantRole(models.TextChoices):
    HEAD = "head", _("Head of delegation")
    MEMBER = "member", _("Member")
    INTERPRETER = "interpreter", _("Interpreter")
    SECRETARIAT = "secretariat", _("Secretariat")


class Participant(models.Model):
    """A participant of a meeting: a taskforce member, or an official named here. Officials'
    names are not victims' data (as in the finance app's delegations)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    member = models.ForeignKey(
        TaskforceMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    role = models.CharField(
        _("role"), max_length=20, choices=ParticipantRole.choices, default=ParticipantRole.MEMBER
    )

    class Meta:
        ordering = ["country", "role", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(member__isnull=False) | ~models.Q(name=""),
                name="enf_participant_member_or_name",
            )
        ]

    def __str__(self) -> str:
        return f"participant {self.pk}"

    @property
    def display_name(self) -> str:
        return self.name or (self.member.focal_person.name if self.member_id else "")

    @property
    def display_organisation(self) -> str:
        if self.organisation:
            return self.organisation
        return self.member.focal_person.agency.name if self.member_id else ""


class Decision(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    number = models.PositiveSmallIntegerField()
    text = models.TextField(_("decision"))

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "number"], name="enf_decision_number")
        ]

    def __str__(self) -> str:
        return f"decision {self.number}"


class ActionItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items")
    text = models.TextField(_("action"))
    owner = models.ForeignKey(
        TaskforceMember,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner_name = models.CharField(_("owner (if not a member)"), max_length=200, blank=True)
    due_on = models.DateField(_("due"))
    done_on = models.DateField(_("done"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False) | ~models.Q(owner_name=""),
                name="enf_action_has_owner",
            )
        ]

    def __str__(self) -> str:
        return f"action item {self.pk}"

    @property
    def display_owner(self) -> str:
        return self.owner_name or (self.owner.focal_person.name if self.owner_id else "")

    def is_overdue(self, today=None) -> bool:
        return self.done_on is None and self.due_on < (today or timezone.localdate())


# --- Testimony (IV.6) ---------------------------------------------------------------------


class HearingMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person, open court")
    IN_CAMERA = "in_camera", _("In camera (closed court)")
    REMOTE = "remote_video", _("Remote, by video link")
    RECORDED = "recorded_statement", _("Recorded statement")


class ProtectiveMeasure(models.TextChoices):
    SCREEN = "screen", _("Screen from the accused")
    VOICE = "voice_distortion", _("Voice or image distortion")
    PSEUDONYM = "pseudonym", _("Pseudonym in the record")
    SUPPORT = "support_person", _("Support person present")
    INTERPRETER = "interpreter", _("Interpreter")
    SEPARATE = "separate_waiting", _("Separate waiting area")
    ESCORT = "escort", _("Police escort")


class TestimonyStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ARRANGED = "arranged", _("Arranged")
    HELD = "held", _("Testimony given")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Testimony(models.Model):
    """A request for a victim's or witness's testimony and how it is arranged. It cannot be
    arranged or held without the person's recorded consent."""

    PII_FIELDS = ("notes",)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    le_case = models.ForeignKey(LeCase, on_delete=models.CASCADE, related_name="testimonies")
    data_key = DataKeyField()  # the case's
    witness = models.ForeignKey(
        VictimLink, verbose_name=_("victim or witness"), on_delete=models.PROTECT
    )
    court = models.CharField(_("court"), max_length=200)
    hearing_country = models.CharField(_("country of the hearing"), max_length=2)
    hearing_mode = models.CharField(_("hearing"), max_length=20, choices=HearingMode.choices)
    hearing_date = models.DateField(_("hearing date"), null=True, blank=True)
    protective_measures = models.JSONField(_("protective measures"), default=list, blank=True)
    consent_given = models.BooleanField(_("consent given"), default=False)
    consent_on = models.DateField(_("consent given on"), null=True, blank=True)
    consent_language = models.CharField(_("language of consent"), max_length=10, blank=True)
    interpreter_used = models.BooleanField(_("interpreter used"), default=False)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=TestimonyStatus.choices,
        default=TestimonyStatus.REQUESTED,
    )
    notes = EncryptedTextField(_("notes"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "testimonies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["requested", "withdrawn"])
                | models.Q(consent_given=True, consent_on__isnull=False),
                name="enf_testimony_needs_consent",
            ),
            models.CheckConstraint(
                condition=models.Q(consent_given=False) | ~models.Q(consent_language=""),
                name="enf_testimony_consent_language",
            ),
        ]

    def __str__(self) -> str:
        return f"testimony {self.pk}"
