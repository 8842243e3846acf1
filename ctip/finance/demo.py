"""Demo data of the finance app: the annual review workshop in Kunming with a Cambodian
delegation, a joint taskforce meeting in Phnom Penh with a Chinese delegation, a donor that
covered the Kunming interpretation, a written exception, and this node's reintegration
budget with a few entries.

Idempotent: loading twice changes nothing. Recorded through the services, as the node's M&E
officer (the secretariat), so the audit log shows it like any other work. Needs the core
demo users (``ctip.core.demo.load_demo``) first; without an M&E officer it loads nothing.
All names, references and amounts are invented for the demo.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from ctip.accounts.models import Role, User
from ctip.finance import services as s
from ctip.finance.models import Meeting

KUNMING_TITLE = "Annual review workshop of the Joint Plan of Action (demo)"
PHNOM_PENH_TITLE = "Joint taskforce meeting on the law-enforcement SOP (demo)"


def _secretariat(node: str) -> User | None:
    users = User.objects.filter(role_assignments__role=Role.ME_OFFICER, is_active=True)
    return users.filter(username=f"{node.lower()}_me_officer").first() or users.first()


@transaction.atomic
def load_demo(node: str) -> bool:
    """Load the finance demo for ``node`` (``KH`` or ``CN``). Returns False if it was already
    loaded or no M&E officer exists yet."""
    user = _secretariat(node)
    if user is None or Meeting.objects.filter(title=KUNMING_TITLE).exists():
        return False
    iom = s.donor_create(
        user=user,
        data=s.DonorInput(
            code="iom-demo",
            name="International Organization for Migration (demo)",
            kind="international",
            name_km="អង្គការអន្តរជាតិសម្រាប់ចំណាកស្រុក (សាកល្បង)",
            name_zh_hans="国际移民组织（演示）",
        ),
    )
    _kunming(user, iom)
    _phnom_penh(user)
    _budget(user, node)
    return True


def _kunming(user, iom) -> Meeting:
    meeting = s.meeting_create(
        user=user,
        data=s.MeetingInput(
            title=KUNMING_TITLE,
            title_km="សិក្ខាសាលាពិនិត្យឡើងវិញប្រចាំឆ្នាំនៃផែនការសកម្មភាពរួម (សាកល្បង)",
            title_zh_hans="联合行动计划年度审议研讨会（演示）",
            kind="workshop",
            plan_activity="VI.1",
            host_country="CN",
            place="Kunming, Yunnan",
            starts_on=dt.date(2019, 11, 12),
            ends_on=dt.date(2019, 11, 14),
            reporting_currency="USD",
        ),
    )
    kh = s.delegation_add(user=user, meeting=meeting, country="KH")
    cn = s.delegation_add(user=user, meeting=meeting, country="CN")
    for delegation, member in (
        (
            kh,
            s.MemberInput(
                name="SOK Dara (demo)",
                position="Deputy Secretary-General",
                organisation="NCCT",
                role="head",
                contact="dara.sok@example.org",
            ),
        ),
        (
            kh,
            s.MemberInput(
                name="KEO Sophea (demo)",
                position="Protection officer",
                organisation="MoSAVY",
                role="member",
            ),
        ),
        (
            kh,
            s.MemberInput(
                name="CHEA Vanna (demo)",
                position="Interpreter",
                organisation="NCCT",
                role="interpreter",
            ),
        ),
        (
            cn,
            s.MemberInput(
                name="王明 WANG Ming (demo)",
                position="Deputy Director",
                organisation="MPS Criminal Investigation Department",
                role="head",
                contact="+86 871 0000 0000",
            ),
        ),
        (
            cn,
            s.MemberInput(
                name="李静 LI Jing (demo)",
                position="Programme officer",
                organisation="Ministry of Civil Affairs",
                role="secretariat",
            ),
        ),
    ):
        s.member_add(user=user, delegation=delegation, data=member)
    for day, hour, title in (
        (12, 9, "Opening; progress of each Party since the last review"),
        (12, 14, "Victim identification form and SOP: lessons from cases"),
        (13, 9, "Law-enforcement cooperation and case-information exchange"),
        (14, 9, "Field visit to a relief station; joint conclusions"),
    ):
        s.programme_item_add(
            user=user,
            meeting=meeting,
            day=dt.date(2019, 11, day),
            title=title,
            starts_at=dt.time(hour, 0),
        )
    cny = s.RateInput(rate=Decimal("7.0350"), rate_base="USD", rate_date=dt.date(2019, 11, 1))
    costs = [
        # Note 1: the visiting Party's international travel.
        s.CostItemInput(
            "international_travel",
            "1860.00",
            "USD",
            "KH",
            "KH",
            "Air tickets Phnom Penh–Kunming return, 3 delegates",
        ),
        # Note 2: the host bears the visitors' domestic travel, accommodation, workshop costs.
        s.CostItemInput(
            "accommodation", "5400.00", "CNY", "CN", "KH", "Hotel, 3 delegates × 3 nights", rate=cny
        ),
        s.CostItemInput(
            "domestic_travel",
            "1200.00",
            "CNY",
            "CN",
            "KH",
            "Airport transfers and field-visit bus",
            rate=cny,
        ),
        s.CostItemInput("venue", "8000.00", "CNY", "CN", "", "Conference room, 3 days", rate=cny),
        s.CostItemInput("meals", "4500.00", "CNY", "CN", "", "Lunches and tea breaks", rate=cny),
        s.CostItemInput(
            "interpretation",
            "9000.00",
            "CNY",
            "CN",
            "",
            "Khmer–Chinese interpreters, 3 days",
            rate=cny,
        ),
        # Not in the notes: the visitors' visa fees stay with them (R-1).
        s.CostItemInput("other", "90.00", "USD", "KH", "KH", "Visa fees, 3 delegates"),
    ]
    items = [s.cost_item_add(user=user, meeting=meeting, data=c) for c in costs]
    commitment = s.commitment_create(
        user=user,
        donor=iom,
        data=s.CommitmentInput(
            amount="2000.00",
            currency="USD",
            committed_on=dt.date(2019, 9, 20),
            plan_activity="VI.1",
            reference="IOM-DEMO-2019-07",
        ),
    )
    # The donor paid the interpreters (Note 3): shown as covered, not borne by a Party.
    s.coverage_record(
        user=user, cost_item=items[5], commitment_id=commitment.pk, amount="9000.00", rate=cny
    )
    return meeting


def _phnom_penh(user) -> Meeting:
    meeting = s.meeting_create(
        user=user,
        data=s.MeetingInput(
            title=PHNOM_PENH_TITLE,
            title_km="កិច្ចប្រជុំក្រុមការងាររួមស្ដីពីនីតិវិធីប្រតិបត្តិស្តង់ដារអនុវត្តច្បាប់ (សាកល្បង)",
            title_zh_hans="执法标准作业程序联合工作组会议（演示）",
            kind="meeting",
            plan_activity="IV.2",
            host_country="KH",
            place="Phnom Penh",
            starts_on=dt.date(2019, 6, 4),
            ends_on=dt.date(2019, 6, 5),
            reporting_currency="USD",
        ),
    )
    s.delegation_add(user=user, meeting=meeting, country="KH")
    cn = s.delegation_add(user=user, meeting=meeting, country="CN")
    s.member_add(
        user=user,
        delegation=cn,
        data=s.MemberInput(
            name="张伟 ZHANG Wei (demo)", position="Division chief", organisation="MPS", role="head"
        ),
    )
    khr = s.RateInput(rate=Decimal("4050"), rate_base="USD", rate_date=dt.date(2019, 6, 1))
    for cost in (
        s.CostItemInput(
            "international_travel",
            "2380.00",
            "USD",
            "CN",
            "CN",
            "Air tickets Beijing–Phnom Penh return, 4 delegates",
        ),
        s.CostItemInput(
            "accommodation", "3240000", "KHR", "KH", "CN", "Hotel, 4 delegates × 2 nights", rate=khr
        ),
        s.CostItemInput("venue", "2025000", "KHR", "KH", "", "Meeting room", rate=khr),
        s.CostItemInput(
            "interpretation", "1215000", "KHR", "KH", "", "Interpreters Khmer–Chinese", rate=khr
        ),
    ):
        s.cost_item_add(user=user, meeting=meeting, data=cost)
    s.exception_record(
        user=user,
        meeting=meeting,
        data=s.ExceptionInput(
            share_kh="50",
            share_cn="50",
            category="interpretation",
            reason="Both Parties brought interpreters for the drafting sessions; agreed to "
            "share the interpretation cost equally.",
            agreed_by="Heads of both delegations",
            agreed_on=dt.date(2019, 6, 4),
            document="Minutes of the meeting, item 2 (demo)",
        ),
    )
    return meeting


def _budget(user, node: str) -> None:
    """This node's own country: a year's allocation, a commitment, payments against it and
    without one, and a payment made in US dollars."""
    if node == "KH":
        currency, amounts, usd_rate = "KHR", ("400000000", "6000000", "2400000", "1800000"), "4100"
    else:
        currency, amounts = "CNY", ("800000.00", "12000.00", "4800.00", "3600.00")
        usd_rate = "7.0500"
    allocation = s.budget_allocation_create(
        user=user,
        data=s.AllocationInput(
            country=node,
            year=2019,
            amount=amounts[0],
            currency=currency,
            reference=f"National budget 2019, reintegration line ({node}, demo)",
        ),
    )

    def entry(kind, case, support, amount, day, **kwargs):
        return s.budget_entry_add(
            user=user,
            allocation=allocation,
            data=s.EntryInput(
                kind=kind,
                case_reference=f"{node}-C-DEMO000{case}",
                support=support,
                amount=amount,
                currency=kwargs.pop("currency", currency),
                entry_date=day,
                **kwargs,
            ),
        )

    first = entry(
        "commitment",
        1,
        "vocational",
        amounts[1],
        dt.date(2019, 3, 1),
        referral_reference=f"{node}-R-DEMO0001",
    )
    entry("spending", 1, "vocational", amounts[2], dt.date(2019, 4, 1), against_id=first.pk)
    entry("spending", 2, "medical", amounts[3], dt.date(2019, 5, 12))
    entry(
        "spending",
        3,
        "psychosocial",
        "250.00",
        dt.date(2019, 6, 20),
        currency="USD",
        rate=s.RateInput(rate=usd_rate, rate_base="USD", rate_date=dt.date(2019, 6, 1)),
    )
