"""Template helpers for finance pages and bilingual statements."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html

from ctip.finance import core

register = template.Library()


@register.simple_tag(takes_context=True)
def bi(context, key: str, sep: str = "block"):
    """A statement term in English and in the statement's second language (``lang2``)."""
    lang = context.get("lang2", "en")
    en, local = core.term(key, "en"), core.term(key, lang)
    if sep == "inline":
        return format_html('{} <span lang="{}" class="l2i">/ {}</span>', en, lang, local)
    return format_html(
        '<span class="l1">{}</span><span lang="{}" class="l2">{}</span>', en, lang, local
    )


@register.filter
def money(value) -> str:
    """``1,200.00 USD``; accepts a core Money."""
    if isinstance(value, core.Money):
        return str(value)
    return "" if value is None else str(value)


@register.filter
def amount(value) -> str:
    """The number alone, with thousands separators."""
    if isinstance(value, core.Money):
        value = value.amount
    if isinstance(value, Decimal | int):
        return f"{value:,}"
    return "" if value is None else str(value)


@register.filter
def is_negative(value) -> bool:
    return isinstance(value, core.Money) and value.amount < 0


@register.filter
def absolute(value):
    if isinstance(value, core.Money):
        return core.Money(abs(value.amount), value.currency)
    return value


@register.filter
def share_of(result, bearer: str):
    """A party's share of one item's allocation, in the reporting currency."""
    if result is None:
        return ""
    money_ = result.reporting_of(bearer)
    return money_ if money_.amount else ""


@register.filter
def donor_share(result):
    if result is None:
        return ""
    total = core.Money.zero(result.reporting_total.currency)
    for s in result.shares:
        if s.is_donor:
            total += s.reporting
    return total if total.amount else ""


def _ui_language() -> str:
    from django.utils.translation import get_language

    lang = (get_language() or "en").lower()
    return "km" if lang.startswith("km") else "zh-hans" if lang.startswith("zh") else "en"


@register.simple_tag
def rule_text(rules, code: str) -> str:
    """The wording of a rule in the reader's language (the rules carry all three)."""
    return rules.text_of(code, _ui_language())
