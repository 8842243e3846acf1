"""The built-in indicators, as data (registered from ``MonitoringConfig.ready``), and the
dashboard's panels. Names in English, Khmer and Simplified Chinese (the Khmer and Chinese
are drafts for review by the national teams, like the plan's translations)."""

from __future__ import annotations

import datetime as dt

from ctip.monitoring import indicators as m

VICTIMS = "monitoring.victims_identified"
REFERRALS = "monitoring.referrals"
REPATRIATIONS = "monitoring.repatriations"
STAGE_DAYS = "monitoring.median_days_per_stage"
CASES_OPENED = "monitoring.cases_opened"
TRAINED = "monitoring.cases_by_trained_officials"


def _cases_by_trained(*, start: dt.date, end: dt.date, by: str = "") -> m.Table:
    """Per month: cases opened whose caseworker held a valid training certificate at the
    end of the month, and the others (training.indicators)."""
    try:
        from ctip.training.indicators import cases_handled_by_trained
    except ImportError:
        return m.Table((), (), (), available=False, reason="the training app is not installed")
    months = m.months_between(start, end)
    cells = []
    for month in months:
        year, mon = (int(x) for x in month.split("-"))
        first = dt.date(year, mon, 1)
        last = (dt.date(year + 1, 1, 1) if mon == 12 else dt.date(year, mon + 1, 1)) - dt.timedelta(
            days=1
        )
        share = cases_handled_by_trained(since=max(first, start), until=min(last, end))
        if not share.available:
            return m.Table((), (), (), available=False, reason=share.reason)
        cells.append((share.by_trained, share.total - share.by_trained))
    return m.Table(tuple(months), ("trained", "not_trained"), tuple(cells))


INDICATORS = (
    m.Indicator(
        code=VICTIMS,
        name={
            "en": "Victims identified",
            "km": "ជនរងគ្រោះដែលត្រូវបានកំណត់អត្តសញ្ញាណ",
            "zh-hans": "已识别的受害人",
        },
        source="cases.victims_identified",
        by=("sex", "age", "nationality", "exploitation", "province", "result"),
        unit="persons",
        note={
            "en": "Screenings with the result victim or presumed victim, by month of the "
            "interview. By form of exploitation, a person with several forms counts in each.",
            "km": "ការត្រួតពិនិត្យដែលមានលទ្ធផលជាជនរងគ្រោះ ឬសន្មតថាជាជនរងគ្រោះ តាមខែនៃការសម្ភាសន៍។ "
            "តាមទម្រង់នៃការកេងប្រវ័ញ្ច បុគ្គលដែលមានទម្រង់ច្រើនត្រូវបានរាប់ក្នុងទម្រង់នីមួយៗ។",
            "zh-hans": "结果为受害人或推定受害人的甄别，按访谈月份统计。"
            "按剥削形式统计时，涉及多种形式的人在每种形式中各计一次。",
        },
    ),
    m.Indicator(
        code=REFERRALS,
        name={"en": "Referrals to services", "km": "ការបញ្ជូនទៅសេវា", "zh-hans": "转介至服务"},
        source="cases.referrals",
        by=("need", "status", "cross_border"),
        unit="referrals",
    ),
    m.Indicator(
        code=REPATRIATIONS,
        name={
            "en": "Repatriations (cases handed over)",
            "km": "ការធ្វើមាតុភូមិនិវត្តន៍ (ករណីដែលបានប្រគល់)",
            "zh-hans": "遣返（已移交的个案）",
        },
        source="cases.repatriations",
        by=("sex", "nationality"),
        unit="persons",
    ),
    m.Indicator(
        code=STAGE_DAYS,
        name={
            "en": "Median days per SOP stage",
            "km": "ចំនួនថ្ងៃមធ្យម (មេដ្យាន) ក្នុងដំណាក់កាលនីមួយៗនៃនីតិវិធី",
            "zh-hans": "标准作业程序各阶段天数中位数",
        },
        source="cases.stage_stays",
        measure="median:days",
        over="stage",
        unit="days",
        plan=False,
        note={
            "en": "Stays in a stage that ended in the period.",
            "km": "ការស្នាក់នៅក្នុងដំណាក់កាលដែលបានបញ្ចប់ក្នុងអំឡុងពេលនេះ។",
            "zh-hans": "在本期间内结束的阶段停留。",
        },
    ),
    m.Indicator(
        code=CASES_OPENED,
        name={"en": "Cases opened", "km": "ករណីដែលបានបើក", "zh-hans": "已立案的个案"},
        source="cases.cases_opened",
        by=("track", "sex"),
        unit="cases",
    ),
    m.Indicator(
        code=TRAINED,
        name={
            "en": "Cases handled by trained officials",
            "km": "ករណីដែលដោះស្រាយដោយមន្ត្រីដែលបានទទួលការបណ្តុះបណ្តាល",
            "zh-hans": "由受过培训的官员处理的个案",
        },
        compute=_cases_by_trained,
        unit="cases",
        note={
            "en": "Cases opened in the month whose caseworker held a valid training "
            "certificate at the end of the month.",
            "km": "ករណីដែលបានបើកក្នុងខែ ដែលបុគ្គលិកសង្គមកិច្ចមានវិញ្ញាបនបត្របណ្តុះបណ្តាលមានសុពលភាពនៅចុងខែ។",
            "zh-hans": "当月立案、且其社工在月底持有有效培训证书的个案。",
        },
    ),
)

# The dashboard: (indicator, disaggregation) in order.
PANELS = (
    (VICTIMS, "sex"),
    (VICTIMS, "age"),
    (VICTIMS, "nationality"),
    (VICTIMS, "exploitation"),
    (VICTIMS, "province"),
    (REFERRALS, "need"),
    (REPATRIATIONS, "sex"),
    (STAGE_DAYS, ""),
    (TRAINED, ""),
)


def register_all() -> None:
    for ind in INDICATORS:
        m.register(ind)
