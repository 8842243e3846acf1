"""Meetings and their costs under the Financial Notes, donors, and the national budget for
victim reintegration (plan activity III.8).

Money columns are ``NUMERIC(18, 2)`` read as ``Decimal``; the currency beside each amount
says how many of those decimals are in use (KHR: none). Every amount that is not in the
currency it is reported in carries the exchange rate used and its date. The rules that
decide who pays are in :mod:`ctip.finance.core` (no Django), not in these models.

Nothing here is a victim's personal data. Cases are referred to by their reference string
(``KH-C-…``), not by a foreign key: see docs/decisions.md. Delegation members are officials;
their contact details are still encrypted, kept out of logs and audit details.
"""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Country
from ctip.core.models import DataKeyField, EncryptedTextField
from ctip.finance import core

AMOUNT = {"max_digits": 18, "decimal_places": 2}
RATE = {"max_digits": 20, "decimal_places": 8}

PLAN_ACTIVITY_RE = re.compile(r"^(I|II|III|IV|V|VI)\.[1-9][0-9]?$")
plan_activity_validator = RegexValidator(
    PLAN_ACTIVITY_RE, _("Give a plan activity by its number, such as VI.1 or III.8.")
)
CASE_REFERENCE_RE = re.compile(r"^[A-Z]{2}-[A-Z]{1,3}-[0-9A-Z]{4,16}$")
case_reference_validator = RegexValidator(
    CASE_REFERENCE_RE, _("Give the case reference as shown on the case, such as KH-C-1A2B3C4D.")
)


class Currency(models.TextChoices):
    USD = "USD", _("US dollar (USD)")
    KHR = "KHR", _("Cambodian riel (KHR)")
    CNY = "CNY", _("Chinese yuan (CNY)")


class MeetingKind(models.TextChoices):
    WORKSHOP = "workshop", _("Workshop")
    MEETING = "meeting", _("Meeting")
    FIELD_TRIP = "field_trip", _("Field trip")
    TRAINING = "training", _("Training")


class Category(models.TextChoices):
    INTERNATIONAL_TRAVEL = "international_travel", _("International travel")
    DOMESTIC_TRAVEL = "domestic_travel", _("Domestic travel")
    ACCOMMODATION = "accommodation", _("Accommodation")
    VENUE = "venue", _("Venue")
    MEALS = "meals", _("Meals")
    INTERPRETATION = "interpretation", _("Interpretation")
    MATERIALS = "materials", _("Materials")
    OTHER = "other", _("Other")


class MemberRole(models.TextChoices):
    HEAD = "head", _("Head of delegation")
    MEMBER = "member", _("Member")
    INTERPRETER = "interpreter", _("Interpreter")
    SECRETARIAT = "secretariat", _("Secretariat")


class MeetingSource(models.TextChoices):
    TRAINING = "training", _("Training (capacity building)")
    ENFORCEMENT = "enforcement", _("Law-enforcement meeting")


class DonorKind(models.TextChoices):
    INTERNATIONAL = "international", _("International organisation")
    GOVERNMENT = "government", _("Government or development agency")
    NGO = "ngo", _("Non-government organisation")
    PRIVATE = "private", _("Private sector or foundation")


class EntryKind(models.TextChoices):
    COMMITMENT = "commitment", _("Commitment")
    SPENDING = "spending", _("Spending")


class SupportType(models.TextChoices):
    SHELTER = "shelter", _("Shelter")
    MEDICAL = "medical", _("Medical care")
    LEGAL_AID = "legal_aid", _("Legal aid")
    PSYCHOSOCIAL = "psychosocial", _("Psychosocial support")
    FAMILY_TRACING = "family_tracing", _("Family tracing")
    VOCATIONAL = "vocational", _("Vocational training")
    FINANCIAL = "financial", _("Financial support")
    OTHER = "other", _("Other support")


def _in(field: str, choices) -> models.Q:
    return models.Q(**{f"{field}__in": [c for c, _label in choices.choices]})


class NodeWide:
    """Finance records belong to the node's secretariat, not to one agency: whoever may view
    ``finance`` sees them all (the object rule the deny-by-default walk checks)."""

    def ctip_visible_to(self, user) -> bool:
        from ctip.accounts import permissions

        return permissions.can(user, "finance", permissions.VIEW)


