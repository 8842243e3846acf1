"""The reintegration budget: remaining balance, open commitments, alert levels."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.finance.core import (
    BudgetConfig,
    BudgetEntry,
    Currency,
    EntryKind,
    InvalidInput,
    Level,
    Money,
    budget_status,
)

from .strategies import money

KHR = Currency.KHR
C, S = EntryKind.COMMITMENT, EntryKind.SPENDING


def riel(n: int) -> Money:
    return Money(Decimal(n), KHR)


def test_remaining_counts_spending_and_what_is_still_promised():
    entries = [
        BudgetEntry("c1", C, "KH-C-1", riel(1_000_000)),
        BudgetEntry("s1", S, "KH-C-1", riel(400_000), against="c1"),
        BudgetEntry("s2", S, "KH-C-2", riel(250_000)),  # paid without a prior commitment
    ]
    status = budget_status(riel(10_000_000), entries)
    assert status.spent == riel(650_000)
    assert status.committed == riel(1_000_000)
    assert status.open_commitments == riel(600_000)
    assert status.remaining == riel(8_750_000)
    assert status.remaining_percent == Decimal("87.5")
    assert status.level == Level.OK
    assert [(c.case, c.committed, c.spent, c.open) for c in status.cases] == [
        ("KH-C-1", riel(1_000_000), riel(400_000), riel(600_000)),
        ("KH-C-2", riel(0), riel(250_000), riel(0)),
    ]


@pytest.mark.parametrize(
    ("spent", "level"),
    [
        (8_999_999, Level.OK),  # exactly 10 % left is not yet low
        (9_000_001, Level.LOW),  # below 10 %
        (10_000_000, Level.EXHAUSTED),
        (10_000_001, Level.OVERCOMMITTED),
    ],
)
def test_alert_levels(spent, level):
    status = budget_status(riel(10_000_000), [BudgetEntry("s", S, "KH-C-1", riel(spent))])
    assert status.level == level


def test_the_alert_threshold_is_configurable_and_validated():
    entries = [BudgetEntry("s", S, "KH-C-1", riel(700))]
    assert budget_status(riel(1000), entries, BudgetConfig(Decimal("0.25"))).level == Level.OK
    assert budget_status(riel(1000), entries, BudgetConfig(Decimal("0.40"))).level == Level.LOW
    for bad in (Decimal("1"), Decimal("-0.1"), Decimal("NaN")):
        with pytest.raises(InvalidInput):
            BudgetConfig(bad)


def test_overpaying_a_commitment_leaves_no_negative_open_part():
    entries = [
        BudgetEntry("c1", C, "KH-C-1", riel(100)),
        BudgetEntry("s1", S, "KH-C-1", riel(150), against="c1"),
    ]
    status = budget_status(riel(1000), entries)
    assert status.open_commitments == riel(0) and status.remaining == riel(850)


def test_bad_entries_are_refused():
    entries = [
        BudgetEntry("s1", S, "KH-C-1", riel(10), against="nope"),
        BudgetEntry("c1", C, "KH-C-2", riel(10)),
        BudgetEntry("s2", S, "KH-C-1", riel(10), against="c1"),  # another case's commitment
        BudgetEntry("u", S, "KH-C-1", Money(Decimal("1.00"), Currency.USD)),
    ]
    with pytest.raises(InvalidInput) as exc:
        budget_status(riel(1000), entries)
    assert exc.value.by_field() == {
        "s1.against": ["unknown_commitment"],
        "s2.against": ["unknown_commitment"],
        "u.currency": ["rate_wrong_currency"],
    }


@st.composite
def ledgers(draw, currency):
    entries = []
    commitments: list[BudgetEntry] = []
    for i in range(draw(st.integers(0, 15))):
        case = draw(st.sampled_from(["KH-C-1", "KH-C-2", "KH-C-3"]))
        amount = draw(money(currency=currency, max_units=10**9))
        if draw(st.booleans()):
            entry = BudgetEntry(f"c{i}", C, case, amount)
            commitments.append(entry)
        else:
            same_case = [c.id for c in commitments if c.case == case]
            against = draw(st.one_of(st.none(), st.sampled_from(same_case))) if same_case else None
            entry = BudgetEntry(f"s{i}", S, case, amount, against=against)
        entries.append(entry)
    return entries


@settings(max_examples=200, deadline=None)
@given(st.data(), st.sampled_from(list(Currency)))
def test_the_balance_is_exact(data, currency):
    allocated = data.draw(money(currency=currency, max_units=10**11))
    entries = data.draw(ledgers(currency))
    status = budget_status(allocated, entries)
    zero = Money.zero(currency)
    spent = sum((e.amount for e in entries if e.kind == S), zero)
    committed = sum((e.amount for e in entries if e.kind == C), zero)
    assert status.spent == spent and status.committed == committed
    assert status.remaining == allocated - spent - status.open_commitments
    assert zero.amount <= status.open_commitments.amount <= committed.amount
    assert sum((c.spent for c in status.cases), zero) == spent
    assert sum((c.open for c in status.cases), zero) == status.open_commitments
    expected = (
        Level.OVERCOMMITTED
        if status.remaining.amount < 0
        else Level.EXHAUSTED
        if status.remaining.amount == 0
        else Level.LOW
        if status.remaining.amount * 10 < allocated.amount
        else Level.OK
    )
    assert status.level == expected
    assert abs(
        status.remaining_percent - status.remaining.amount * 100 / allocated.amount
    ) <= Decimal("0.05")
