"""Why an input was refused, as stable codes tied to the field that carries the fault.

The core is free of Django, so it cannot translate: it says *what* is wrong with *which*
field (``FieldError("amount", "negative_amount")``), and the Django app turns each code
into a translated sentence (``ctip.finance.messages``). Codes are stable; never rename one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ERROR_CODES", "FieldError", "InvalidInput"]

ERROR_CODES = frozenset(
    {
        "not_a_number",  # not a decimal number (floats are refused too: money is never binary)
        "negative_amount",
        "zero_amount",
        "too_many_decimals",  # more decimals than the currency has (KHR: none)
        "too_large",
        "unknown_currency",
        "missing_rate",  # the amount is not in the reporting currency and no rate was given
        "missing_rate_date",
        "rate_not_positive",
        "rate_wrong_currency",  # the rate does not join the two currencies in question
        "same_currency_rate",
        "party_not_in_meeting",
        "unknown_party",
        "host_not_a_party",
        "coverage_exceeds_amount",
        "coverage_wrong_currency",
        "duplicate_item",
        "shares_empty",
        "shares_negative",
        "shares_do_not_add_up",
        "ambiguous_exception",
        "unknown_ruleset",
        "unknown_category",
        "threshold_out_of_range",
        "unknown_commitment",
        "reason_required",  # a written exception without its reason
        "agreed_by_required",  # … or without who agreed
        "date_required",
    }
)


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str

    def __post_init__(self) -> None:
        if self.code not in ERROR_CODES:
            raise ValueError(f"unknown error code {self.code!r}")


class InvalidInput(ValueError):
    """One or more fields were refused; ``errors`` lists them all, not only the first."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = tuple(errors)
        if not self.errors:
            raise ValueError("InvalidInput needs at least one FieldError")
        super().__init__("; ".join(f"{e.field}: {e.code}" for e in self.errors))

    @classmethod
    def one(cls, field: str, code: str) -> InvalidInput:
        return cls([FieldError(field, code)])

    def by_field(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for error in self.errors:
            out.setdefault(error.field, []).append(error.code)
        return out
