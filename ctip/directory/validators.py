"""Field validators of the directory: phone numbers, language and country code lists."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ctip.directory.codes import COUNTRY_CODES, LANGUAGES

# International format: a leading +, the country code, then digits with optional spaces,
# hyphens or one pair of brackets; 8 to 15 digits in all (ITU-T E.164 allows at most 15).
_PHONE = re.compile(r"^\+[1-9][0-9 ()\-]{6,22}$")


def validate_phone(value: str) -> None:
    digits = re.sub(r"\D", "", value or "")
    if not _PHONE.match(value or "") or not 8 <= len(digits) <= 15:
        raise ValidationError(
            _("Enter the number in international format, for example +855 23 123 456."),
            code="invalid_phone",
        )


def validate_language_codes(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Give a list of language codes."), code="invalid_languages")
    unknown = [v for v in value if v not in LANGUAGES]
    if unknown:
        raise ValidationError(
            _("Unknown language code: %(codes)s."),
            code="unknown_language",
            params={"codes": ", ".join(unknown)},
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("A language is listed twice."), code="duplicate_language")


def validate_country_codes(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Give a list of country codes."), code="invalid_countries")
    unknown = [v for v in value if v not in COUNTRY_CODES]
    if unknown:
        raise ValidationError(
            _("Unknown country code: %(codes)s (use ISO 3166 codes such as KH, CN)."),
            code="unknown_country",
            params={"codes": ", ".join(unknown)},
        )


def validate_text_list(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationError(_("Give a list of names."), code="invalid_list")
    if any(len(v) > 100 for v in value):
        raise ValidationError(_("Each name may have at most 100 characters."), code="too_long")


LANGUAGE_LEVELS = ("native", "fluent", "working", "basic")


def validate_language_levels(value) -> None:
    """A list of ``{"code": "km", "level": "native"}``, each language once."""
    if not isinstance(value, list) or not all(
        isinstance(v, dict) and set(v) == {"code", "level"} for v in value
    ):
        raise ValidationError(
            _("Give each language as a code and a level."), code="invalid_languages"
        )
    validate_language_codes([v["code"] for v in value])
    bad = [str(v["level"]) for v in value if v["level"] not in LANGUAGE_LEVELS]
    if bad:
        raise ValidationError(
            _("Unknown language level: %(levels)s."),
            code="unknown_level",
            params={"levels": ", ".join(bad)},
        )


_WECHAT = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{5,19}$")
_TELEGRAM = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{4,31}$")


def validate_wechat(value: str) -> None:
    # WeChat IDs: 6-20 letters, digits, "_" or "-", starting with a letter; or a phone number.
    if value.startswith("+"):
        validate_phone(value)
    elif not _WECHAT.match(value):
        raise ValidationError(
            _("A WeChat ID has 6 to 20 letters, digits, - or _, and starts with a letter."),
            code="invalid_wechat",
        )


def validate_telegram(value: str) -> None:
    if value.startswith("+"):
        validate_phone(value)
    elif not _TELEGRAM.match(value):
        raise ValidationError(
            _("Give a Telegram username such as @consular_pp, or a phone number."),
            code="invalid_telegram",
        )


def validate_country_code(value: str) -> None:
    validate_country_codes([value])
