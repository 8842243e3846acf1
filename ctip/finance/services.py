"""Writes of the finance app. Each runs in one transaction with its audit row; bad input
raises ``ValidationError`` keyed by the field at fault (messages from ``messages.py``).

Audit details carry codes, amounts and Parties, never names or contact details.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.accounts.models import Country
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.finance import core
from ctip.finance.messages import MESSAGES
from ctip.finance.models import (
    BudgetAllocation,
    BudgetEntry,
    Category,
    CostItem,
    Delegation,
    DelegationMember,
    Donor,
    DonorCommitment,
    DonorCoverage,
    EntryKind,
    Meeting,
    ProgrammeItem,
    WrittenException,
)

RESOURCE = "finance"
HUNDRED = Decimal(100)
SHARE_STEP = Decimal("0.0001")


class Errors:
    """Collects field errors from several checks, to report them all at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[ValidationError]] = {}

    def add(self, field: str, code: str) -> None:
        self.fields.setdefault(field, []).append(ValidationError(MESSAGES[code], code=code))

    def add_message(self, field: str, message, code: str = "invalid") -> None:
        self.fields.setdefault(field, []).append(ValidationError(message, code=code))

    def take(self, error: core.InvalidInput, rename: dict[str, str] | None = None) -> None:
        for item in error.errors:
            self.add((rename or {}).get(item.field, item.field), item.code)

    def attempt(self, func, *args, rename=None, **kwargs):
        try:
            return func(*args, **kwargs)
        except core.InvalidInput as error:
            self.take(error, rename)
            return None

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationError(self.fields)


def _party(errors: Errors, field: str, value: str, *, blank: bool = False) -> str:
    if blank and not value:
        return ""
    if value not in Country.values:
        errors.add(field, "unknown_party")
    return value


@dataclass(frozen=True)
class RateInput:
    rate: object = None  # Decimal or text; None when the amount needs no rate
    rate_base: str = ""  # the currency of which one unit equals ``rate`` of the other
    rate_date: dt.date | None = None


def _rate(errors: Errors, given: RateInput, source: str, target: str) -> core.ExchangeRate | None:
    """The rate between ``source`` and ``target`` (currency codes), if they differ."""
    codes = {c.value for c in core.Currency}
    if source == target or source not in codes or target not in codes:
        return None
    if given.rate in (None, ""):
        errors.add("rate", "missing_rate")
        return None
    value = errors.attempt(core.parse_rate, given.rate)
    if given.rate_date is None:
        errors.add("rate_date", "missing_rate_date")
    base = given.rate_base or target
    if base not in (source, target):
        errors.add("rate_base", "rate_wrong_currency")
    if value is None or given.rate_date is None or base not in (source, target):
        return None
    quote = target if base == source else source
    return core.ExchangeRate(core.Currency(base), core.Currency(quote), value, given.rate_date)


def _store_rate(obj, rate: core.ExchangeRate | None) -> None:
    obj.rate_base = rate.base.value if rate else ""
    obj.rate_quote = rate.quote.value if rate else ""
    obj.rate = rate.rate if rate else None
    obj.rate_date = rate.on if rate else None


def _save(obj, *, user, details: dict, request=None, action=Action.CREATE, fields=()):
    obj.full_clean()
    try:
        with transaction.atomic():
            obj.save(force_insert=action == Action.CREATE)
    except IntegrityError as exc:  # a concurrent writer got there first
        raise ValidationError(_("This record conflicts with one saved just now.")) from exc
    audit_record(
        actor=user, action=action, obj=obj, fields=fields, details=details, request=request
    )
    return obj


# --- Meetings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingInput:
    title: str
    kind: str
    host_country: str
    place: str
    starts_on: dt.date
    ends_on: dt.date
    reporting_currency: str = "USD"
    plan_activity: str = ""
    title_km: str = ""
    title_zh_hans: str = ""


@transaction.atomic
def meeting_create(*, user, data: MeetingInput, request=None) -> Meeting:
    permissions.require(user, RESOURCE, permissions.CREATE, request=request)
    errors = Errors()
    currency = errors.attempt(
        core.parse_currency, data.reporting_currency, field="reporting_currency"
    )
    _party(errors, "host_country", data.host_country)
    errors.raise_if_any()
    meeting = Meeting(
        **{
            **vars(data),
            "reporting_currency": currency.value,
            "plan_activity": data.plan_activity.strip().upper(),
        },
        created_by=user,
    )
    return _save(
        meeting,
        user=user,
        request=request,
        details={
            "kind": meeting.kind,
            "host": meeting.host_country,
            "plan_activity": meeting.plan_activity,
            "ruleset": meeting.ruleset,
        },
    )


