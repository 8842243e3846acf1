"""The Joint Plan of Action as living data.

* ``PlanVersion`` holds each version's whole content (the canonical document of
  ``ctip.plan.document``); version 1 is the draft. A version is *agreed* once both parties
  have recorded their ``Endorsement``. Amendments make a new version with who, when and why.
* The tables ``Area`` … ``OpenQuestion`` are the current version, built from its content,
  so that status, indicators and the timeline can query and filter it. Activities are kept
  by number across versions (an activity dropped by an amendment is marked ``withdrawn``),
  so their status history stays attached.
* ``StatusUpdate`` and ``IndicatorValue`` are dated entries per activity and country.
* ``ProgressReport`` freezes a period's status, indicators, open questions and next steps.

The plan holds no personal data: people appear as user accounts and as offices.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Country


def in_language(obj, field: str, lang: str | None = None) -> str:
    """``obj.<field>_<lang>`` for the active language, falling back to English."""
    lang = (lang or get_language() or "en").lower()
    suffix = "km" if lang.startswith("km") else "zh" if lang.startswith("zh") else "en"
    return getattr(obj, f"{field}_{suffix}", "") or getattr(obj, f"{field}_en")


class Party(models.TextChoices):
    KH = "KH", _("Cambodia")
    CN = "CN", _("China")
    BOTH = "both", _("Both parties")


class Status(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    BLOCKED = "blocked", _("Blocked")


class PlanVersion(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.PositiveIntegerField(_("version"), unique=True)
    content = models.JSONField(editable=False)
    content_hash = models.CharField(max_length=64, editable=False)
    reason = models.TextField(_("why"))
    changes = models.JSONField(default=list, blank=True, editable=False)
    meeting = models.CharField(_("meeting"), max_length=300, blank=True)
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
        ordering = ["-number"]
        constraints = [
            models.CheckConstraint(condition=models.Q(number__gte=1), name="plan_version_from_1")
        ]

    def __str__(self) -> str:
        return f"plan version {self.number}"

    @property
    def is_agreed(self) -> bool:
        parties = {e.party for e in self.endorsements.all()}
        return {Country.KH, Country.CN} <= parties


class Endorsement(models.Model):
    """One party's endorsement of one version: who (an office), when, at which meeting."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="endorsements")
    party = models.CharField(_("party"), max_length=2, choices=Country.choices)
    endorsed_by = models.CharField(
        _("endorsed by (office)"),
        max_length=200,
        help_text=_(
            "The office that endorsed, e.g. 'Chair, National Committee for Counter Trafficking'."
        ),
    )
    endorsed_on = models.DateField(_("endorsed on"))
    meeting = models.CharField(_("meeting"), max_length=300)
    content_hash = models.CharField(max_length=64, editable=False)
    # Empty for an endorsement received from the other node (``received_from``).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    # Set when the endorsement came from the other node through the exchange.
    received_from = models.CharField(
        _("received from"), max_length=2, choices=Country.choices, blank=True
    )

    class Meta:
        ordering = ["version__number", "party"]
        constraints = [
            models.UniqueConstraint(fields=["version", "party"], name="one_endorsement_per_party")
        ]

    def __str__(self) -> str:
        return f"endorsement {self.party} of v{self.version.number}"


class Area(models.Model):
    code = models.CharField(max_length=8, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    title_en = models.CharField(max_length=200)
    title_km = models.CharField(max_length=200, blank=True)
    title_zh = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.code

    @property
    def title(self) -> str:
        return in_language(self, "title")


class PlanAgency(models.Model):
    """A responsible agency as the plan names it (not necessarily a user agency)."""

    key = models.SlugField(max_length=60, unique=True)
    party = models.CharField(max_length=4, choices=Party.choices)
    name_en = models.CharField(max_length=300)
    name_km = models.CharField(max_length=300, blank=True)
    name_zh = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.key

    @property
    def name(self) -> str:
        return in_language(self, "name")


class Activity(models.Model):
    number = models.CharField(max_length=10, unique=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="activities")
    position = models.PositiveSmallIntegerField(default=0)
    text_en = models.TextField()
    text_km = models.TextField(blank=True)
    text_zh = models.TextField(blank=True)
    agencies_draft = models.TextField(blank=True)
    agencies = models.ManyToManyField(PlanAgency, through="ActivityAgency", related_name="+")
    withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["area__position", "position"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.number

    @property
    def text(self) -> str:
        return in_language(self, "text")


class ActivityAgency(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="agency_links")
    agency = models.ForeignKey(PlanAgency, on_delete=models.PROTECT, related_name="+")
    uncertain = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "agency"], name="activity_agency_once")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.agency_id}"


class Step(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    text_en = models.TextField()
    text_km = models.TextField(blank=True)
    text_zh = models.TextField(blank=True)
    agency_keys = models.JSONField(default=list, blank=True)
    withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "position"], name="step_position_once")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}.{self.position}"

    @property
    def text(self) -> str:
        return in_language(self, "text")