def recorded_by_agency_of(user, recorder) -> bool:
    """``user`` may change finance records and belongs to the agency of ``recorder`` (the
    user who recorded the record)."""
    from ctip.accounts import permissions

    if not permissions.can(user, "finance", permissions.CHANGE):
        return False
    agency = getattr(user, "agency_id", None)
    return bool(agency) and recorder is not None and recorder.agency_id == agency


def _localised(obj, base: str) -> str:
    lang = (get_language() or "en").lower()
    if lang.startswith("km") and getattr(obj, f"{base}_km", ""):
        return getattr(obj, f"{base}_km")
    if lang.startswith("zh") and getattr(obj, f"{base}_zh_hans", ""):
        return getattr(obj, f"{base}_zh_hans")
    return getattr(obj, base)


class RatedAmount(models.Model):
    """An amount in a currency, with the rate (``1 rate_base = rate rate_quote``) and its date
    used to bring it into another currency."""

    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    rate_base = models.CharField(
        _("rate: one unit of"), max_length=3, choices=Currency.choices, blank=True
    )
    rate = models.DecimalField(_("exchange rate"), null=True, blank=True, **RATE)
    rate_quote = models.CharField(_("rate: in"), max_length=3, choices=Currency.choices, blank=True)
    rate_date = models.DateField(_("rate date"), null=True, blank=True)

    class Meta:
        abstract = True

    def money(self) -> core.Money:
        currency = core.Currency(self.currency)
        return core.Money(self.amount.quantize(core.quantum(currency)), currency)

    def exchange_rate(self) -> core.ExchangeRate | None:
        if self.rate is None:
            return None
        return core.ExchangeRate(
            core.Currency(self.rate_base),
            core.Currency(self.rate_quote),
            self.rate.normalize(),
            self.rate_date,
        )

    @property
    def rate_display(self) -> str:
        if self.rate is None:
            return ""
        return f"1 {self.rate_base} = {self.rate.normalize():f} {self.rate_quote}"

    @classmethod
    def rate_constraints(cls, prefix: str) -> list[models.BaseConstraint]:
        no_rate = models.Q(rate__isnull=True, rate_date__isnull=True, rate_base="", rate_quote="")
        rate = (
            models.Q(rate__gt=0, rate_date__isnull=False)
            & ~models.Q(rate_base="")
            & ~models.Q(rate_quote="")
            & ~models.Q(rate_base=models.F("rate_quote"))
        )
        return [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name=f"{prefix}_amount_pos"),
            models.CheckConstraint(condition=_in("currency", Currency), name=f"{prefix}_currency"),
            models.CheckConstraint(condition=no_rate | rate, name=f"{prefix}_rate_complete"),
        ]


# --- Meetings -----------------------------------------------------------------------------