@transaction.atomic
def delegation_add(*, user, meeting: Meeting, country: str, request=None) -> Delegation:
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    errors = Errors()
    _party(errors, "country", country)
    errors.raise_if_any()
    if meeting.delegations.filter(country=country).exists():
        raise ValidationError({"country": _("This Party already has a delegation here.")})
    delegation = Delegation(meeting=meeting, country=country)
    return _save(
        delegation,
        user=user,
        request=request,
        details={"meeting": str(meeting.pk), "country": country},
    )


@dataclass(frozen=True)
class MemberInput:
    name: str = ""
    user_id: int | None = None
    position: str = ""
    organisation: str = ""
    role: str = "member"
    contact: str = ""


@transaction.atomic
def member_add(
    *, user, delegation: Delegation, data: MemberInput, request=None
) -> DelegationMember:
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    if not data.name.strip() and data.user_id is None:
        raise ValidationError({"name": _("Give the official's name, or choose a user.")})
    member = DelegationMember(
        delegation=delegation,
        user_id=data.user_id,
        name=data.name.strip(),
        position=data.position.strip(),
        organisation=data.organisation.strip(),
        role=data.role,
        contact=data.contact.strip() or None,
    )
    filled = [f for f in ("name", "position", "organisation", "contact") if getattr(member, f)]
    return _save(
        member,
        user=user,
        request=request,
        fields=filled,
        details={"delegation": str(delegation.pk), "role": member.role},
    )


@transaction.atomic
def programme_item_add(
    *, user, meeting: Meeting, day: dt.date, title: str, starts_at=None, request=None
) -> ProgrammeItem:
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    item = ProgrammeItem(meeting=meeting, day=day, starts_at=starts_at, title=title.strip())
    return _save(item, user=user, request=request, details={"meeting": str(meeting.pk)})


# --- Cost items ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CostItemInput:
    category: str
    amount: object  # Decimal or text, never float
    currency: str
    incurred_by: str
    for_party: str = ""  # empty: the meeting as a whole
    description: str = ""
    incurred_on: dt.date | None = None
    rate: RateInput = RateInput()


@transaction.atomic
def cost_item_add(*, user, meeting: Meeting, data: CostItemInput, request=None) -> CostItem:
    """Record one cost of a meeting, after checking it as the allocation engine will."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    errors = Errors()
    if data.category not in Category.values:
        errors.add("category", "unknown_category")
    currency = errors.attempt(core.parse_currency, data.currency)
    amount = errors.attempt(core.parse_amount, data.amount, currency) if currency else None
    _party(errors, "incurred_by", data.incurred_by)
    _party(errors, "for_party", data.for_party, blank=True)
    rate = _rate(errors, data.rate, currency.value if currency else "", meeting.reporting_currency)
    if not errors.fields:
        line = core.CostLine(
            id="new",
            category=core.Category(data.category),
            amount=core.Money(amount, currency),
            incurred_by=data.incurred_by,
            for_party=data.for_party or None,
            rate=rate,
        )
        for problem in core.check_line(meeting.facts(), line, meeting.config()):
            errors.add(problem.field, problem.code)
    errors.raise_if_any()
    item = CostItem(
        meeting=meeting,
        category=data.category,
        description=data.description.strip(),
        amount=amount,
        currency=currency.value,
        incurred_by=data.incurred_by,
        for_party=data.for_party,
        incurred_on=data.incurred_on,
        created_by=user,
    )
    _store_rate(item, rate)
    return _save(
        item,
        user=user,
        request=request,
        details={
            "meeting": str(meeting.pk),
            "category": item.category,
            "amount": str(item.amount),
            "currency": item.currency,
            "incurred_by": item.incurred_by,
            "for_party": item.for_party,
        },
    )


@dataclass(frozen=True)
class ExceptionInput:
    share_kh: object
    share_cn: object
    reason: str
    agreed_by: str
    agreed_on: dt.date | None
    cost_item_id: object = None
    category: str = ""
    for_party: str = ""
    document: str = ""


def _share(errors: Errors, field: str, value) -> Decimal | None:
    """A percentage: 0 to 100, at most four decimals (a third is 33.3333)."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        errors.add(field, "not_a_number")
    elif number < 0:
        errors.add(field, "shares_negative")
    elif number > HUNDRED:
        errors.add(field, "shares_do_not_add_up")
    elif number != number.quantize(SHARE_STEP):
        errors.add(field, "too_many_decimals")
    else:
        return number
    return None


