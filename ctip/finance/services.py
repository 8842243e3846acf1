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
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ctip.accounts import permissions
from ctip.accounts.models import Country
from ctip.audit.models import Action
from ctip.audit.services import audit_record
from ctip.finance import casework, core, sources
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
    SupportType,
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


def _require_changeable(user, record, request=None, *, open_meeting: bool = True) -> None:
    """The object rule for changes (the recording agency), and no change to a cancelled
    meeting. Forbidden is answered as missing, and logged."""
    if not record.changeable_by(user):
        raise permissions.deny(user, RESOURCE, permissions.CHANGE, record.pk, request=request)
    if open_meeting and isinstance(record, Meeting) and record.is_cancelled:
        raise ValidationError(_("This meeting is cancelled: it can no longer be changed."))


def _changed(obj, before: dict) -> list[str]:
    return [f for f, value in before.items() if getattr(obj, f) != value]


def _snapshot(obj, fields) -> dict:
    return {f: getattr(obj, f) for f in fields}


def _check_meeting_lines(errors: Errors, meeting: Meeting, facts, config, field: str) -> None:
    """Every recorded cost and exception still fits the meeting as it would become."""
    for item in meeting.cost_items.all():
        line = core.CostLine(
            id=str(item.pk),
            category=core.Category(item.category),
            amount=item.money(),
            incurred_by=item.incurred_by,
            for_party=item.for_party or None,
            rate=item.exchange_rate(),
        )
        for problem in core.check_line(facts, line, config):
            code = problem.code
            if code in ("missing_rate", "rate_wrong_currency"):
                errors.add_message(
                    "reporting_currency" if field == "host_country" else field,
                    _("A recorded cost has no rate to this reporting currency: %(error)s")
                    % {"error": MESSAGES[code]},
                    code,
                )
            else:
                errors.add(field, code)
            return
    for exception in meeting.exceptions.all():
        for problem in core.check_exception(facts, exception.to_core(), config):
            errors.add(field, problem.code)
            return


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
def meeting_create(*, user, data: MeetingInput, source=None, request=None) -> Meeting:
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
        source_type=source[0] if source else "",
        source_id=source[1] if source else "",
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
            "source": f"{meeting.source_type}:{meeting.source_id}" if source else "",
        },
    )


MEETING_FIELDS = (
    "title",
    "title_km",
    "title_zh_hans",
    "kind",
    "plan_activity",
    "host_country",
    "place",
    "starts_on",
    "ends_on",
    "reporting_currency",
)


@transaction.atomic
def meeting_update(*, user, meeting: Meeting, data: MeetingInput, request=None) -> Meeting:
    """Change a meeting's particulars. The costs, exceptions and programme already recorded
    must still fit: a new host or reporting currency is checked against every cost item
    (its rate, its Parties) as the allocation engine will read it."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = _locked_meeting(meeting.pk)
    _require_changeable(user, meeting, request)
    errors = Errors()
    currency = errors.attempt(
        core.parse_currency, data.reporting_currency, field="reporting_currency"
    )
    _party(errors, "host_country", data.host_country)
    errors.raise_if_any()
    before = _snapshot(meeting, MEETING_FIELDS)
    for field, value in {
        **vars(data),
        "reporting_currency": currency.value,
        "plan_activity": data.plan_activity.strip().upper(),
    }.items():
        setattr(meeting, field, value)
    facts = core.MeetingFacts(
        host=meeting.host_country,
        parties=frozenset({meeting.host_country, *(d.country for d in meeting.delegations.all())}),
    )
    _check_meeting_lines(errors, meeting, facts, meeting.config(), "host_country")
    if meeting.starts_on and meeting.ends_on:
        outside = meeting.programme.exclude(day__gte=meeting.starts_on, day__lte=meeting.ends_on)
        if outside.exists():
            errors.add_message(
                "starts_on", _("A programme session falls outside these dates."), "programme"
            )
    errors.raise_if_any()
    changed = _changed(meeting, before)
    if not changed:
        return meeting
    return _save(
        meeting,
        user=user,
        request=request,
        action=Action.UPDATE,
        fields=changed,
        details={
            "changed": changed,
            "host": meeting.host_country,
            "reporting_currency": meeting.reporting_currency,
        },
    )


@transaction.atomic
def meeting_cancel(*, user, meeting: Meeting, reason: str, request=None) -> Meeting:
    """A meeting that did not (or will not) take place. It keeps what was recorded, costs
    included (a ticket may have been paid), and can no longer be changed."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = _locked_meeting(meeting.pk)
    _require_changeable(user, meeting, request)
    if not reason.strip():
        raise ValidationError({"reason": MESSAGES["reason_required"]})
    meeting.cancelled_at = timezone.now()
    meeting.cancelled_by = user
    meeting.cancel_reason = reason.strip()
    return _save(
        meeting,
        user=user,
        request=request,
        action=Action.UPDATE,
        fields=["cancelled_at", "cancel_reason"],
        details={"cancelled": True, "cost_items": meeting.cost_items.count()},
    )


