"""Who pays what for one meeting: the Financial Notes applied to its cost items.

For each cost item:

1. The parts that donors covered go to those donors (Financial Note 3, ``FN-3``).
2. The rest goes to the Party named by the first rule that matches the item's category and
   whom the cost is for (:mod:`.rules`), unless a written exception agreed between the
   Parties applies: then the exception's shares decide, and the result records the rule it
   set aside, the reason and who agreed.
3. Every share is computed twice: in the item's own currency, and in the meeting's reporting
   currency. The item is converted once (half-even, :func:`.money.convert`) and that
   converted total is split in the same proportions by the largest-remainder method, so the
   shares add up to the item exactly in both currencies, and the statement totals add up to
   the sum of the items.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .errors import FieldError, InvalidInput
from .money import Currency, ExchangeRate, Money, convert, split
from .rules import CURRENT_RULESET, Bearer, Category, For, Rule, RuleSet, get_ruleset

__all__ = [
    "PARTIES",
    "AllocationConfig",
    "CostLine",
    "Coverage",
    "ItemAllocation",
    "MeetingAllocation",
    "MeetingFacts",
    "Share",
    "WrittenException",
    "allocate",
    "check_exception",
    "check_line",
    "donor_key",
]

PARTIES = ("KH", "CN")  # the two Parties to the agreement, in the order statements list them


def donor_key(donor_id: str) -> str:
    return f"donor:{donor_id}"


@dataclass(frozen=True)
class AllocationConfig:
    """How to allocate: which version of the notes, which currency to report in."""

    ruleset: str = CURRENT_RULESET
    reporting_currency: Currency = Currency.USD
    parties: tuple[str, ...] = PARTIES

    def __post_init__(self) -> None:
        get_ruleset(self.ruleset)  # raises InvalidInput(unknown_ruleset)
        if not isinstance(self.reporting_currency, Currency):
            raise InvalidInput.one("reporting_currency", "unknown_currency")
        if not self.parties or len(set(self.parties)) != len(self.parties):
            raise ValueError("parties must be a non-empty tuple without repeats")

    @property
    def rules(self) -> RuleSet:
        return get_ruleset(self.ruleset)


@dataclass(frozen=True)
class MeetingFacts:
    host: str
    parties: frozenset[str]  # the host and every Party with a delegation

    def __post_init__(self) -> None:
        if self.host not in self.parties:
            raise InvalidInput.one("host_country", "host_not_a_party")

    def role_of(self, party: str | None) -> For:
        if party is None:
            return For.MEETING
        return For.HOST if party == self.host else For.VISITING


@dataclass(frozen=True)
class Coverage:
    """Part of one cost item that a donor paid, in the item's currency."""

    donor: str
    amount: Decimal
    commitment: str = ""


@dataclass(frozen=True)
class CostLine:
    id: str
    category: Category
    amount: Money
    incurred_by: str  # the Party that paid the bill
    for_party: str | None  # whose delegation it is for; None: the meeting as a whole
    rate: ExchangeRate | None = None  # to the reporting currency, if the item is in another
    coverages: tuple[Coverage, ...] = ()


@dataclass(frozen=True)
class WrittenException:
    """A departure from the rules that both Parties agreed in writing.

    It applies to one item (``item``), or to every item of the meeting that matches
    ``category`` and/or ``for_party`` (``None`` matches all). The most specific one wins.
    """

    id: str
    shares: Mapping[str, Decimal]  # Party -> weight (e.g. percentages)
    reason: str
    agreed_by: str
    agreed_on: dt.date
    item: str | None = None
    category: Category | None = None
    for_party: str | None = None
    document: str = ""

    def __post_init__(self) -> None:
        errors = []
        if not self.reason.strip():
            errors.append(FieldError("reason", "reason_required"))
        if not self.agreed_by.strip():
            errors.append(FieldError("agreed_by", "agreed_by_required"))
        if not isinstance(self.agreed_on, dt.date):
            errors.append(FieldError("agreed_on", "date_required"))
        if errors:
            raise InvalidInput(errors)

    @property
    def specificity(self) -> int:
        if self.item is not None:
            return 4
        return (2 if self.category is not None else 0) + (1 if self.for_party is not None else 0)

    def applies_to(self, line: CostLine) -> bool:
        if self.item is not None:
            return self.item == line.id
        return (self.category is None or self.category == line.category) and (
            self.for_party is None or self.for_party == line.for_party
        )


