"""Money in the three currencies of the plan: exact, decimal, never binary floating point.

* Amounts are ``decimal.Decimal``. A ``float`` is refused wherever money enters.
* Minor units: USD and CNY have 2 decimals (cent, fen). KHR is counted in whole riel: the
  sen (1/100 riel) exists on paper only, so a KHR amount with decimals is refused as input
  and every KHR result is rounded to a whole riel.
* Converting between currencies multiplies (or divides) exactly, as a fraction, and rounds
  **once**, half to even ("banker's rounding"), to the minor unit of the target currency.
  Half-even has no upward bias when many conversions are added up.
* Splitting an amount between bearers never rounds each part on its own: it works in minor
  units and hands the units left over after flooring to the largest remainders
  (:func:`split`), so the parts always add up to the total exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from typing import TypeVar

from .errors import FieldError, InvalidInput

__all__ = [
    "MAX_AMOUNT",
    "MINOR_UNITS",
    "Currency",
    "ExchangeRate",
    "Money",
    "convert",
    "from_minor",
    "parse_amount",
    "parse_currency",
    "parse_rate",
    "quantum",
    "round_money",
    "split",
    "to_minor",
]

K = TypeVar("K", bound=Hashable)


class Currency(StrEnum):
    USD = "USD"
    KHR = "KHR"
    CNY = "CNY"


MINOR_UNITS: Mapping[Currency, int] = {Currency.USD: 2, Currency.CNY: 2, Currency.KHR: 0}

# Above any plausible cost (and inside a NUMERIC(18, 2) column).
MAX_AMOUNT = Decimal("1000000000000000")
MAX_RATE = Decimal("1000000000")


def parse_currency(value: object, *, field: str = "currency") -> Currency:
    try:
        return Currency(str(value).strip().upper())
    except ValueError:
        raise InvalidInput.one(field, "unknown_currency") from None


def quantum(currency: Currency) -> Decimal:
    """The smallest unit in use: 0.01 for USD and CNY, 1 for KHR."""
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def _decimal(value: object, field: str) -> Decimal:
    if isinstance(value, float | bool):
        raise InvalidInput.one(field, "not_a_number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput.one(field, "not_a_number") from None
    if not number.is_finite():
        raise InvalidInput.one(field, "not_a_number")
    return number


def parse_amount(
    value: object, currency: Currency, *, field: str = "amount", allow_zero: bool = False
) -> Decimal:
    """An input amount: a finite decimal, positive, no finer than the currency's minor unit.

    Returns it at the currency's scale (``Decimal("12.50")``, ``Decimal("4100")``).
    """
    number = _decimal(value, field)
    if number < 0:
        raise InvalidInput.one(field, "negative_amount")
    if number == 0 and not allow_zero:
        raise InvalidInput.one(field, "zero_amount")
    if number >= MAX_AMOUNT:
        raise InvalidInput.one(field, "too_large")
    scaled = number.quantize(quantum(currency))
    if scaled != number:
        raise InvalidInput.one(field, "too_many_decimals")
    return scaled


def parse_rate(value: object, *, field: str = "rate") -> Decimal:
    number = _decimal(value, field)
    if number <= 0:
        raise InvalidInput.one(field, "rate_not_positive")
    if number >= MAX_RATE:
        raise InvalidInput.one(field, "too_large")
    return number


def _round_half_even(value: Fraction) -> int:
    """The integer nearest to ``value``; exact halves go to the even neighbour."""
    floor, rest = divmod(value.numerator, value.denominator)
    twice = 2 * rest
    if twice > value.denominator or (twice == value.denominator and floor % 2 == 1):
        return floor + 1
    return floor


def to_minor(amount: Decimal, currency: Currency) -> int:
    """Whole minor units (cents, fen, riel). The amount must already be at that scale."""
    units = amount.scaleb(MINOR_UNITS[currency])
    if units != units.to_integral_value():
        raise ValueError(f"{amount} is finer than one minor unit of {currency}")
    return int(units)


def from_minor(units: int, currency: Currency) -> Decimal:
    return (Decimal(units).scaleb(-MINOR_UNITS[currency])).quantize(quantum(currency))


def round_money(amount: Decimal | Fraction, currency: Currency) -> Decimal:
    """Round half to even to the currency's minor unit."""
    exact = Fraction(amount)
    return from_minor(_round_half_even(exact * 10 ** MINOR_UNITS[currency]), currency)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: Currency

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise TypeError("Money.amount must be a finite Decimal")
        if not isinstance(self.currency, Currency):
            raise TypeError("Money.currency must be a Currency")
        to_minor(self.amount, self.currency)  # refuses sub-unit amounts
        object.__setattr__(self, "amount", self.amount.quantize(quantum(self.currency)))

    @classmethod
    def zero(cls, currency: Currency) -> Money:
        return cls(Decimal(0), currency)

    @property
    def minor(self) -> int:
        return to_minor(self.amount, self.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise TypeError("cannot add or subtract amounts in different currencies")

    def __str__(self) -> str:
        return f"{self.amount:,} {self.currency}"


@dataclass(frozen=True)
class ExchangeRate:
    """``1 base = rate quote``, as published on ``on`` (e.g. 1 USD = 4100 KHR on 2019-03-01).

    It converts either way: a KHR amount is divided by the rate to give USD.
    """

    base: Currency
    quote: Currency
    rate: Decimal
    on: dt.date

    def __post_init__(self) -> None:
        errors = []
        if self.base == self.quote:
            errors.append(FieldError("rate", "same_currency_rate"))
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite() or self.rate <= 0:
            errors.append(FieldError("rate", "rate_not_positive"))
        if not isinstance(self.on, dt.date):
            errors.append(FieldError("rate_date", "missing_rate_date"))
        if errors:
            raise InvalidInput(errors)

    def joins(self, a: Currency, b: Currency) -> bool:
        return {self.base, self.quote} == {a, b}

    def factor(self, source: Currency, target: Currency) -> Fraction:
        """The exact multiplier from ``source`` to ``target``."""
        if not self.joins(source, target):
            raise InvalidInput.one("rate", "rate_wrong_currency")
        rate = Fraction(self.rate)
        return rate if source == self.base else 1 / rate


def convert(money: Money, target: Currency, rate: ExchangeRate | None) -> Money:
    """``money`` in ``target``: exact product, then one half-even rounding.

    The same currency needs no rate; another one needs a rate joining the two.
    """
    if money.currency == target:
        return money
    if rate is None:
        raise InvalidInput.one("rate", "missing_rate")
    exact = Fraction(money.amount) * rate.factor(money.currency, target)
    return Money(round_money(exact, target), target)


def split(total: Money, weights: Mapping[K, Decimal | int | Fraction]) -> dict[K, Money]:
    """Share ``total`` in proportion to ``weights`` so that the parts add up exactly.

    Largest-remainder method (Hamilton): each part gets the floor of its exact quota in minor
    units; the units left over go, one each, to the parts with the largest fractional
    remainders. Ties go to the key that comes first in ``weights`` (the caller's order), so
    the result is deterministic. Zero weights get nothing.
    """
    if not weights:
        raise InvalidInput.one("shares", "shares_empty")
    exact_weights = {}
    for key, weight in weights.items():
        if isinstance(weight, float | bool):
            raise TypeError("weights must be Decimal, int or Fraction")
        value = Fraction(weight)
        if value < 0:
            raise InvalidInput.one("shares", "shares_negative")
        exact_weights[key] = value
    whole = sum(exact_weights.values(), Fraction(0))
    if whole == 0:
        raise InvalidInput.one("shares", "shares_empty")
    units = total.minor
    sign = -1 if units < 0 else 1
    units = abs(units)
    floors: dict[K, int] = {}
    remainders: list[tuple[Fraction, int, K]] = []
    for order, (key, weight) in enumerate(exact_weights.items()):
        quota = units * weight / whole
        floor = quota.numerator // quota.denominator
        floors[key] = floor
        remainders.append((quota - floor, -order, key))
    left = units - sum(floors.values())
    for _, _, key in sorted(remainders, reverse=True)[:left]:
        floors[key] += 1
    return {
        key: Money(from_minor(sign * n, total.currency), total.currency)
        for key, n in floors.items()
    }