@transaction.atomic
def meeting_delete(*, user, meeting: Meeting, request=None) -> None:
    """Delete a meeting recorded by mistake. Only while no money is recorded against it
    (costs, written exceptions, donor commitments): otherwise it is cancelled, so that the
    statements keep their history."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = _locked_meeting(meeting.pk)
    _require_changeable(user, meeting, request, open_meeting=False)
    if meeting.cost_items.exists() or meeting.exceptions.exists() or meeting.commitments.exists():
        raise ValidationError(
            _(
                "Costs, exceptions or donor commitments are recorded for this meeting: cancel it "
                "instead, so that its statements keep their history."
            )
        )
    for delegation in meeting.delegations.all():
        for member in delegation.members.all():
            _delete(member, user=user, request=request, details={"meeting": str(meeting.pk)})
        _delete(delegation, user=user, request=request, details={"meeting": str(meeting.pk)})
    details = {
        "kind": meeting.kind,
        "host": meeting.host_country,
        "starts_on": meeting.starts_on.isoformat(),
        "programme": meeting.programme.count(),
    }
    _delete(meeting, user=user, request=request, details=details)


@transaction.atomic
def meeting_from_source(
    *, user, source_type: str, source_id: str, reporting_currency: str = "USD", request=None
) -> Meeting:
    """A finance meeting taken from a training or a law-enforcement meeting: its title,
    host, place, dates, a delegation for every Party present (with the officials the source
    names) and its programme, recorded through the same services as by hand."""
    permissions.require(user, RESOURCE, permissions.CREATE, request=request)
    source = sources.load(user, source_type, source_id)
    if source is None:
        raise permissions.deny(user, RESOURCE, permissions.CREATE, source_id, request=request)
    taken = Meeting.objects.filter(source_type=source.source_type, source_id=source.source_id)
    if taken.exists():
        raise ValidationError(_("A finance meeting was already taken from it."))
    meeting = meeting_create(
        user=user,
        data=MeetingInput(
            title=source.title[:200],
            kind=source.kind,
            host_country=source.host_country,
            place=source.place[:200],
            starts_on=source.starts_on,
            ends_on=source.ends_on,
            reporting_currency=reporting_currency,
        ),
        source=(source.source_type, source.source_id),
        request=request,
    )
    for country in sorted(source.parties, key=["KH", "CN"].index):
        delegation = delegation_add(user=user, meeting=meeting, country=country, request=request)
        for member in source.members.get(country, ()):
            member_add(
                user=user,
                delegation=delegation,
                data=MemberInput(
                    name=member.name[:200],
                    user_id=member.user_id,
                    organisation=member.organisation[:200],
                    role=member.role,
                ),
                request=request,
            )
    for day, title in source.programme:
        if source.starts_on <= day <= source.ends_on:
            programme_item_add(user=user, meeting=meeting, day=day, title=title, request=request)
    return meeting


def _delete(obj, *, user, details: dict, request=None) -> None:
    audit_record(actor=user, action=Action.DELETE, obj=obj, details=details, request=request)
    obj.delete()


@transaction.atomic
def delegation_add(*, user, meeting: Meeting, country: str, request=None) -> Delegation:
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = _locked_meeting(meeting.pk)
    _require_changeable(user, meeting, request)
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
    _require_changeable(user, _locked_meeting(delegation.meeting_id), request)
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


def _locked_meeting(pk) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=pk)


MEMBER_FIELDS = ("name", "user_id", "position", "organisation", "role", "contact")


@transaction.atomic
def member_update(
    *, user, member: DelegationMember, data: MemberInput, request=None
) -> DelegationMember:
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = _locked_meeting(member.delegation.meeting_id)
    _require_changeable(user, meeting, request)
    if not data.name.strip() and data.user_id is None:
        raise ValidationError({"name": _("Give the official's name, or choose a user.")})
    member = DelegationMember.objects.get(pk=member.pk)
    before = _snapshot(member, MEMBER_FIELDS)
    member.user_id = data.user_id
    member.name = data.name.strip()
    member.position = data.position.strip()
    member.organisation = data.organisation.strip()
    member.role = data.role
    member.contact = data.contact.strip() or None
    changed = _changed(member, before)
    if not changed:
        return member
    return _save(
        member,
        user=user,
        request=request,
        action=Action.UPDATE,
        fields=changed,
        details={"delegation": str(member.delegation_id), "role": member.role},
    )


@transaction.atomic
def member_delete(*, user, member: DelegationMember, request=None) -> None:
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = _locked_meeting(member.delegation.meeting_id)
    _require_changeable(user, meeting, request)
    _delete(
        member,
        user=user,
        request=request,
        details={"delegation": str(member.delegation_id), "role": member.role},
    )


@transaction.atomic
def delegation_delete(*, user, delegation: Delegation, request=None) -> None:
    """Remove a Party's delegation (and its members). Refused while a cost or an exception
    of the meeting needs that Party to be there."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = _locked_meeting(delegation.meeting_id)
    _require_changeable(user, meeting, request)
    delegation = Delegation.objects.get(pk=delegation.pk)
    remaining = {d.country for d in meeting.delegations.exclude(pk=delegation.pk)}
    facts = core.MeetingFacts(
        host=meeting.host_country, parties=frozenset({meeting.host_country, *remaining})
    )
    errors = Errors()
    _check_meeting_lines(errors, meeting, facts, meeting.config(), "country")
    if errors.fields:
        raise ValidationError(
            {
                "country": _(
                    "Costs or exceptions of this meeting concern this Party: change or delete "
                    "them first."
                )
            }
        )
    for member in delegation.members.all():
        _delete(member, user=user, request=request, details={"delegation": str(delegation.pk)})
    _delete(
        delegation,
        user=user,
        request=request,
        details={"meeting": str(meeting.pk), "country": delegation.country},
    )