class Meeting(NodeWide, models.Model):
    """A workshop, meeting, field trip or training held under the plan, in one country."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(_("title (English)"), max_length=200)
    title_km = models.CharField(_("title (Khmer)"), max_length=200, blank=True)
    title_zh_hans = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=MeetingKind.choices)
    plan_activity = models.CharField(
        _("plan activity"),
        max_length=8,
        blank=True,
        validators=[plan_activity_validator],
        help_text=_("The activity of the Plan of Action, by its number (e.g. VI.1)."),
    )
    host_country = models.CharField(_("host Party"), max_length=2, choices=Country.choices)
    place = models.CharField(_("place"), max_length=200)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    reporting_currency = models.CharField(
        _("reporting currency"), max_length=3, choices=Currency.choices, default=Currency.USD
    )
    ruleset = models.CharField(
        _("version of the Financial Notes"), max_length=40, default=core.CURRENT_RULESET
    )
    source_type = models.CharField(
        _("taken from"), max_length=20, choices=MeetingSource.choices, blank=True
    )
    source_id = models.CharField(_("source record"), max_length=64, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-starts_on", "title"]
        indexes = [models.Index(fields=["starts_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="finance_meeting_ends_after_start",
            ),
            models.CheckConstraint(condition=_in("host_country", Country), name="finance_host"),
            models.CheckConstraint(
                condition=_in("reporting_currency", Currency), name="finance_reporting_currency"
            ),
            models.CheckConstraint(condition=_in("kind", MeetingKind), name="finance_kind"),
            models.CheckConstraint(
                condition=models.Q(source_type="", source_id="")
                | (~models.Q(source_type="") & ~models.Q(source_id="")),
                name="finance_meeting_source_complete",
            ),
            models.UniqueConstraint(
                fields=["source_type", "source_id"],
                condition=~models.Q(source_type=""),
                name="finance_meeting_one_per_source",
                violation_error_message=_("A finance meeting was already taken from it."),
            ),
            models.CheckConstraint(
                condition=models.Q(cancelled_at__isnull=True, cancel_reason="")
                | (models.Q(cancelled_at__isnull=False) & ~models.Q(cancel_reason="")),
                name="finance_meeting_cancel_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_on:%Y-%m-%d})"

    def clean(self) -> None:
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The last day cannot be before the first day.")
        if self.ruleset not in core.RULESETS:
            errors["ruleset"] = _("Unknown version of the Financial Notes.")
        if errors:
            raise ValidationError(errors)

    @property
    def title_local(self) -> str:
        return _localised(self, "title")

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def changeable_by(self, user) -> bool:
        """The object rule for changes: finance editors of the agency that recorded the
        meeting (the NCCT secretariat's office). Viewing stays node-wide
        (``ctip_visible_to``). A cancelled meeting is refused by the services, with a
        message."""
        return recorded_by_agency_of(user, self.created_by)

    @property
    def year(self) -> int:
        return self.starts_on.year

    def party_codes(self) -> frozenset[str]:
        """The host and every Party with a delegation."""
        return frozenset({self.host_country, *(d.country for d in self.delegations.all())})

    def facts(self) -> core.MeetingFacts:
        return core.MeetingFacts(host=self.host_country, parties=self.party_codes())

    def config(self) -> core.AllocationConfig:
        return core.AllocationConfig(
            ruleset=self.ruleset, reporting_currency=core.Currency(self.reporting_currency)
        )


class Delegation(NodeWide, models.Model):
    """One Party's delegation to a meeting (the host may have one too)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="delegations")
    country = models.CharField(_("Party"), max_length=2, choices=Country.choices)

    class Meta:
        ordering = ["country"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "country"], name="finance_one_delegation_per_party"
            ),
            models.CheckConstraint(condition=_in("country", Country), name="finance_del_country"),
        ]

    def __str__(self) -> str:
        return f"{self.country} delegation to {self.meeting_id}"

    @property
    def is_visiting(self) -> bool:
        return self.country != self.meeting.host_country


class DelegationMember(models.Model):
    """An official in a delegation: a user of this node, or a name from outside it.

    Officials' names are not victims' data and are shown to everyone who may see the
    meeting; their contact details are encrypted and never logged.
    """

    PII_FIELDS = ("contact",)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = DataKeyField()
    delegation = models.ForeignKey(Delegation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    role = models.CharField(
        _("role in the delegation"),
        max_length=20,
        choices=MemberRole.choices,
        default=MemberRole.MEMBER,
    )
    contact = EncryptedTextField(_("contact details"))

    class Meta:
        ordering = ["role", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(name=""),
                name="finance_member_user_or_name",
            )
        ]

    def __str__(self) -> str:
        return f"delegation member {self.pk}"  # no names in logs or error reports

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        if self.user_id:
            return self.user.get_full_name() or self.user.get_username()
        return ""


class ProgrammeItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="programme")
    day = models.DateField(_("day"))
    starts_at = models.TimeField(_("time"), null=True, blank=True)
    title = models.CharField(_("session"), max_length=300)

    class Meta:
        ordering = ["day", "starts_at", "title"]

    def __str__(self) -> str:
        return f"programme item {self.pk}"

    def clean(self) -> None:
        meeting = self.meeting
        if self.day and not (meeting.starts_on <= self.day <= meeting.ends_on):
            raise ValidationError({"day": _("The day must fall within the meeting's dates.")})


