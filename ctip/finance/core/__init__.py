"""Cost sharing under the Financial Notes, and the reintegration budget (pure Python, no Django).

* :mod:`.money`: currencies, exact decimal amounts, exchange rates, rounding, splitting.
* :mod:`.rules`: the Financial Notes as versioned rules (data).
* :mod:`.allocation`: who bears what for one meeting, naming the rule (or written exception)
  that decided each share.
* :mod:`.budget`: remaining national budget for reintegration and its alert level.
* :mod:`.terms`: the statement vocabulary in English, Khmer and Chinese.

Bad input raises :class:`InvalidInput` with stable codes per field; the Django app
(``ctip.finance``) translates them.
"""

from .allocation import (
    PARTIES,
    AllocationConfig,
    CostLine,
    Coverage,
    ItemAllocation,
    MeetingAllocation,
    MeetingFacts,
    Share,
    WrittenException,
    allocate,
    check_exception,
    check_line,
    donor_key,
)
from .budget import (
    BudgetConfig,
    BudgetEntry,
    BudgetStatus,
    CaseTotals,
    EntryKind,
    Level,
    budget_status,
)
from .errors import ERROR_CODES, FieldError, InvalidInput
from .money import (
    MINOR_UNITS,
    Currency,
    ExchangeRate,
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
from .rules import (
    CURRENT_RULESET,
    RULESETS,
    Bearer,
    Category,
    For,
    Rule,
    RuleSet,
    get_ruleset,
)
from .terms import LANGUAGES, PARTY_LANGUAGE, TERMS, term

__all__ = [
    "CURRENT_RULESET",
    "ERROR_CODES",
    "LANGUAGES",
    "MINOR_UNITS",
    "PARTIES",
    "PARTY_LANGUAGE",
    "RULESETS",
    "TERMS",
    "AllocationConfig",
    "Bearer",
    "BudgetConfig",
    "BudgetEntry",
    "BudgetStatus",
    "CaseTotals",
    "Category",
    "CostLine",
    "Coverage",
    "Currency",
    "EntryKind",
    "ExchangeRate",
    "FieldError",
    "For",
    "InvalidInput",
    "ItemAllocation",
    "Level",
    "MeetingAllocation",
    "MeetingFacts",
    "Money",
    "Rule",
    "RuleSet",
    "Share",
    "WrittenException",
    "allocate",
    "budget_status",
    "check_exception",
    "check_line",
    "convert",
    "donor_key",
    "from_minor",
    "get_ruleset",
    "parse_amount",
    "parse_currency",
    "parse_rate",
    "quantum",
    "round_money",
    "split",
    "term",
    "to_minor",
]