@transaction.atomic
def programme_item_add(
    *, user, meeting: Meeting, day: dt.date, title: str, starts_at=None, request=None
) -> ProgrammeItem:
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = _locked_meeting(meeting.pk)
    _require_changeable(user, meeting, request)
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
    meeting = _locked_meeting(meeting.pk)
    _require_changeable(user, meeting, request)
    amount, currency, rate = _cost_checked(meeting, data)
    item = CostItem(meeting=meeting, created_by=user)
    _cost_fill(item, data, amount, currency, rate)
    return _save(item, user=user, request=request, details=_cost_details(item))


COST_FIELDS = (
    "category",
    "description",
    "amount",
    "currency",
    "incurred_by",
    "for_party",
    "incurred_on",
    "rate",
    "rate_base",
    "rate_date",
)


def _cost_fill(item: CostItem, data: CostItemInput, amount, currency, rate) -> None:
    item.category = data.category
    item.description = data.description.strip()
    item.amount = amount
    item.currency = currency.value
    item.incurred_by = data.incurred_by
    item.for_party = data.for_party
    item.incurred_on = data.incurred_on
    _store_rate(item, rate)


def _cost_details(item: CostItem) -> dict:
    return {
        "meeting": str(item.meeting_id),
        "category": item.category,
        "amount": str(item.amount),
        "currency": item.currency,
        "incurred_by": item.incurred_by,
        "for_party": item.for_party,
    }


@transaction.atomic
def cost_item_update(*, user, item: CostItem, data: CostItemInput, request=None) -> CostItem:
    """Correct a cost item, checked as a new one would be. What donors covered must still
    fit in it, in the same currency (coverage is recorded in the item's currency)."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = _locked_meeting(item.meeting_id)
    _require_changeable(user, meeting, request)
    item = CostItem.objects.select_for_update().get(pk=item.pk)
    amount, currency, rate = _cost_checked(meeting, data)
    covered = sum((c.amount for c in item.coverages.all()), Decimal(0))
    errors = Errors()
    if covered and currency.value != item.currency:
        errors.add_message(
            "currency",
            _("Donors covered this item in %(currency)s: its currency cannot change.")
            % {"currency": item.currency},
            "covered_currency",
        )
    elif covered > amount:
        errors.add_message(
            "amount",
            _("Donors already covered %(covered)s of this item: it cannot be less.")
            % {"covered": f"{covered} {item.currency}"},
            "below_coverage",
        )
    errors.raise_if_any()
    before = _snapshot(item, COST_FIELDS)
    previous = f"{item.amount} {item.currency}"
    _cost_fill(item, data, amount, currency, rate)
    changed = _changed(item, before)
    if not changed:
        return item
    return _save(
        item,
        user=user,
        request=request,
        action=Action.UPDATE,
        fields=changed,
        details={**_cost_details(item), "changed": changed, "was": previous},
    )


@transaction.atomic
def cost_item_delete(*, user, item: CostItem, request=None) -> None:
    """Delete a cost recorded by mistake; the audit row keeps what it was. A cost a donor
    covered, or that a written exception names, is corrected instead (the donor's account
    and the exception refer to it)."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    meeting = _locked_meeting(item.meeting_id)
    _require_changeable(user, meeting, request)
    item = CostItem.objects.select_for_update().get(pk=item.pk)
    if item.coverages.exists() or item.exceptions.exists():
        raise ValidationError(
            _("A donor covered this cost, or a written exception names it: correct it instead.")
        )
    _delete(item, user=user, request=request, details=_cost_details(item))


