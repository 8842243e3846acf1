"""The national budget for victim reintegration (plan activity III.8): what is left of a
year's allocation after what cases received and what is promised to them.

* A **commitment** promises an amount to a case (e.g. six months of vocational training).
* A **spending** is money paid out, to a case, possibly against one of its commitments.
* The open part of a commitment is what has not yet been paid against it (never below zero).
* remaining = allocated - spent - open commitments. It may go below zero: the budget is then
  over-committed, which the secretariat must see, not have hidden.

All amounts are in the allocation's currency (the caller converts with
:func:`.money.convert`, the rate and its date recorded on the entry).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from .errors import FieldError, InvalidInput
from .money import Money, _round_half_even

__all__ = [
    "BudgetConfig",
    "BudgetEntry",
    "BudgetStatus",
    "CaseTotals",
    "EntryKind",
    "Level",
    "budget_status",
]


class EntryKind(StrEnum):
    COMMITMENT = "commitment"
    SPENDING = "spending"


class Level(StrEnum):
    OK = "ok"
    LOW = "low"  # below the alert threshold
    EXHAUSTED = "exhausted"  # nothing left
    OVERCOMMITTED = "overcommitted"  # more spent and promised than allocated


@dataclass(frozen=True)
class BudgetConfig:
    """``alert_below``: warn when less than this share of the allocation remains (0.10 = 10 %)."""

    alert_below: Decimal = Decimal("0.10")

    def __post_init__(self) -> None:
        if (
            not isinstance(self.alert_below, Decimal)
            or not self.alert_below.is_finite()
            or not Decimal(0) <= self.alert_below < Decimal(1)
        ):
            raise InvalidInput.one("alert_below", "threshold_out_of_range")


@dataclass(frozen=True)
class BudgetEntry:
    id: str
    kind: EntryKind
    case: str  # the case's reference string
    amount: Money  # in the allocation's currency
    against: str | None = None  # for a spending: the commitment it pays


@dataclass(frozen=True)
class CaseTotals:
    case: str
    committed: Money
    spent: Money
    open: Money


@dataclass(frozen=True)
class BudgetStatus:
    allocated: Money
    committed: Money
    spent: Money
    open_commitments: Money
    remaining: Money
    remaining_percent: Decimal  # of the allocation, to one decimal, half-even
    level: Level
    cases: tuple[CaseTotals, ...]


def _percent(part: Money, whole: Money) -> Decimal:
    exact = Fraction(part.amount) * 1000 / Fraction(whole.amount)
    return Decimal(_round_half_even(exact)).scaleb(-1)


def budget_status(
    allocated: Money, entries: Iterable[BudgetEntry], config: BudgetConfig | None = None
) -> BudgetStatus:
    config = config or BudgetConfig()
    if allocated.amount <= 0:
        raise InvalidInput.one("amount", "zero_amount")
    currency = allocated.currency
    zero = Money.zero(currency)
    entries = list(entries)
    errors: list[FieldError] = []
    commitments = {e.id: e for e in entries if e.kind == EntryKind.COMMITMENT}
    for entry in entries:
        if entry.amount.currency != currency:
            errors.append(FieldError(f"{entry.id}.currency", "rate_wrong_currency"))
        elif entry.amount.amount <= 0:
            errors.append(FieldError(f"{entry.id}.amount", "negative_amount"))
        if entry.against is not None and (
            entry.kind != EntryKind.SPENDING
            or entry.against not in commitments
            or commitments[entry.against].case != entry.case
        ):
            errors.append(FieldError(f"{entry.id}.against", "unknown_commitment"))
    if errors:
        raise InvalidInput(errors)

    paid_against: dict[str, Money] = {}
    per_case: dict[str, dict[str, Money]] = {}
    for entry in entries:
        case = per_case.setdefault(entry.case, {"committed": zero, "spent": zero, "open": zero})
        if entry.kind == EntryKind.COMMITMENT:
            case["committed"] += entry.amount
        else:
            case["spent"] += entry.amount
            if entry.against is not None:
                paid_against[entry.against] = paid_against.get(entry.against, zero) + entry.amount
    for cid, commitment in commitments.items():
        left = commitment.amount - paid_against.get(cid, zero)
        if left.amount > 0:
            per_case[commitment.case]["open"] += left

    cases = tuple(
        CaseTotals(ref, t["committed"], t["spent"], t["open"])
        for ref, t in sorted(per_case.items())
    )
    committed = sum((c.committed for c in cases), zero)
    spent = sum((c.spent for c in cases), zero)
    open_commitments = sum((c.open for c in cases), zero)
    remaining = allocated - spent - open_commitments
    if remaining.amount < 0:
        level = Level.OVERCOMMITTED
    elif remaining.amount == 0:
        level = Level.EXHAUSTED
    elif Fraction(remaining.amount) < Fraction(config.alert_below) * Fraction(allocated.amount):
        level = Level.LOW
    else:
        level = Level.OK
    return BudgetStatus(
        allocated=allocated,
        committed=committed,
        spent=spent,
        open_commitments=open_commitments,
        remaining=remaining,
        remaining_percent=_percent(remaining, allocated),
        level=level,
        cases=cases,
    )