@transaction.atomic
def exception_record(
    *, user, meeting: Meeting, data: ExceptionInput, request=None
) -> WrittenException:
    """Record a departure from the rules agreed in writing, with its reason and who agreed."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    errors = Errors()
    kh = _share(errors, "share_kh", data.share_kh)
    cn = _share(errors, "share_cn", data.share_cn)
    if kh is not None and cn is not None and kh + cn != HUNDRED:
        errors.add("share_kh", "shares_do_not_add_up")
    item = None
    if data.cost_item_id:
        item = meeting.cost_items.filter(pk=data.cost_item_id).first()
        if item is None:
            errors.add_message("cost_item", _("Choose a cost item of this meeting."))
    if data.category and data.category not in Category.values:
        errors.add("category", "unknown_category")
    _party(errors, "for_party", data.for_party, blank=True)
    if data.agreed_on is None:
        errors.add("agreed_on", "date_required")
    if not data.reason.strip():
        errors.add("reason", "reason_required")
    if not data.agreed_by.strip():
        errors.add("agreed_by", "agreed_by_required")
    errors.raise_if_any()

    exception = WrittenException(
        meeting=meeting,
        cost_item=item,
        category="" if item else data.category,
        for_party="" if item else data.for_party,
        share_kh=kh,
        share_cn=cn,
        reason=data.reason.strip(),
        agreed_by=data.agreed_by.strip(),
        agreed_on=data.agreed_on,
        document=data.document.strip(),
        recorded_by=user,
    )
    candidate = exception.to_core()
    for problem in core.check_exception(meeting.facts(), candidate, meeting.config()):
        errors.add("share_kh" if problem.field == "shares" else problem.field, problem.code)
    for other in meeting.exceptions.all():
        same = (other.cost_item_id, other.category, other.for_party) == (
            exception.cost_item_id,
            exception.category,
            exception.for_party,
        )
        if same:
            errors.add("cost_item" if item else "category", "ambiguous_exception")
    errors.raise_if_any()
    return _save(
        exception,
        user=user,
        request=request,
        details={
            "meeting": str(meeting.pk),
            "cost_item": str(exception.cost_item_id or ""),
            "category": exception.category,
            "for_party": exception.for_party,
            "shares": {"KH": f"{kh.normalize():f}", "CN": f"{cn.normalize():f}"},
        },
    )


# --- Donors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DonorInput:
    code: str
    name: str
    kind: str
    name_km: str = ""
    name_zh_hans: str = ""


@transaction.atomic
def donor_create(*, user, data: DonorInput, request=None) -> Donor:
    permissions.require(user, RESOURCE, permissions.CREATE, request=request)
    donor = Donor(**{k: v.strip() for k, v in vars(data).items()})
    donor.code = donor.code.lower()
    return _save(donor, user=user, request=request, details={"code": donor.code})


@dataclass(frozen=True)
class CommitmentInput:
    amount: object
    currency: str
    committed_on: dt.date
    meeting_id: object = None
    plan_activity: str = ""
    reference: str = ""


@transaction.atomic
def commitment_create(
    *, user, donor: Donor, data: CommitmentInput, request=None
) -> DonorCommitment:
    permissions.require(user, RESOURCE, permissions.CREATE, request=request)
    errors = Errors()
    currency = errors.attempt(core.parse_currency, data.currency)
    amount = errors.attempt(core.parse_amount, data.amount, currency) if currency else None
    meeting = None
    if data.meeting_id:
        meeting = Meeting.objects.filter(pk=data.meeting_id).first()
        if meeting is None:
            errors.add_message("meeting", _("Choose a meeting recorded here."))
    activity = data.plan_activity.strip().upper()
    if bool(data.meeting_id) == bool(activity):
        errors.add_message(
            "meeting", _("Commit either to one meeting or to one plan activity."), "one_target"
        )
    errors.raise_if_any()
    commitment = DonorCommitment(
        donor=donor,
        meeting=meeting,
        plan_activity=activity,
        amount=amount,
        currency=currency.value,
        committed_on=data.committed_on,
        reference=data.reference.strip(),
    )
    return _save(
        commitment,
        user=user,
        request=request,
        details={
            "donor": donor.code,
            "meeting": str(meeting.pk) if meeting else "",
            "plan_activity": activity,
            "amount": str(amount),
            "currency": commitment.currency,
        },
    )


@transaction.atomic
def coverage_record(
    *,
    user,
    cost_item: CostItem,
    commitment_id,
    amount,
    rate: RateInput = RateInput(),
    request=None,
) -> DonorCoverage:
    """A donor commitment pays (part of) one cost item. The item cannot be covered beyond its
    amount, nor the commitment beyond what was promised."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    item = CostItem.objects.select_for_update().select_related("meeting").get(pk=cost_item.pk)
    errors = Errors()
    commitment = (
        DonorCommitment.objects.select_for_update()
        .select_related("donor")
        .filter(pk=commitment_id)
        .first()
        if commitment_id
        else None
    )
    if commitment is None or not commitment.covers_meeting(item.meeting):
        errors.add_message(
            "commitment", _("Choose a commitment to this meeting or to its plan activity.")
        )
    currency = core.Currency(item.currency)
    covered = errors.attempt(core.parse_amount, amount, currency)
    if covered is not None:
        already = sum((c.amount for c in item.coverages.all()), Decimal(0))
        if already + covered > item.amount:
            errors.add("amount", "coverage_exceeds_amount")
    conversion = None
    if commitment is not None:
        conversion = _rate(errors, rate, item.currency, commitment.currency)
    errors.raise_if_any()
    in_commitment = core.convert(
        core.Money(covered, currency), core.Currency(commitment.currency), conversion
    )
    used = sum((c.amount_committed for c in commitment.coverages.all()), Decimal(0))
    if used + in_commitment.amount > commitment.amount:
        raise ValidationError({"amount": _("This is more than is left of the donor's commitment.")})
    coverage = DonorCoverage(
        commitment=commitment,
        cost_item=item,
        amount=covered,
        amount_committed=in_commitment.amount,
        recorded_by=user,
    )
    _store_rate(coverage, conversion)
    return _save(
        coverage,
        user=user,
        request=request,
        details={
            "cost_item": str(item.pk),
            "commitment": str(commitment.pk),
            "donor": commitment.donor.code,
            "amount": str(covered),
            "currency": item.currency,
        },
    )