def _cost_checked(meeting: Meeting, data: CostItemInput):
    """The amount, currency and rate of a cost item, or every field error at once."""
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
    return amount, currency, rate


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
    meeting = _locked_meeting(meeting.pk)
    _require_changeable(user, meeting, request)
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
    _require_changeable(user, _locked_meeting(cost_item.meeting_id), request)
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
    if data.country in Country.values and data.country != getattr(user, "country", None):
        errors.add_message(
            "country", _("Each country records its own national budget."), "other_country"
        )
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
    # The source in the cases app: a referral (for a commitment, or a spending on it) or a
    # service received (for a spending). The support then comes from it.
    referral_id: object = None
    service_id: object = None


@transaction.atomic
def budget_entry_add(
    *, user, allocation: BudgetAllocation, data: EntryInput, request=None
) -> BudgetEntry:
    """Record a commitment to, or a spending on, one case's reintegration support. The
    amount is converted into the budget's currency once, with the rate recorded."""
    permissions.require(user, RESOURCE, permissions.CHANGE, request=request)
    allocation = (
        BudgetAllocation.objects.select_for_update(of=("self",))
        .select_related("created_by")
        .get(pk=allocation.pk)
    )
    _require_changeable(user, allocation, request)
    errors = Errors()
    if data.kind not in EntryKind.values:
        errors.add_message("kind", _("Choose commitment or spending."))
    currency = errors.attempt(core.parse_currency, data.currency)
    amount = errors.attempt(core.parse_amount, data.amount, currency) if currency else None
    rate = _rate(errors, data.rate, currency.value if currency else "", allocation.currency)
    reference = data.case_reference.strip().upper()
    support, referral, service, referral_of_service = data.support, None, None, None
    if data.referral_id:
        referral = casework.record("referral", data.referral_id, reference, allocation.country)
        if referral is None:
            errors.add_message("referral_id", _("Choose a referral of this case."), "source")
        else:
            support = referral.support
    if data.service_id:
        service = casework.record("service", data.service_id, reference, allocation.country)
        if service is None:
            errors.add_message("service_id", _("Choose a service this case received."), "source")
        elif data.kind != EntryKind.SPENDING:
            errors.add_message(
                "kind", _("A service received is paid: record a spending."), "source"
            )
        else:
            support = service.support
            referral_of_service = service.referral_id
    if support not in SupportType.values:
        errors.add_message("support", _("Choose the kind of support."), "support")
    against = None
    if data.against_id:
        against = allocation.entries.filter(
            pk=data.against_id, kind=EntryKind.COMMITMENT, case_reference=reference
        ).first()
        if against is None or data.kind != EntryKind.SPENDING:
            errors.add("against", "unknown_commitment")
    elif data.kind == EntryKind.SPENDING and (referral or service):
        # Paying for what was referred: against the commitment made for that referral.
        source = referral.id if referral else referral_of_service
        if source is not None:
            against = (
                allocation.entries.filter(
                    kind=EntryKind.COMMITMENT, case_reference=reference, referral_id=source
                )
                .order_by("entry_date", "created_at")
                .first()
            )
    errors.raise_if_any()
    in_budget = core.convert(core.Money(amount, currency), core.Currency(allocation.currency), rate)
    entry = BudgetEntry(
        allocation=allocation,
        kind=data.kind,
        case_reference=reference,
        support=support,
        referral_reference=data.referral_reference.strip().upper(),
        referral_id=referral.id if referral else (service.referral_id if service else None),
        service_id=service.id if service else None,
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
            "source": "service" if service else "referral" if referral else "",
            "amount": str(entry.amount_budget),
            "currency": allocation.currency,
        },
    )