class CostItem(RatedAmount):
    """One cost of a meeting: what it was, how much, who paid the bill, and whom it was for.

    ``for_party`` empty means the meeting as a whole (venue, shared interpretation …). The
    rate, if any, brings the amount into the meeting's reporting currency.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="cost_items")
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    incurred_by = models.CharField(_("incurred by"), max_length=2, choices=Country.choices)
    for_party = models.CharField(
        _("for the delegation of"), max_length=2, choices=Country.choices, blank=True
    )
    incurred_on = models.DateField(_("date"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            *RatedAmount.rate_constraints("finance_cost"),
            models.CheckConstraint(condition=_in("category", Category), name="finance_category"),
            models.CheckConstraint(
                condition=_in("incurred_by", Country), name="finance_cost_incurred_by"
            ),
        ]

    def __str__(self) -> str:
        return f"cost item {self.pk}"


class WrittenException(models.Model):
    """A departure from the Financial Notes that both Parties agreed in writing.

    It applies to one cost item, or to every item of the meeting of a category and/or for a
    delegation. Shares are percentages of the part no donor covered.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="exceptions")
    cost_item = models.ForeignKey(
        CostItem,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exceptions",
        verbose_name=_("cost item"),
    )
    category = models.CharField(_("category"), max_length=30, choices=Category.choices, blank=True)
    for_party = models.CharField(
        _("for the delegation of"), max_length=2, choices=Country.choices, blank=True
    )
    share_kh = models.DecimalField(_("share of Cambodia (%)"), max_digits=7, decimal_places=4)
    share_cn = models.DecimalField(_("share of China (%)"), max_digits=7, decimal_places=4)
    reason = models.TextField(_("reason"), max_length=2000)
    agreed_by = models.CharField(_("agreed by"), max_length=300)
    agreed_on = models.DateField(_("agreed on"))
    document = models.CharField(_("written record"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(share_kh__gte=0, share_cn__gte=0)
                & models.Q(share_kh__lte=100, share_cn__lte=100),
                name="finance_exception_shares_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason="") & ~models.Q(agreed_by=""),
                name="finance_exception_reason_and_who",
            ),
        ]

    def __str__(self) -> str:
        return f"written exception {self.pk}"

    def shares(self) -> dict[str, object]:
        return {"KH": self.share_kh, "CN": self.share_cn}

    def to_core(self) -> core.WrittenException:
        return core.WrittenException(
            id=str(self.pk),
            shares={k: v for k, v in self.shares().items() if v > 0},
            reason=self.reason,
            agreed_by=self.agreed_by,
            agreed_on=self.agreed_on,
            item=str(self.cost_item_id) if self.cost_item_id else None,
            category=core.Category(self.category) if self.category else None,
            for_party=self.for_party or None,
            document=self.document,
        )


# --- External support ---------------------------------------------------------------------


class Donor(NodeWide, models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(_("short code"), max_length=40, unique=True)
    name = models.CharField(_("name (English)"), max_length=200)
    name_km = models.CharField(_("name (Khmer)"), max_length=200, blank=True)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=DonorKind.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name_local(self) -> str:
        return _localised(self, "name")


class DonorCommitment(models.Model):
    """What a donor promised: to one meeting, or to a plan activity (all its meetings)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="commitments")
    meeting = models.ForeignKey(
        Meeting,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments",
        verbose_name=_("meeting"),
    )
    plan_activity = models.CharField(
        _("plan activity"), max_length=8, blank=True, validators=[plan_activity_validator]
    )
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    committed_on = models.DateField(_("committed on"))
    reference = models.CharField(_("agreement reference"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-committed_on"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(meeting__isnull=False) & models.Q(plan_activity=""))
                | (models.Q(meeting__isnull=True) & ~models.Q(plan_activity="")),
                name="finance_commitment_one_target",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="finance_commit_pos"),
            models.CheckConstraint(
                condition=_in("currency", Currency), name="finance_commit_currency"
            ),
        ]

    def __str__(self) -> str:
        return f"commitment {self.pk}"

    def money(self) -> core.Money:
        currency = core.Currency(self.currency)
        return core.Money(self.amount.quantize(core.quantum(currency)), currency)

    def covers_meeting(self, meeting: Meeting) -> bool:
        if self.meeting_id:
            return self.meeting_id == meeting.pk
        return bool(meeting.plan_activity) and meeting.plan_activity == self.plan_activity


class DonorCoverage(models.Model):
    """Part of one cost item that a commitment paid. ``amount`` is in the item's currency;
    ``amount_committed`` is the same money in the commitment's currency (with the rate used,
    if the two differ), so that what a donor covered adds up against what it promised."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    commitment = models.ForeignKey(
        DonorCommitment, on_delete=models.PROTECT, related_name="coverages"
    )
    cost_item = models.ForeignKey(CostItem, on_delete=models.CASCADE, related_name="coverages")
    amount = models.DecimalField(_("amount covered"), **AMOUNT)
    amount_committed = models.DecimalField(**AMOUNT)
    rate_base = models.CharField(max_length=3, choices=Currency.choices, blank=True)
    rate = models.DecimalField(null=True, blank=True, **RATE)
    rate_quote = models.CharField(max_length=3, choices=Currency.choices, blank=True)
    rate_date = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, amount_committed__gt=0),
                name="finance_coverage_pos",
            )
        ]

    def __str__(self) -> str:
        return f"coverage {self.pk}"


