"""The Financial Notes applied: each note, the residual rules, donor coverage, written
exceptions, bad input, and exact sums under property-based testing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.finance.core import (
    CURRENT_RULESET,
    RULESETS,
    AllocationConfig,
    Category,
    CostLine,
    Coverage,
    Currency,
    ExchangeRate,
    For,
    InvalidInput,
    MeetingFacts,
    Money,
    WrittenException,
    allocate,
    convert,
    get_ruleset,
)

from .strategies import dates, rate_between, weights

USD, KHR, CNY = Currency.USD, Currency.KHR, Currency.CNY
DAY = dt.date(2019, 3, 1)
# The annual review workshop in Kunming: China hosts, Cambodia visits.
KUNMING = MeetingFacts(host="CN", parties=frozenset({"CN", "KH"}))
CNY_USD = ExchangeRate(USD, CNY, Decimal("6.7"), DAY)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), USD)


def line(id, category, amount, incurred_by="KH", for_party="KH", rate=None, coverages=()):
    return CostLine(id, Category(category), amount, incurred_by, for_party, rate, coverages)


def one(item_line, exceptions=(), meeting=KUNMING, config=None):
    return allocate(meeting, [item_line], exceptions, config).items[0]


def bearers(item) -> dict[str, Decimal]:
    return {s.bearer: s.amount.amount for s in item.shares}


# --- each Financial Note ------------------------------------------------------------------


def test_note_1_visiting_party_bears_its_international_travel():
    item = one(line("air", "international_travel", usd("2400.00")))
    assert item.rule == "FN-1" and item.decided_by == "FN-1" and item.exception is None
    assert bearers(item) == {"KH": Decimal("2400.00")}
    assert item.ruleset == CURRENT_RULESET


@pytest.mark.parametrize(
    "category",
    ["domestic_travel", "accommodation", "venue", "meals", "interpretation", "materials"],
)
def test_note_2_host_bears_domestic_travel_accommodation_and_workshop_costs_of_visitors(category):
    # Even when the visiting delegation paid the bill itself, the host bears it …
    item = one(line("x", category, usd("300.00"), incurred_by="KH", for_party="KH"))
    assert item.rule == "FN-2" and bearers(item) == {"CN": Decimal("300.00")}
    # … and the host owes the visitors that amount back.
    result = allocate(KUNMING, [line("x", category, usd("300.00"))])
    assert result.net == {"KH": usd("300.00"), "CN": usd("-300.00")}


@pytest.mark.parametrize("category", ["venue", "meals", "interpretation", "materials"])
def test_note_2_host_bears_costs_of_the_meeting_as_a_whole(category):
    item = one(line("x", category, usd("99.99"), incurred_by="CN", for_party=None))
    assert item.rule == "FN-2" and bearers(item) == {"CN": Decimal("99.99")}


def test_note_3_a_donor_covers_part_and_the_rule_decides_the_rest():
    rate = ExchangeRate(USD, CNY, Decimal("7"), DAY)
    hotel = line(
        "hotel",
        "accommodation",
        Money(Decimal("7000.00"), CNY),
        incurred_by="CN",
        rate=rate,
        coverages=(Coverage("iom", Decimal("2100.00"), "commit-1"),),
    )
    item = one(hotel)
    shares = {s.bearer: (s.amount.amount, s.reporting.amount, s.basis) for s in item.shares}
    assert shares == {
        "donor:iom": (Decimal("2100.00"), Decimal("300.00"), "FN-3"),
        "CN": (Decimal("4900.00"), Decimal("700.00"), "FN-2"),
    }
    assert item.covered == Money(Decimal("2100.00"), CNY)
    assert item.rule == "FN-2"


def test_note_3_an_item_fully_covered_by_donors_is_decided_by_note_3():
    item = one(
        line(
            "air",
            "international_travel",
            usd("1000.00"),
            coverages=(Coverage("unodc", Decimal("600.00")), Coverage("iom", Decimal("400.00"))),
        )
    )
    assert item.rule == "FN-3" and item.decided_by == "FN-3"
    assert bearers(item) == {"donor:unodc": Decimal("600.00"), "donor:iom": Decimal("400.00")}


def test_residual_rules_are_named_and_marked_as_outside_the_notes():
    rules = get_ruleset(CURRENT_RULESET)
    assert rules.by_code["R-1"].note is None and rules.by_code["R-2"].note is None
    # The host's own delegation's travel: its own cost.
    item = one(line("own", "domestic_travel", usd("50.00"), incurred_by="CN", for_party="CN"))
    assert item.rule == "R-1" and bearers(item) == {"CN": Decimal("50.00")}
    # A visiting delegation's "other" cost: its own.
    item = one(line("visa", "other", usd("40.00")))
    assert item.rule == "R-1" and bearers(item) == {"KH": Decimal("40.00")}
    # A meeting-wide "other" cost stays with whoever paid it.
    item = one(line("bank", "other", usd("12.00"), incurred_by="KH", for_party=None))
    assert item.rule == "R-2" and bearers(item) == {"KH": Decimal("12.00")}


def test_the_rule_set_decides_every_category_for_every_beneficiary():
    rules = get_ruleset(CURRENT_RULESET)
    for category in Category:
        for applies_for in For:
            assert rules.decide(category, applies_for).code in {"FN-1", "FN-2", "R-1", "R-2"}
    for code in ("FN-1", "FN-2", "R-1", "R-2", "FN-3"):
        for language in ("en", "km", "zh-hans"):
            assert rules.text_of(code, language)


def test_rule_sets_are_versioned_and_unknown_versions_refused():
    assert CURRENT_RULESET in RULESETS
    with pytest.raises(InvalidInput) as exc:
        AllocationConfig(ruleset="no-such-version")
    assert exc.value.by_field() == {"ruleset": ["unknown_ruleset"]}


# --- written exceptions -------------------------------------------------------------------


def exception(id="e1", shares=None, **kwargs):
    return WrittenException(
        id=id,
        shares=shares or {"KH": Decimal(50), "CN": Decimal(50)},
        reason=kwargs.pop("reason", "Interpretation shared, as agreed at the opening session"),
        agreed_by=kwargs.pop("agreed_by", "Heads of both delegations"),
        agreed_on=kwargs.pop("agreed_on", DAY),
        **kwargs,
    )


def test_an_exception_overrides_the_rule_and_keeps_its_reason():
    exc = exception(category=Category.INTERPRETATION, document="Minutes, item 4")
    item = one(line("interp", "interpretation", usd("1000.01"), for_party=None), [exc])
    assert item.rule == "FN-2"  # what the notes say …
    assert item.decided_by == "exception:e1"  # … and what decided instead
    assert item.exception.reason.startswith("Interpretation shared")
    assert item.exception.agreed_by == "Heads of both delegations"
    assert bearers(item) == {"KH": Decimal("500.01"), "CN": Decimal("500.00")}
    assert {s.basis for s in item.shares} == {"exception:e1"}


def test_an_exception_needs_a_reason_and_who_agreed():
    with pytest.raises(InvalidInput) as exc:
        exception(reason=" ", agreed_by="")
    assert exc.value.by_field() == {
        "reason": ["reason_required"],
        "agreed_by": ["agreed_by_required"],
    }


def test_the_most_specific_exception_wins_and_ties_are_refused():
    general = exception("all", shares={"KH": Decimal(1)})
    by_category = exception("cat", shares={"CN": Decimal(1)}, category=Category.MEALS)
    by_item = exception("item", shares={"KH": Decimal(1), "CN": Decimal(3)}, item="m2")
    meals = line("m1", "meals", usd("10.00"))
    assert one(meals, [general, by_category]).decided_by == "exception:cat"
    other = line("o1", "other", usd("10.00"))
    assert one(other, [general, by_category]).decided_by == "exception:all"
    pinned = allocate(
        KUNMING, [meals, line("m2", "meals", usd("10.00"))], [general, by_category, by_item]
    )
    assert [i.decided_by for i in pinned.items] == ["exception:cat", "exception:item"]
    assert bearers(pinned.items[1]) == {"KH": Decimal("2.50"), "CN": Decimal("7.50")}
    twin = exception("twin", shares={"KH": Decimal(1)}, category=Category.MEALS)
    with pytest.raises(InvalidInput) as exc:
        allocate(KUNMING, [meals], [by_category, twin])
    assert exc.value.by_field() == {"exception": ["ambiguous_exception"]}


def test_a_donor_share_comes_before_the_exception():
    exc = exception(category=Category.VENUE)
    item = one(
        line(
            "hall",
            "venue",
            usd("100.00"),
            for_party=None,
            coverages=(Coverage("iom", Decimal("40.00")),),
        ),
        [exc],
    )
    assert bearers(item) == {
        "donor:iom": Decimal("40.00"),
        "KH": Decimal("30.00"),
        "CN": Decimal("30.00"),
    }


def test_an_exception_for_a_party_not_in_the_meeting_is_refused():
    phnom_penh = MeetingFacts(host="KH", parties=frozenset({"KH"}))
    with pytest.raises(InvalidInput) as exc:
        allocate(phnom_penh, [line("a", "meals", usd("1.00"), for_party=None)], [exception()])
    assert exc.value.by_field() == {"exception:e1.shares": ["party_not_in_meeting"]}


# --- bad input ----------------------------------------------------------------------------


def test_a_cost_for_a_party_not_in_the_meeting_is_refused_by_field():
    phnom_penh = MeetingFacts(host="KH", parties=frozenset({"KH"}))
    bad = line("a", "meals", usd("1.00"), incurred_by="CN", for_party="CN")
    with pytest.raises(InvalidInput) as exc:
        allocate(phnom_penh, [bad])
    assert exc.value.by_field() == {
        "a.incurred_by": ["party_not_in_meeting"],
        "a.for_party": ["party_not_in_meeting"],
    }
    stranger = line("b", "meals", usd("1.00"), incurred_by="VN", for_party=None)
    with pytest.raises(InvalidInput) as exc:
        allocate(phnom_penh, [stranger])
    assert exc.value.by_field() == {"b.incurred_by": ["unknown_party"]}


def test_a_missing_or_unrelated_rate_and_a_negative_amount_are_refused():
    items = [
        line("k", "meals", Money(Decimal("4100"), KHR)),
        line(
            "c",
            "meals",
            Money(Decimal("10.00"), CNY),
            rate=ExchangeRate(USD, KHR, Decimal(4100), DAY),
        ),
        line("n", "meals", usd("-1.00")),
        line("o", "meals", usd("5.00"), coverages=(Coverage("iom", Decimal("6.00")),)),
    ]
    with pytest.raises(InvalidInput) as exc:
        allocate(KUNMING, items)
    assert exc.value.by_field() == {
        "k.rate": ["missing_rate"],
        "c.rate": ["rate_wrong_currency"],
        "n.amount": ["negative_amount"],
        "o.coverage": ["coverage_exceeds_amount"],
    }


def test_the_host_must_be_a_party():
    with pytest.raises(InvalidInput) as exc:
        MeetingFacts(host="CN", parties=frozenset({"KH"}))
    assert exc.value.by_field() == {"host_country": ["host_not_a_party"]}


# --- exact sums (property-based) ----------------------------------------------------------

categories = st.sampled_from(list(Category))
parties = st.sampled_from(["KH", "CN"])


@st.composite
def cost_lines(draw, reporting: Currency):
    n = draw(st.integers(1, 12))
    out = []
    for i in range(n):
        currency = draw(st.sampled_from(list(Currency)))
        units = draw(st.integers(1, 10**10))
        amount = Money(Decimal(units).scaleb(-(0 if currency == KHR else 2)), currency)
        rate = None if currency == reporting else draw(rate_between(currency, reporting))
        covered = []
        left = units
        for donor in draw(st.lists(st.sampled_from(["iom", "unodc", "wv"]), max_size=3)):
            if left <= 0:
                break
            take = draw(st.integers(1, left))
            left -= take
            covered.append(Coverage(donor, Decimal(take).scaleb(-(0 if currency == KHR else 2))))
        out.append(
            CostLine(
                id=f"i{i}",
                category=draw(categories),
                amount=amount,
                incurred_by=draw(parties),
                for_party=draw(st.one_of(st.none(), parties)),
                rate=rate,
                coverages=tuple(covered),
            )
        )
    return out


@st.composite
def written_exceptions(draw):
    out = []
    for i, category in enumerate(draw(st.lists(categories, max_size=3, unique=True))):
        kh, cn = draw(weights), draw(weights)
        if kh + cn == 0:
            kh = Decimal(1)
        out.append(
            WrittenException(
                id=f"e{i}",
                shares={"KH": kh, "CN": cn},
                reason="agreed",
                agreed_by="both heads",
                agreed_on=draw(dates),
                category=category,
            )
        )
    return out


@settings(max_examples=150, deadline=None)
@given(st.data(), st.sampled_from(list(Currency)), parties)
def test_allocations_add_up_exactly_in_both_currencies(data, reporting, host):
    meeting = MeetingFacts(host=host, parties=frozenset({"KH", "CN"}))
    lines = data.draw(cost_lines(reporting))
    exceptions = data.draw(written_exceptions())
    result = allocate(meeting, lines, exceptions, AllocationConfig(reporting_currency=reporting))
    zero = Money.zero(reporting)
    for item in result.items:
        line_ = item.line
        own = Money.zero(line_.amount.currency)
        assert sum((s.amount for s in item.shares), own) == line_.amount  # item currency
        assert sum((s.reporting for s in item.shares), zero) == item.reporting_total  # reporting
        assert item.reporting_total == convert(line_.amount, reporting, line_.rate)
        assert all(s.amount.amount > 0 and s.reporting.amount >= 0 for s in item.shares)
        assert item.covered.amount == sum((c.amount for c in line_.coverages), Decimal(0))
        assert item.decided_by  # always named
    assert result.total == sum((i.reporting_total for i in result.items), zero)
    assert sum(result.borne.values(), zero) == result.total  # every unit borne by someone
    assert sum(result.paid.values(), zero) == result.total  # every bill paid by a Party
    assert sum(result.net.values(), zero) == zero  # reimbursements balance out


@settings(max_examples=60, deadline=None)
@given(st.data(), parties)
def test_without_donors_or_exceptions_the_notes_alone_decide(data, host):
    meeting = MeetingFacts(host=host, parties=frozenset({"KH", "CN"}))
    lines = [
        CostLine(x.id, x.category, x.amount, x.incurred_by, x.for_party, x.rate)
        for x in data.draw(cost_lines(USD))
    ]
    for item in allocate(meeting, lines).items:
        assert len(item.shares) == 1 and item.decided_by == item.rule
        line_ = item.line
        visiting = line_.for_party is not None and line_.for_party != host
        if line_.category == Category.INTERNATIONAL_TRAVEL and visiting:
            assert item.rule == "FN-1" and item.shares[0].bearer == line_.for_party
        elif (
            line_.category != Category.OTHER
            and line_.category != Category.INTERNATIONAL_TRAVEL
            and (visiting or line_.for_party is None)
        ):
            assert item.rule == "FN-2" and item.shares[0].bearer == host