@dataclass(frozen=True)
class Share:
    bearer: str  # a Party code ("KH") or a donor key ("donor:<id>")
    amount: Money  # in the item's currency
    reporting: Money  # in the reporting currency
    basis: str  # the rule code or exception id that gave this share

    @property
    def is_donor(self) -> bool:
        return self.bearer.startswith("donor:")


@dataclass(frozen=True)
class ItemAllocation:
    line: CostLine
    ruleset: str
    rule: str  # the rule the notes give for this item
    exception: WrittenException | None  # the exception that set ``rule`` aside, if any
    reporting_total: Money
    shares: tuple[Share, ...]

    @property
    def decided_by(self) -> str:
        """What decided the part no donor covered: an exception, or the rule."""
        if self.exception is not None:
            return f"exception:{self.exception.id}"
        return self.rule

    @property
    def covered(self) -> Money:
        total = Money.zero(self.line.amount.currency)
        for share in self.shares:
            if share.is_donor:
                total += share.amount
        return total

    def reporting_of(self, bearer: str) -> Money:
        total = Money.zero(self.reporting_total.currency)
        for share in self.shares:
            if share.bearer == bearer:
                total += share.reporting
        return total


@dataclass(frozen=True)
class MeetingAllocation:
    ruleset: str
    reporting_currency: Currency
    items: tuple[ItemAllocation, ...]
    total: Money
    borne: Mapping[str, Money] = field(default_factory=dict)  # bearer -> share of the cost
    paid: Mapping[str, Money] = field(default_factory=dict)  # Party -> bills it paid
    net: Mapping[str, Money] = field(default_factory=dict)  # paid - borne: > 0 is owed money


def check_line(meeting: MeetingFacts, line: CostLine, config: AllocationConfig) -> list[FieldError]:
    """Everything wrong with one cost item, as field errors (empty: it is fine)."""
    errors: list[FieldError] = []
    if line.incurred_by not in meeting.parties:
        code = "party_not_in_meeting" if line.incurred_by in config.parties else "unknown_party"
        errors.append(FieldError("incurred_by", code))
    if line.for_party is not None and line.for_party not in meeting.parties:
        code = "party_not_in_meeting" if line.for_party in config.parties else "unknown_party"
        errors.append(FieldError("for_party", code))
    if line.amount.amount <= 0:
        code = "zero_amount" if line.amount.amount == 0 else "negative_amount"
        errors.append(FieldError("amount", code))
    target = config.reporting_currency
    if line.amount.currency != target:
        if line.rate is None:
            errors.append(FieldError("rate", "missing_rate"))
        elif not line.rate.joins(line.amount.currency, target):
            errors.append(FieldError("rate", "rate_wrong_currency"))
    covered = Decimal(0)
    for coverage in line.coverages:
        if coverage.amount <= 0:
            errors.append(FieldError("coverage", "negative_amount"))
        covered += coverage.amount
    if line.amount.amount > 0 and covered > line.amount.amount:
        errors.append(FieldError("coverage", "coverage_exceeds_amount"))
    return errors


def check_exception(
    meeting: MeetingFacts, exception: WrittenException, config: AllocationConfig
) -> list[FieldError]:
    errors: list[FieldError] = []
    if not exception.shares or sum(exception.shares.values(), Decimal(0)) <= 0:
        errors.append(FieldError("shares", "shares_empty"))
    for party, weight in exception.shares.items():
        if party not in meeting.parties:
            errors.append(FieldError("shares", "party_not_in_meeting"))
        if weight < 0:
            errors.append(FieldError("shares", "shares_negative"))
    if exception.for_party is not None and exception.for_party not in meeting.parties:
        errors.append(FieldError("for_party", "party_not_in_meeting"))
    return errors


def _exception_for(line: CostLine, exceptions: Sequence[WrittenException]):
    matching = [e for e in exceptions if e.applies_to(line)]
    if not matching:
        return None
    best = max(e.specificity for e in matching)
    top = [e for e in matching if e.specificity == best]
    if len(top) > 1:
        raise InvalidInput.one("exception", "ambiguous_exception")
    return top[0]


