"""The Financial Notes of the Joint Plan of Action, as explicit, versioned rules (data).

The notes, verbatim from the draft plan:

1. All costs related to international travel for visiting delegations (to attend
   workshops/meetings/field trips) will be borne by the visiting Party.
2. All costs related to domestic travel, accommodation, and workshops/meeting related issues
   for visiting delegations will be borne by the host Party.
3. When necessary, Parties may seek additional financial and technical support from external
   sources to support the implementation of this plan of action.

A rule matches a cost item by its *category* and by whom the cost is *for* (the visiting
delegation, the host's own delegation, or the meeting as a whole) and names who *bears* it.
Rules are tried in order; the first match decides. Two residual rules (``R-1``, ``R-2``)
cover what the notes do not say, and are marked as such (``note is None``): a Party bears
its own delegation's other costs, and a meeting-wide cost no note assigns stays with the
Party that paid it. Note 3 is not a matching rule: the part of an item that a donor covered
is the donor's (``EXTERNAL_RULE``), before any other rule looks at the rest.

A new version of the notes is a new :class:`RuleSet` appended to ``RULESETS``; a meeting
keeps the version it was recorded under, so old statements do not change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from .errors import InvalidInput

__all__ = [
    "CURRENT_RULESET",
    "EXTERNAL_RULE",
    "RULESETS",
    "Bearer",
    "Category",
    "For",
    "Rule",
    "RuleSet",
    "get_ruleset",
]


class Category(StrEnum):
    INTERNATIONAL_TRAVEL = "international_travel"
    DOMESTIC_TRAVEL = "domestic_travel"
    ACCOMMODATION = "accommodation"
    VENUE = "venue"
    MEALS = "meals"
    INTERPRETATION = "interpretation"
    MATERIALS = "materials"
    OTHER = "other"


class For(StrEnum):
    """Whom a cost is for, seen from the meeting."""

    VISITING = "visiting"  # a visiting Party's delegation
    HOST = "host"  # the host Party's own delegation
    MEETING = "meeting"  # the meeting as a whole (venue, shared interpretation …)


class Bearer(StrEnum):
    """Who a rule makes pay."""

    HOST = "host"
    DELEGATION = "delegation"  # the Party whose delegation the cost is for
    INCURRING = "incurring"  # the Party that paid the bill


@dataclass(frozen=True)
class Rule:
    code: str
    note: int | None  # the number of the Financial Note, None for a residual rule
    categories: frozenset[Category]
    applies_for: frozenset[For]
    bearer: Bearer
    text: Mapping[str, str]  # language code -> wording ("en", "km", "zh-hans")

    def __post_init__(self) -> None:
        if not self.categories or not self.applies_for:
            raise ValueError(f"rule {self.code} matches nothing")
        if not {"en", "km", "zh-hans"} <= set(self.text):
            raise ValueError(f"rule {self.code} needs its text in en, km and zh-hans")
        if self.bearer == Bearer.DELEGATION and For.MEETING in self.applies_for:
            raise ValueError(f"rule {self.code}: a meeting-wide cost has no delegation")

    def matches(self, category: Category, applies_for: For) -> bool:
        return category in self.categories and applies_for in self.applies_for


@dataclass(frozen=True)
class ExternalRule:
    code: str
    note: int
    text: Mapping[str, str]


@dataclass(frozen=True)
class RuleSet:
    version: str
    effective_from: dt.date
    source: str
    rules: tuple[Rule, ...]
    external: ExternalRule
    by_code: Mapping[str, Rule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        codes = [r.code for r in self.rules] + [self.external.code]
        if len(set(codes)) != len(codes):
            raise ValueError(f"rule set {self.version} repeats a rule code")
        # Complete: every category, for every kind of beneficiary, is decided by some rule.
        for category in Category:
            for applies_for in For:
                if not any(r.matches(category, applies_for) for r in self.rules):
                    raise ValueError(
                        f"rule set {self.version} decides nothing for {category}/{applies_for}"
                    )
        object.__setattr__(self, "by_code", MappingProxyType({r.code: r for r in self.rules}))

    def decide(self, category: Category, applies_for: For) -> Rule:
        """The first rule that matches (the set is complete, so there always is one)."""
        return next(r for r in self.rules if r.matches(category, applies_for))

    def text_of(self, code: str, language: str) -> str:
        if code == self.external.code:
            return self.external.text[language]
        return self.by_code[code].text[language]


_ALL = frozenset(Category)
_WORKSHOP = frozenset(
    {
        Category.DOMESTIC_TRAVEL,
        Category.ACCOMMODATION,
        Category.VENUE,
        Category.MEALS,
        Category.INTERPRETATION,
        Category.MATERIALS,
    }
)

# Khmer wording is a working translation for the secretariats to confirm (docs/decisions.md).
JPA_DRAFT = RuleSet(
    version="jpa-draft-1",
    effective_from=dt.date(2017, 1, 1),
    source="Joint Plan of Action (draft), Financial Notes",
    rules=(
        Rule(
            code="FN-1",
            note=1,
            categories=frozenset({Category.INTERNATIONAL_TRAVEL}),
            applies_for=frozenset({For.VISITING}),
            bearer=Bearer.DELEGATION,
            text={
                "en": "All costs related to international travel for visiting delegations (to "
                "attend workshops/meetings/field trips) will be borne by the visiting Party.",
                "km": "រាល់ការចំណាយពាក់ព័ន្ធនឹងការធ្វើដំណើរអន្តរជាតិរបស់គណៈប្រតិភូមកទស្សនកិច្ច "
                "(ដើម្បីចូលរួមសិក្ខាសាលា/កិច្ចប្រជុំ/ទស្សនកិច្ចសិក្សា) "
                "ត្រូវទទួលបន្ទុកដោយភាគីមកទស្សនកិច្ច។",
                "zh-hans": "来访代表团（出席研讨会/会议/实地考察）"
                "国际旅行的一切相关费用由来访方承担。",
            },
        ),
        Rule(
            code="FN-2",
            note=2,
            categories=_WORKSHOP,
            applies_for=frozenset({For.VISITING, For.MEETING}),
            bearer=Bearer.HOST,
            text={
                "en": "All costs related to domestic travel, accommodation, and "
                "workshops/meeting related issues for visiting delegations will be borne by "
                "the host Party.",
                "km": "រាល់ការចំណាយពាក់ព័ន្ធនឹងការធ្វើដំណើរក្នុងប្រទេស ការស្នាក់នៅ "
                "និងបញ្ហាពាក់ព័ន្ធនឹងសិក្ខាសាលា/កិច្ចប្រជុំ សម្រាប់គណៈប្រតិភូមកទស្សនកិច្ច "
                "ត្រូវទទួលបន្ទុកដោយភាគីម្ចាស់ផ្ទះ។",
                "zh-hans": "来访代表团的国内交通、住宿以及研讨会/会议相关事项的"
                "一切费用由东道方承担。",
            },
        ),
        Rule(
            code="R-1",
            note=None,
            categories=_ALL,
            applies_for=frozenset({For.VISITING, For.HOST}),
            bearer=Bearer.DELEGATION,
            text={
                "en": "Not in the Financial Notes: a Party bears the other costs of its own "
                "delegation.",
                "km": "មិនមានក្នុងកំណត់សម្គាល់ហិរញ្ញវត្ថុ៖ ភាគីនីមួយៗទទួលបន្ទុកការចំណាយផ្សេងទៀតរបស់គណៈប្រតិភូខ្លួន។",
                "zh-hans": "财务说明未作规定：各方承担本方代表团的其他费用。",
            },
        ),
        Rule(
            code="R-2",
            note=None,
            categories=_ALL,
            applies_for=frozenset({For.MEETING}),
            bearer=Bearer.INCURRING,
            text={
                "en": "Not in the Financial Notes: a cost for the meeting as a whole that no "
                "note assigns is borne by the Party that incurred it.",
                "km": "មិនមានក្នុងកំណត់សម្គាល់ហិរញ្ញវត្ថុ៖ "
                "ការចំណាយសម្រាប់កិច្ចប្រជុំទាំងមូលដែលគ្មានកំណត់សម្គាល់ណាមួយកំណត់ "
                "ត្រូវទទួលបន្ទុកដោយភាគីដែលបានចំណាយ។",
                "zh-hans": "财务说明未作规定：未被任何说明分配的会议整体费用，"
                "由支付该费用的一方承担。",
            },
        ),
    ),
    external=ExternalRule(
        code="FN-3",
        note=3,
        text={
            "en": "When necessary, Parties may seek additional financial and technical support "
            "from external sources to support the implementation of this plan of action.",
            "km": "នៅពេលចាំបាច់ ភាគីទាំងពីរអាចស្វែងរកការគាំទ្រផ្នែកហិរញ្ញវត្ថុ "
            "និងបច្ចេកទេសបន្ថែមពីប្រភពខាងក្រៅ ដើម្បីគាំទ្រការអនុវត្តផែនការសកម្មភាពនេះ។",
            "zh-hans": "必要时，双方可寻求外部的额外资金和技术支持，以支持本行动计划的实施。",
        },
    ),
)

RULESETS: Mapping[str, RuleSet] = MappingProxyType({JPA_DRAFT.version: JPA_DRAFT})
CURRENT_RULESET = JPA_DRAFT.version
EXTERNAL_RULE = JPA_DRAFT.external.code


def get_ruleset(version: str) -> RuleSet:
    try:
        return RULESETS[version]
    except KeyError:
        raise InvalidInput.one("ruleset", "unknown_ruleset") from None
