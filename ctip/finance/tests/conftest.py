"""A meeting like the annual review workshop in Kunming (China hosts, Cambodia visits),
recorded through the services by the M&E officer (the NCCT secretariat)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ctip.finance import services as s

CNY_RATE = s.RateInput(rate=Decimal("7.0000"), rate_base="USD", rate_date=dt.date(2019, 11, 1))


@pytest.fixture
def kunming(me_officer):
    meeting = s.meeting_create(
        user=me_officer,
        data=s.MeetingInput(
            title="Annual review workshop",
            title_km="សិក្ខាសាលាពិនិត្យឡើងវិញប្រចាំឆ្នាំ",
            title_zh_hans="年度审议研讨会",
            kind="workshop",
            plan_activity="VI.1",
            host_country="CN",
            place="Kunming",
            starts_on=dt.date(2019, 11, 12),
            ends_on=dt.date(2019, 11, 14),
            reporting_currency="USD",
        ),
    )
    s.delegation_add(user=me_officer, meeting=meeting, country="KH")
    return meeting


def add_cost(user, meeting, category, amount, currency, incurred_by, for_party="", **kw):
    return s.cost_item_add(
        user=user,
        meeting=meeting,
        data=s.CostItemInput(
            category=category,
            amount=amount,
            currency=currency,
            incurred_by=incurred_by,
            for_party=for_party,
            description=kw.pop("description", category),
            rate=kw.pop("rate", CNY_RATE if currency == "CNY" else s.RateInput()),
            **kw,
        ),
    )
