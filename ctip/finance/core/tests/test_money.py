"""Money: parsing, rounding, minor units, conversion and splitting (properties and examples)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ctip.finance.core import (
    Currency,
    ExchangeRate,
    InvalidInput,
    Money,
    convert,
    from_minor,
    parse_amount,
    parse_currency,
    parse_rate,
    quantum,
    round_money,
    split,
    to_minor,
)

from .strategies import currencies, money, rate_between, weights

USD, KHR, CNY = Currency.USD, Currency.KHR, Currency.CNY
DAY = dt.date(2019, 3, 1)


def codes(exc: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return exc.value.by_field()


# --- parsing ------------------------------------------------------------------------------


def test_parse_currency_knows_the_three_and_refuses_others():
    assert parse_currency(" usd ") == USD and parse_currency("KHR") == KHR
    with pytest.raises(InvalidInput) as exc:
        parse_currency("EUR")
    assert codes(exc) == {"currency": ["unknown_currency"]}


@pytest.mark.parametrize(
    ("value", "currency", "code"),
    [
        ("-5", USD, "negative_amount"),
        ("0", USD, "zero_amount"),
        ("12.345", USD, "too_many_decimals"),
        ("4100.5", KHR, "too_many_decimals"),  # KHR is counted in whole riel
        ("abc", CNY, "not_a_number"),
        ("NaN", CNY, "not_a_number"),
        ("Infinity", USD, "not_a_number"),
        (1.5, USD, "not_a_number"),  # a float is never money
        ("1e16", USD, "too_large"),
    ],
)
def test_parse_amount_refuses_bad_input_with_a_field_error(value, currency, code):
    with pytest.raises(InvalidInput) as exc:
        parse_amount(value, currency)
    assert codes(exc) == {"amount": [code]}


def test_parse_amount_keeps_the_currency_scale():
    assert parse_amount("12.5", USD) == Decimal("12.50")
    assert str(parse_amount("12.5", USD)) == "12.50"
    assert str(parse_amount("4100", KHR)) == "4100"
    assert str(parse_amount(Decimal("4100.00"), KHR)) == "4100"


@given(currencies, st.integers(1, 10**14))
def test_parse_amount_accepts_every_whole_number_of_minor_units(currency, units):
    text = str(from_minor(units, currency))
    parsed = parse_amount(text, currency)
    assert to_minor(parsed, currency) == units


def test_parse_rate():
    assert parse_rate("4100") == Decimal("4100")
    for bad, code in (
        ("0", "rate_not_positive"),
        ("-1", "rate_not_positive"),
        ("x", "not_a_number"),
    ):
        with pytest.raises(InvalidInput) as exc:
            parse_rate(bad)
        assert codes(exc) == {"rate": [code]}


# --- minor units and rounding ---------------------------------------------------------------


@given(currencies, st.integers(-(10**15), 10**15))
def test_minor_units_round_trip(currency, units):
    assert to_minor(from_minor(units, currency), currency) == units


@given(currencies, st.fractions(min_value=-(10**9), max_value=10**9))
def test_round_money_is_nearest_and_on_the_grid(currency, value):
    rounded = round_money(value, currency)
    step = Fraction(quantum(currency))
    assert abs(Fraction(rounded) - value) <= step / 2
    assert to_minor(rounded, currency) == Fraction(rounded) / step  # exactly on the grid
    assert round_money(rounded, currency) == rounded  # idempotent


@given(currencies, st.integers(-(10**9), 10**9))
def test_round_money_sends_exact_halves_to_the_even_neighbour(currency, units):
    step = Fraction(quantum(currency))
    half_way = (units + Fraction(1, 2)) * step
    result = to_minor(round_money(half_way, currency), currency)
    assert result in (units, units + 1) and result % 2 == 0


def test_rounding_examples():
    assert round_money(Decimal("0.125"), USD) == Decimal("0.12")
    assert round_money(Decimal("0.135"), USD) == Decimal("0.14")
    assert round_money(Decimal("4100.5"), KHR) == Decimal("4100")
    assert round_money(Decimal("4101.5"), KHR) == Decimal("4102")


def test_money_refuses_sub_unit_amounts_and_floats():
    with pytest.raises(ValueError, match="finer than one minor unit"):
        Money(Decimal("0.5"), KHR)
    with pytest.raises(TypeError):
        Money(1.5, USD)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(Decimal(1), USD) + Money(Decimal(1), CNY)


@given(st.data(), currencies)
def test_money_addition_is_exact(data, currency):
    a = data.draw(money(currency=currency))
    b = data.draw(money(currency=currency))
    assert (a + b).amount == a.amount + b.amount
    assert (a + b - b) == a


# --- conversion ---------------------------------------------------------------------------


def test_convert_examples_both_directions():
    rate = ExchangeRate(USD, KHR, Decimal("4100"), DAY)
    assert convert(Money(Decimal("10.00"), USD), KHR, rate) == Money(Decimal("41000"), KHR)
    # 1000 KHR / 4100 = 0.24390… -> 0.24
    assert convert(Money(Decimal("1000"), KHR), USD, rate) == Money(Decimal("0.24"), USD)
    same = Money(Decimal("5.00"), USD)
    assert convert(same, USD, None) is same


def test_convert_refuses_a_missing_or_unrelated_rate():
    with pytest.raises(InvalidInput) as exc:
        convert(Money(Decimal("1"), KHR), USD, None)
    assert codes(exc) == {"rate": ["missing_rate"]}
    with pytest.raises(InvalidInput) as exc:
        convert(Money(Decimal("1"), KHR), USD, ExchangeRate(USD, CNY, Decimal("7"), DAY))
    assert codes(exc) == {"rate": ["rate_wrong_currency"]}


def test_exchange_rate_validates_itself():
    with pytest.raises(InvalidInput) as exc:
        ExchangeRate(USD, USD, Decimal("0"), DAY)
    assert codes(exc) == {"rate": ["same_currency_rate", "rate_not_positive"]}


@given(st.data(), currencies, currencies)
def test_convert_is_the_exact_value_rounded_once(data, source, target):
    assume(source != target)
    rate = data.draw(rate_between(source, target))
    amount = data.draw(money(currency=source))
    result = convert(amount, target, rate)
    exact = Fraction(amount.amount) * rate.factor(source, target)
    assert result.currency == target
    assert abs(Fraction(result.amount) - exact) <= Fraction(quantum(target)) / 2
    assert result.amount >= 0


@given(st.data(), currencies, currencies)
def test_convert_is_monotonic(data, source, target):
    assume(source != target)
    rate = data.draw(rate_between(source, target))
    a = data.draw(money(currency=source))
    b = data.draw(money(currency=source))
    low, high = sorted([a, b], key=lambda m: m.amount)
    assert convert(low, target, rate).amount <= convert(high, target, rate).amount


# --- splitting ----------------------------------------------------------------------------


def test_split_examples():
    third = split(Money(Decimal("100.00"), USD), {"KH": 1, "CN": 1, "X": 1})
    assert [m.amount for m in third.values()] == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    riel = split(Money(Decimal("1001"), KHR), {"KH": Decimal(50), "CN": Decimal(50)})
    assert riel == {"KH": Money(Decimal("501"), KHR), "CN": Money(Decimal("500"), KHR)}
    assert split(Money(Decimal("10.00"), USD), {"KH": 0, "CN": 3}) == {
        "KH": Money(Decimal("0.00"), USD),
        "CN": Money(Decimal("10.00"), USD),
    }


def test_split_refuses_no_or_negative_weights():
    total = Money(Decimal("1.00"), USD)
    for bad, code in (
        ({}, "shares_empty"),
        ({"KH": 0}, "shares_empty"),
        ({"KH": -1}, "shares_negative"),
    ):
        with pytest.raises(InvalidInput) as exc:
            split(total, bad)
        assert codes(exc) == {"shares": [code]}
    with pytest.raises(TypeError):
        split(total, {"KH": 0.5})  # type: ignore[dict-item]


@given(money(min_units=0), st.lists(weights, min_size=1, max_size=8))
def test_split_adds_up_exactly_and_stays_within_one_unit(total, ws):
    assume(sum(ws) > 0)
    parts = split(total, dict(enumerate(ws)))
    assert sum((p.amount for p in parts.values()), Decimal(0)) == total.amount  # nothing lost
    whole = sum(Fraction(w) for w in ws)
    for key, part in parts.items():
        quota = total.minor * Fraction(ws[key]) / whole
        assert part.currency == total.currency
        assert quota - 1 < part.minor < quota + 1  # largest remainder: floor or ceiling
        if ws[key] == 0:
            assert part.minor == 0


@given(money(min_units=0), st.lists(weights, min_size=2, max_size=6))
def test_split_never_gives_a_larger_weight_less(total, ws):
    assume(sum(ws) > 0)
    parts = split(total, dict(enumerate(ws)))
    for i, wi in enumerate(ws):
        for j, wj in enumerate(ws):
            if wi > wj:
                assert parts[i].minor >= parts[j].minor


@given(money(min_units=0), st.lists(weights, min_size=1, max_size=6))
def test_split_of_a_negative_total_mirrors_the_positive(total, ws):
    assume(sum(ws) > 0)
    plus = split(total, dict(enumerate(ws)))
    minus = split(-total, dict(enumerate(ws)))
    assert {k: -m for k, m in plus.items()} == minus
