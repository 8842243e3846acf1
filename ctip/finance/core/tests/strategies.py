"""Hypothesis strategies for money in the three currencies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

from ctip.finance.core import Currency, ExchangeRate, Money, from_minor

currencies = st.sampled_from(list(Currency))


@st.composite
def money(draw, currency=None, min_units=1, max_units=10**12):
    cur = draw(currencies) if currency is None else currency
    return Money(from_minor(draw(st.integers(min_units, max_units)), cur), cur)


rate_values = st.decimals(
    min_value=Decimal("0.00001"), max_value=Decimal("100000"), places=6, allow_nan=False
).filter(lambda d: d > 0)

dates = st.dates(min_value=dt.date(2017, 1, 1), max_value=dt.date(2030, 12, 31))


@st.composite
def rate_between(draw, a: Currency, b: Currency):
    base, quote = draw(st.permutations([a, b]))
    return ExchangeRate(base, quote, draw(rate_values), draw(dates))


weights = st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False)