def _rule_bearer(rule: Rule, meeting: MeetingFacts, line: CostLine) -> str:
    if rule.bearer == Bearer.HOST:
        return meeting.host
    if rule.bearer == Bearer.DELEGATION:
        assert line.for_party is not None  # rules.Rule refuses DELEGATION for meeting costs
        return line.for_party
    return line.incurred_by


def _allocate_line(
    meeting: MeetingFacts,
    line: CostLine,
    exceptions: Sequence[WrittenException],
    config: AllocationConfig,
) -> ItemAllocation:
    rules = config.rules
    rule = rules.decide(line.category, meeting.role_of(line.for_party))
    exception = _exception_for(line, exceptions)
    currency = line.amount.currency

    parts: dict[str, Money] = {}
    basis: dict[str, str] = {}
    for coverage in line.coverages:
        key = donor_key(coverage.donor)
        parts[key] = parts.get(key, Money.zero(currency)) + Money(coverage.amount, currency)
        basis[key] = rules.external.code
    rest = line.amount - sum(parts.values(), Money.zero(currency))
    if rest.amount > 0:
        if exception is not None:
            weights = {p: w for p, w in exception.shares.items() if w > 0}
            rest_parts = split(rest, weights)
            decided = f"exception:{exception.id}"
        else:
            rest_parts = {_rule_bearer(rule, meeting, line): rest}
            decided = rule.code
        for key, money in rest_parts.items():
            if money.amount > 0:
                parts[key] = parts.get(key, Money.zero(currency)) + money
                basis.setdefault(key, decided)
    else:
        exception = None  # nothing left for an exception to decide

    reporting_total = convert(line.amount, config.reporting_currency, line.rate)
    reporting = split(reporting_total, {k: m.amount for k, m in parts.items()})
    shares = tuple(Share(k, parts[k], reporting[k], basis[k]) for k in parts)
    return ItemAllocation(
        line=line,
        ruleset=rules.version,
        rule=rule.code if rest.amount > 0 else rules.external.code,
        exception=exception,
        reporting_total=reporting_total,
        shares=shares,
    )


def allocate(
    meeting: MeetingFacts,
    lines: Iterable[CostLine],
    exceptions: Iterable[WrittenException] = (),
    config: AllocationConfig | None = None,
) -> MeetingAllocation:
    """Apply the rules to every cost item of a meeting. Refuses the whole meeting (with every
    field error, each named ``<item id>.<field>``) if any item is invalid."""
    config = config or AllocationConfig()
    lines = list(lines)
    exceptions = list(exceptions)
    errors: list[FieldError] = []
    seen: set[str] = set()
    for line in lines:
        if line.id in seen:
            errors.append(FieldError(f"{line.id}.id", "duplicate_item"))
        seen.add(line.id)
        errors += [
            FieldError(f"{line.id}.{e.field}", e.code) for e in check_line(meeting, line, config)
        ]
    for exception in exceptions:
        errors += [
            FieldError(f"exception:{exception.id}.{e.field}", e.code)
            for e in check_exception(meeting, exception, config)
        ]
    if errors:
        raise InvalidInput(errors)

    items = tuple(_allocate_line(meeting, line, exceptions, config) for line in lines)
    currency = config.reporting_currency
    zero = Money.zero(currency)
    order = [p for p in config.parties if p in meeting.parties]
    borne: dict[str, Money] = dict.fromkeys(order, zero)
    paid: dict[str, Money] = dict.fromkeys(order, zero)
    for item in items:
        paid[item.line.incurred_by] = paid[item.line.incurred_by] + item.reporting_total
        for share in item.shares:
            borne[share.bearer] = borne.get(share.bearer, zero) + share.reporting
    net = {key: paid.get(key, zero) - borne[key] for key in borne}
    total = sum((item.reporting_total for item in items), zero)
    return MeetingAllocation(
        ruleset=config.ruleset,
        reporting_currency=currency,
        items=items,
        total=total,
        borne=borne,
        paid=paid,
        net=net,
    )
