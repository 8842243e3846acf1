"""The core's error codes as sentences a secretariat officer understands, in three languages."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ctip.finance import core

MESSAGES = {
    "not_a_number": _("Enter a number, such as 1250.50."),
    "negative_amount": _("An amount cannot be negative."),
    "zero_amount": _("An amount must be more than zero."),
    "too_many_decimals": _(
        "Too many decimals for this currency: USD and CNY have two, KHR is counted in whole riel."
    ),
    "too_large": _("This number is too large."),
    "unknown_currency": _("Unknown currency: use USD, KHR or CNY."),
    "missing_rate": _(
        "This amount is not in the reporting currency: give the exchange rate and its date."
    ),
    "missing_rate_date": _("Give the date of the exchange rate."),
    "rate_not_positive": _("An exchange rate must be more than zero."),
    "rate_wrong_currency": _("The exchange rate must join the two currencies concerned."),
    "same_currency_rate": _("An exchange rate joins two different currencies."),
    "party_not_in_meeting": _(
        "This Party is not in the meeting: it is neither the host nor has a delegation."
    ),
    "unknown_party": _("Unknown Party: use Cambodia or China."),
    "host_not_a_party": _("The host must be one of the Parties."),
    "coverage_exceeds_amount": _("Donors cannot cover more than the cost itself."),
    "coverage_wrong_currency": _("The coverage must be in the currency of the cost item."),
    "duplicate_item": _("This cost item appears twice."),
    "shares_empty": _("Give at least one share above zero."),
    "shares_negative": _("A share cannot be negative."),
    "shares_do_not_add_up": _("The shares must add up to 100 %."),
    "ambiguous_exception": _(
        "Another written exception already applies to exactly these costs; change or narrow it."
    ),
    "unknown_ruleset": _("Unknown version of the Financial Notes."),
    "unknown_category": _("Unknown category."),
    "threshold_out_of_range": _("The alert threshold must be at least 0 and below 1."),
    "unknown_commitment": _("Choose a commitment of the same case in this budget."),
    "reason_required": _("Record the reason for the exception."),
    "agreed_by_required": _("Record who agreed to the exception."),
    "date_required": _("Give the date."),
}

assert set(MESSAGES) == core.ERROR_CODES, set(core.ERROR_CODES) ^ set(MESSAGES)  # noqa: S101


def as_validation_error(error: core.InvalidInput, rename: dict[str, str] | None = None):
    """A Django ValidationError keyed by field, with translated messages (and the stable code
    of each, for the API)."""
    rename = rename or {}
    fields: dict[str, list[ValidationError]] = {}
    for item in error.errors:
        field = rename.get(item.field, item.field)
        fields.setdefault(field, []).append(ValidationError(MESSAGES[item.code], code=item.code))
    return ValidationError(fields)
