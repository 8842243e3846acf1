"""The fixed vocabulary of cost-sharing statements, in English, Khmer and Chinese.

A statement is a bilateral document: each Party's copy is printed in English and in its own
language, side by side, whatever language the reader's screen is in. Its wording therefore
travels with the rules (data, versioned in the repository) rather than with the screen's
translation catalogue. The Khmer wording is a working translation for the NCCT secretariat
to confirm (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["LANGUAGES", "PARTY_LANGUAGE", "TERMS", "term"]

LANGUAGES = ("en", "km", "zh-hans")
PARTY_LANGUAGE: Mapping[str, str] = MappingProxyType({"KH": "km", "CN": "zh-hans"})

_T: dict[str, tuple[str, str, str]] = {
    # (English, Khmer, Chinese)
    "statement": ("Cost-sharing statement", "របាយការណ៍ចែករំលែកការចំណាយ", "费用分摊表"),
    "year_statement": (
        "Annual cost-sharing statement",
        "របាយការណ៍ប្រចាំឆ្នាំស្ដីពីការចែករំលែកការចំណាយ",
        "年度费用分摊表",
    ),
    "party": ("Party", "ភាគី", "当事方"),
    "meeting": ("Meeting", "កិច្ចប្រជុំ", "会议"),
    "meetings": ("Meetings", "កិច្ចប្រជុំ", "会议"),
    "host": ("Host Party", "ភាគីម្ចាស់ផ្ទះ", "东道方"),
    "visiting": ("Visiting Party", "ភាគីមកទស្សនកិច្ច", "来访方"),
    "place": ("Place", "ទីកន្លែង", "地点"),
    "cancelled": ("Meeting cancelled on", "កិច្ចប្រជុំត្រូវបានលុបចោលនៅថ្ងៃ", "会议取消日期"),
    "dates": ("Dates", "កាលបរិច្ឆេទ", "日期"),
    "year": ("Year", "ឆ្នាំ", "年度"),
    "plan_activity": ("Plan activity", "សកម្មភាពក្នុងផែនការ", "行动计划活动"),
    "reporting_currency": ("Reporting currency", "រូបិយប័ណ្ណរបាយការណ៍", "报告货币"),
    "ruleset": ("Rules applied", "វិធានដែលបានអនុវត្ត", "适用规则"),
    "category": ("Category", "ប្រភេទ", "类别"),
    "description": ("Description", "ការពិពណ៌នា", "说明"),
    "incurred_by": ("Incurred by", "ចំណាយដោយ", "支出方"),
    "for": ("For", "សម្រាប់", "费用对象"),
    "amount": ("Amount", "ចំនួនទឹកប្រាក់", "金额"),
    "rate": ("Exchange rate", "អត្រាប្ដូរប្រាក់", "汇率"),
    "rate_date": ("Rate date", "កាលបរិច្ឆេទអត្រា", "汇率日期"),
    "share": ("Share borne", "ចំណែកដែលទទួលបន្ទុក", "承担份额"),
    "rule": ("Rule", "វិធាន", "规则"),
    "borne_by": ("Borne by", "ទទួលបន្ទុកដោយ", "承担方"),
    "total": ("Total", "សរុប", "合计"),
    "borne": ("Borne by this Party", "ភាគីនេះទទួលបន្ទុក", "本方承担"),
    "paid": ("Paid by this Party", "ភាគីនេះបានបង់", "本方已支付"),
    "net": ("Balance (paid − borne)", "សមតុល្យ (បានបង់ − ទទួលបន្ទុក)", "差额（已支付 − 承担）"),
    "owed_to": ("to be reimbursed to this Party", "ត្រូវសងត្រឡប់ទៅភាគីនេះ", "应偿还本方"),
    "owed_by": ("to be paid by this Party", "ភាគីនេះត្រូវបង់", "本方应支付"),
    "covered": ("Covered by external support", "គាំទ្រដោយប្រភពខាងក្រៅ", "由外部支持承担"),
    "donor": ("Donor", "ម្ចាស់ជំនួយ", "捐助方"),
    "exception": (
        "Exception agreed in writing",
        "ករណីលើកលែងដែលបានព្រមព្រៀងជាលាយលក្ខណ៍អក្សរ",
        "书面商定的例外",
    ),
    "instead_of": ("instead of", "ជំនួសឱ្យ", "取代"),
    "reason": ("Reason", "មូលហេតុ", "理由"),
    "agreed_by": ("Agreed by", "ព្រមព្រៀងដោយ", "商定人"),
    "agreed_on": ("Agreed on", "ថ្ងៃព្រមព្រៀង", "商定日期"),
    "document": ("Written record", "ឯកសារយោង", "书面依据"),
    "notes_applied": (
        "Financial Notes applied",
        "កំណត់សម្គាល់ហិរញ្ញវត្ថុដែលបានអនុវត្ត",
        "适用的财务说明",
    ),
    "meeting_as_a_whole": ("the meeting as a whole", "កិច្ចប្រជុំទាំងមូល", "会议整体"),
    "delegation_of": ("delegation of", "គណៈប្រតិភូ", "代表团："),
    "no_items": (
        "No costs fall to this Party.",
        "គ្មានការចំណាយណាមួយធ្លាក់លើភាគីនេះទេ។",
        "本方无须承担任何费用。",
    ),
    "prepared_on": ("Prepared on", "រៀបចំនៅថ្ងៃ", "编制日期"),
    "KH": ("Cambodia", "កម្ពុជា", "柬埔寨"),
    "CN": ("China", "ចិន", "中国"),
    # Categories of cost
    "international_travel": ("International travel", "ការធ្វើដំណើរអន្តរជាតិ", "国际旅行"),
    "domestic_travel": ("Domestic travel", "ការធ្វើដំណើរក្នុងប្រទេស", "国内交通"),
    "accommodation": ("Accommodation", "ការស្នាក់នៅ", "住宿"),
    "venue": ("Venue", "ទីកន្លែងប្រជុំ", "会场"),
    "meals": ("Meals", "អាហារ", "餐饮"),
    "interpretation": ("Interpretation", "ការបកប្រែផ្ទាល់មាត់", "口译"),
    "materials": ("Materials", "សម្ភារៈ", "资料"),
    "other": ("Other", "ផ្សេងៗ", "其他"),
}

TERMS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {key: MappingProxyType(dict(zip(LANGUAGES, words, strict=True))) for key, words in _T.items()}
)


def term(key: str, language: str) -> str:
    """The word for ``key`` in ``language`` (``en``, ``km``, ``zh-hans``)."""
    return TERMS[key][language]