class TimeframeCell(models.Model):
    """A year the draft marks for the activity, with the cell's note."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="timeframe")
    year = models.PositiveSmallIntegerField()
    draft = models.TextField(blank=True)
    note_en = models.TextField(blank=True)
    note_km = models.TextField(blank=True)
    note_zh = models.TextField(blank=True)
    uncertain = models.BooleanField(default=False)

    class Meta:
        ordering = ["year"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "year"], name="timeframe_year_once"),
            models.CheckConstraint(
                condition=models.Q(year__gte=2000, year__lte=2100), name="timeframe_year_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}@{self.year}"

    @property
    def note(self) -> str:
        return in_language(self, "note")


class ExpectedResult(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveSmallIntegerField()
    text_en = models.TextField()
    text_km = models.TextField(blank=True)
    text_zh = models.TextField(blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "position"], name="result_position_once")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}/R{self.position}"

    @property
    def text(self) -> str:
        return in_language(self, "text")


class Indicator(models.Model):
    """How an expected result (or an activity without one) is measured: computed from this
    node's data (``computed`` names a function in ``ctip.plan.indicators``) or entered by hand
    with evidence."""

    code = models.CharField(max_length=60, unique=True)
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="indicators")
    result = models.ForeignKey(
        ExpectedResult, null=True, blank=True, on_delete=models.SET_NULL, related_name="indicators"
    )
    text_en = models.TextField()
    text_km = models.TextField(blank=True)
    text_zh = models.TextField(blank=True)
    computed = models.CharField(max_length=80, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["activity__area__position", "activity__position", "position"]

    def __str__(self) -> str:
        return self.code

    @property
    def text(self) -> str:
        return in_language(self, "text")


class OpenQuestion(models.Model):
    key = models.CharField(max_length=60, unique=True)
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="questions")
    cell = models.CharField(max_length=30)
    draft = models.TextField(blank=True)
    text_en = models.TextField()
    text_km = models.TextField(blank=True)
    text_zh = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=[("open", _("open")), ("resolved", _("resolved"))], default="open"
    )
    resolution_en = models.TextField(blank=True)
    resolution_km = models.TextField(blank=True)
    resolution_zh = models.TextField(blank=True)
    resolved_in = models.PositiveIntegerField(null=True, blank=True)
    withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["activity__area__position", "activity__position", "key"]

    def __str__(self) -> str:
        return self.key

    @property
    def text(self) -> str:
        return in_language(self, "text")

    @property
    def resolution(self) -> str:
        return in_language(self, "resolution")


class FinancialNote(models.Model):
    key = models.CharField(max_length=20, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    text_en = models.TextField()
    text_km = models.TextField(blank=True)
    text_zh = models.TextField(blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.key

    @property
    def text(self) -> str:
        return in_language(self, "text")


class EvidenceDocument(models.Model):
    """An uploaded document that supports a status update or an indicator value.

    Kept in the database (one backup holds everything), served only as an attachment under
    an opaque name; the uploaded file name is not kept (it may name a person)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    content_type = models.CharField(max_length=100)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"evidence {self.pk}"


class StatusUpdate(models.Model):
    """A dated report of where one activity (or one of its steps) stands in one country."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="updates")
    # PROTECT: a step's updates must never turn into updates of the whole activity.
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.PROTECT, related_name="updates"
    )
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    as_of = models.DateField(_("as of"))
    note = models.TextField(_("progress"), blank=True)
    next_step = models.TextField(_("next step"), blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    evidence_url = models.CharField(_("evidence (link to a record)"), max_length=300, blank=True)
    evidence = models.ForeignKey(
        EvidenceDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-as_of", "-recorded_at"]
        indexes = [models.Index(fields=["activity", "country", "as_of"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="status_update_known_status"
            ),
            models.CheckConstraint(
                condition=models.Q(evidence_url="") | models.Q(evidence_url__startswith="/"),
                name="status_evidence_is_local_link",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} {self.country} {self.status} @{self.as_of}"


class IndicatorValue(models.Model):
    """A value entered by hand for an indicator the system cannot compute, with evidence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="values")
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    as_of = models.DateField(_("as of"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    note = models.TextField(_("note"), blank=True)
    evidence_url = models.CharField(_("evidence (link to a record)"), max_length=300, blank=True)
    evidence = models.ForeignKey(
        EvidenceDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-as_of", "-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(evidence_url="") | models.Q(evidence_url__startswith="/"),
                name="indicator_evidence_is_local_link",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.country} @{self.as_of}"


class ProgressReport(models.Model):
    """A period's progress, frozen when issued so that what was sent stays what was said."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    country = models.CharField(_("reporting country"), max_length=2, choices=Country.choices)
    language = models.CharField(_("second language"), max_length=10)
    # Null only for a report received from the other node about a version not held here.
    version = models.ForeignKey(
        PlanVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    content = models.JSONField(editable=False)
    # Empty for a report received from the other node.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A report of the other node, received through the exchange (kept read-only, under the
    # id it has there); for our own reports: when it was last queued for the other node.
    received_from = models.CharField(
        _("received from"), max_length=2, choices=Country.choices, blank=True
    )
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent to the other node"), null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="report_period_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(language__in=["km", "zh-hans"]), name="report_second_language"
            ),
        ]

    def __str__(self) -> str:
        return f"progress report {self.country} {self.period_start}–{self.period_end}"