# --- Reintegration budget (III.8) ---------------------------------------------------------


class BudgetAllocation(NodeWide, models.Model):
    """A country's national budget for victim reintegration and support, for one year."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(_("amount allocated"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    alert_below = models.DecimalField(
        _("alert when less than this share remains"),
        max_digits=4,
        decimal_places=3,
        default=core.BudgetConfig().alert_below,
        help_text=_("0.100 means 10 %."),
    )
    reference = models.CharField(_("budget reference"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-year", "country"]
        constraints = [
            models.UniqueConstraint(fields=["country", "year"], name="finance_one_budget_a_year"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="finance_budget_pos"),
            models.CheckConstraint(
                condition=models.Q(year__gte=2000, year__lte=2100), name="finance_budget_year"
            ),
            models.CheckConstraint(
                condition=models.Q(alert_below__gte=0, alert_below__lt=1),
                name="finance_budget_alert_range",
            ),
            models.CheckConstraint(
                condition=_in("currency", Currency), name="finance_budget_currency"
            ),
        ]

    def __str__(self) -> str:
        return f"reintegration budget {self.country} {self.year}"

    def changeable_by(self, user) -> bool:
        """Finance editors of the agency that recorded the allocation (so of its country)."""
        return recorded_by_agency_of(user, self.created_by) and user.country == self.country

    def money(self) -> core.Money:
        currency = core.Currency(self.currency)
        return core.Money(self.amount.quantize(core.quantum(currency)), currency)


class BudgetEntry(RatedAmount):
    """A commitment to, or a spending on, one case's reintegration support.

    The case is named by its reference only. ``amount_budget`` is the amount in the
    allocation's currency, converted once when recorded (rate and date kept beside it).
    No free text: a note about a person would be personal data.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    allocation = models.ForeignKey(
        BudgetAllocation, on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    case_reference = models.CharField(
        _("case reference"), max_length=40, validators=[case_reference_validator], db_index=True
    )
    support = models.CharField(_("support"), max_length=20, choices=SupportType.choices)
    referral_reference = models.CharField(_("referral reference"), max_length=40, blank=True)
    # The case's referral (a commitment's source) or service received (a spending's source)
    # in the cases app, by id: that app's models are read, never linked by a foreign key.
    referral_id = models.UUIDField(_("referral"), null=True, blank=True, db_index=True)
    service_id = models.UUIDField(_("service received"), null=True, blank=True, db_index=True)
    against = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("paid against commitment"),
    )
    entry_date = models.DateField(_("date"))
    amount_budget = models.DecimalField(**AMOUNT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-entry_date", "-created_at"]
        verbose_name_plural = "budget entries"
        constraints = [
            *RatedAmount.rate_constraints("finance_budget_entry"),
            models.CheckConstraint(condition=_in("kind", EntryKind), name="finance_entry_kind"),
            models.CheckConstraint(
                condition=models.Q(amount_budget__gt=0), name="finance_entry_budget_pos"
            ),
            models.CheckConstraint(
                condition=models.Q(against__isnull=True) | models.Q(kind="spending"),
                name="finance_entry_against_only_spending",
            ),
            models.CheckConstraint(
                condition=models.Q(service_id__isnull=True) | models.Q(kind="spending"),
                name="finance_entry_service_only_spending",
            ),
        ]

    def __str__(self) -> str:
        return f"budget entry {self.pk}"

    def budget_money(self) -> core.Money:
        currency = core.Currency(self.allocation.currency)
        return core.Money(self.amount_budget.quantize(core.quantum(currency)), currency)