# --- Reintegration budget -----------------------------------------------------------------


@dataclass(frozen=True)
class AllocationInput:
    country: str
    year: int
    amount: object
    currency: str
    alert_below: Decimal = core.BudgetConfig().alert_below
    reference: str = ""


@transaction.atomic
def budget_allocation_create(*, user, data: AllocationInput, request=None) -> BudgetAllocation:
    permissions.require(user, RESOURCE, permissions.CREATE, request=request)
    errors = Errors()
    _party(errors, "country", data.country)
    currency = errors.attempt(core.parse_currency, data.currency)
    amount = errors.attempt(core.parse_amount, data.amount, currency) if currency else None
    threshold = data.alert_below if isinstance(data.alert_below, Decimal) else None
    if threshold is None:
        errors.add("alert_below", "not_a_number")
    else:
        errors.attempt(core.BudgetConfig, threshold)
    errors.raise_if_any()
    if BudgetAllocation.objects.filter(country=data.country, year=data.year).exists():
        raise ValidationError({"year": _("This country already has a budget for that year.")})
    allocation = BudgetAllocation(
        country=data.country,
        year=data.year,
        amount=amount,
        currency=currency.value,
        alert_below=threshold,
        reference=data.reference.strip(),
        created_by=user,
    )
    return _save(
        allocation,
        user=user,
        request=request,
        details={
            "country": allocation.country,
            "year": allocation.year,
            "amount": str(amount),
            "currency": allocation.currency,
        },
    )


@dataclass(frozen=True)
class EntryInput:
    kind: str
    case_reference: str
    support: str
    amount: object
    currency: str
    entry_date: dt.date
    against_id: object = None
    referral_reference: str = ""
    rate: RateInput = RateInput()


@transaction.atomic
def budget_entry_add(
    *, user, allocation: BudgetAllocation, data: EntryInput, request=None
) -> BudgetEntry:
    """Record a commitment to, or a spending on, one case's reintegration support. The
    amount is converted into the budget's currency once, with the rate recorded."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    allocation = BudgetAllocation.objects.select_for_update().get(pk=allocation.pk)
    errors = Errors()
    if data.kind not in EntryKind.values:
        errors.add_message("kind", _("Choose commitment or spending."))
    currency = errors.attempt(core.parse_currency, data.currency)
    amount = errors.attempt(core.parse_amount, data.amount, currency) if currency else None
    rate = _rate(errors, data.rate, currency.value if currency else "", allocation.currency)
    reference = data.case_reference.strip().upper()
    against = None
    if data.against_id:
        against = allocation.entries.filter(
            pk=data.against_id, kind=EntryKind.COMMITMENT, case_reference=reference
        ).first()
        if against is None or data.kind != EntryKind.SPENDING:
            errors.add("against", "unknown_commitment")
    errors.raise_if_any()
    in_budget = core.convert(core.Money(amount, currency), core.Currency(allocation.currency), rate)
    entry = BudgetEntry(
        allocation=allocation,
        kind=data.kind,
        case_reference=reference,
        support=data.support,
        referral_reference=data.referral_reference.strip().upper(),
        against=against,
        entry_date=data.entry_date,
        amount=amount,
        currency=currency.value,
        amount_budget=in_budget.amount,
        created_by=user,
    )
    _store_rate(entry, rate)
    if entry.amount_budget <= 0:
        raise ValidationError({"amount": MESSAGES["zero_amount"]})
    return _save(
        entry,
        user=user,
        request=request,
        details={
            "allocation": str(allocation.pk),
            "kind": entry.kind,
            "case": entry.case_reference,
            "support": entry.support,
            "amount": str(entry.amount_budget),
            "currency": allocation.currency,
        },
    )
