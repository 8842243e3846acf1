"""Demo data of the monitoring app for one node (idempotent): this node's migration
statistics for the last three months (victims and returns from its records, border
crossings and deportations as an M&E officer would enter them), and a lesson and a
challenge of this side for the annual review. Invented figures, for the demo."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ctip.accounts.models import User
from ctip.monitoring import services
from ctip.monitoring.models import MonthlyStatistics, ReviewNote, StatisticsSource

FIGURES = {  # border crossings reported, deportations, per month back from this one
    "KH": [(14_200, 310), (13_750, 288), (15_020, 342)],
    "CN": [(22_400, 515), (21_980, 498), (23_105, 530)],
}
NOTES = {
    "KH": [
        (
            "lesson",
            "Joint interviews with an interpreter shortened nationality verification.",
            "ការសម្ភាសន៍រួមគ្នាជាមួយអ្នកបកប្រែ បានកាត់បន្ថយរយៈពេលផ្ទៀងផ្ទាត់សញ្ជាតិ។",
        ),
        (
            "challenge",
            "Travel documents for victims without any identity document take too long.",
            "ឯកសារធ្វើដំណើរសម្រាប់ជនរងគ្រោះដែលគ្មានឯកសារអត្តសញ្ញាណ ត្រូវការពេលយូរពេក។",
        ),
    ],
    "CN": [
        (
            "lesson",
            "A named focal person at each border station made handovers predictable.",
            "每个边境站指定联络人，使移交更可预期。",
        ),
        (
            "challenge",
            "Figures on brokered marriages are split between several agencies.",
            "中介婚姻的数据分散在多个部门。",
        ),
    ],
}


def load_demo(node: str) -> None:
    officer = User.objects.filter(username=f"{node.lower()}_me_officer").first()
    if officer is None:
        return
    today = timezone.localdate()
    month = today.replace(day=1)
    for crossings, deportations in FIGURES[node]:
        if not MonthlyStatistics.objects.filter(country=node, month=month).exists():
            computed = services.computed_input(month)
            services.statistics_record(
                user=officer,
                data=services.StatisticsInput(
                    month=month,
                    border_crossings=crossings,
                    deportations=deportations,
                    returns=computed.returns,
                    victims=computed.victims,
                ),
                source=StatisticsSource.ENTERED,
            )
        month = (month - dt.timedelta(days=1)).replace(day=1)
    for kind, text_en, text_second in NOTES[node]:
        if not ReviewNote.objects.filter(year=today.year, country=node, text_en=text_en).exists():
            services.note_add(
                user=officer,
                year=today.year,
                country=node,
                kind=kind,
                text_en=text_en,
                text_second=text_second,
            )
