"""Cost-sharing statements: per meeting and per year, for one Party, in English and in that
Party's language (Khmer for Cambodia, Chinese for China).

One data structure feeds the printable page, the CSV and the XLSX file, so the three always
agree. The wording comes from ``core.terms`` (bilingual document vocabulary).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from ctip.finance import core
from ctip.finance.models import CostItem, Meeting


def language_of(party: str) -> str:
    return core.PARTY_LANGUAGE[party]


def bilingual(key: str, language: str) -> tuple[str, str]:
    return core.term(key, "en"), core.term(key, language)


@dataclass(frozen=True)
class Line:
    """One cost item that concerns the Party: it bears a share, paid the bill, or the cost
    was for its delegation."""

    item: CostItem
    allocation: core.ItemAllocation
    share: core.Money  # this Party's share, in the item's currency (may be zero)
    share_reporting: core.Money  # … in the reporting currency
    basis: str  # the rule code, or "exception:<id>", that decided this Party's share
    borne_by: tuple[tuple[str, str], ...]  # every bearer, (English, second language)

    @property
    def rule_code(self) -> str:
        return self.allocation.rule


@dataclass(frozen=True)
class DonorLine:
    item: CostItem
    donor_name: str
    amount: core.Money  # in the item's currency
    reporting: core.Money


@dataclass(frozen=True)
class AppliedException:
    exception: core.WrittenException
    instead_of: str  # the rule it set aside


@dataclass
class MeetingStatement:
    meeting: Meeting
    party: str
    language: str
    allocation: core.MeetingAllocation
    lines: list[Line] = field(default_factory=list)
    donor_lines: list[DonorLine] = field(default_factory=list)
    rules_applied: list[tuple[str, str, str]] = field(default_factory=list)  # code, en, local
    exceptions: list[AppliedException] = field(default_factory=list)
    prepared_on: dt.date = field(default_factory=lambda: timezone.localdate())

    @property
    def currency(self) -> core.Currency:
        return self.allocation.reporting_currency

    @property
    def title_local(self) -> str:
        m = self.meeting
        return m.title_km if self.language == "km" else m.title_zh_hans

    @property
    def borne(self) -> core.Money:
        return self.allocation.borne.get(self.party, core.Money.zero(self.currency))

    @property
    def paid(self) -> core.Money:
        return self.allocation.paid.get(self.party, core.Money.zero(self.currency))

    @property
    def net(self) -> core.Money:
        return self.allocation.net.get(self.party, core.Money.zero(self.currency))

    @property
    def covered(self) -> core.Money:
        return sum((d.reporting for d in self.donor_lines), core.Money.zero(self.currency))


def _bearer_names(key: str, donors: dict, language: str) -> tuple[str, str]:
    if key in core.PARTY_LANGUAGE:
        return core.term(key, "en"), core.term(key, language)
    donor = donors[key]
    local = donor.name_zh_hans if language == "zh-hans" else donor.name_km
    return donor.name, local or donor.name


def meeting_statement(meeting: Meeting, allocation: core.MeetingAllocation, party: str):
    """The statement of ``party`` for ``meeting`` (``allocation`` from
    ``selectors.meeting_allocation``): every cost that concerns the Party, its share of
    each, what it paid, the balance, donor support on its bills, and the rules applied."""
    language = language_of(party)
    items = {str(i.pk): i for i in meeting.cost_items.all()}
    donors = {
        core.donor_key(str(c.commitment.donor_id)): c.commitment.donor
        for i in items.values()
        for c in i.coverages.all()
    }
    rules = core.get_ruleset(allocation.ruleset)
    statement = MeetingStatement(meeting, party, language, allocation)
    used: list[str] = []
    seen_exceptions: set[str] = set()
    for result in allocation.items:
        line = result.line
        item = items[line.id]
        mine = [sh for sh in result.shares if sh.bearer == party]
        if not (mine or line.incurred_by == party or line.for_party == party):
            continue
        currency = line.amount.currency
        share = sum((sh.amount for sh in mine), core.Money.zero(currency))
        reporting = sum((sh.reporting for sh in mine), core.Money.zero(statement.currency))
        basis = mine[0].basis if mine else result.decided_by
        names = tuple(_bearer_names(sh.bearer, donors, language) for sh in result.shares)
        statement.lines.append(Line(item, result, share, reporting, basis, names))
        for sh in result.shares:
            code = result.rule if sh.basis.startswith("exception:") else sh.basis
            if code not in used:
                used.append(code)
            if sh.is_donor and line.incurred_by == party:
                en, local = _bearer_names(sh.bearer, donors, language)
                statement.donor_lines.append(
                    DonorLine(
                        item, en if en == local else f"{en} / {local}", sh.amount, sh.reporting
                    )
                )
        exc = result.exception
        if exc is not None and exc.id not in seen_exceptions:
            seen_exceptions.add(exc.id)
            statement.exceptions.append(AppliedException(exc, result.rule))
    order = [r.code for r in rules.rules] + [rules.external.code]
    statement.rules_applied = [
        (code, rules.text_of(code, "en"), rules.text_of(code, language))
        for code in sorted(used, key=order.index)
    ]
    return statement


@dataclass(frozen=True)
class YearRow:
    meeting: Meeting
    currency: core.Currency
    borne: core.Money
    paid: core.Money
    net: core.Money
    covered: core.Money  # donor shares of the bills this Party paid


@dataclass
class YearStatement:
    year: int
    party: str
    language: str
    rows: list[YearRow]
    prepared_on: dt.date = field(default_factory=lambda: timezone.localdate())

    def totals(self) -> list[dict]:
        """Totals per reporting currency: meetings reported in different currencies are not
        added together (no rate would be honest for the whole year)."""
        out: dict[core.Currency, dict] = {}
        for row in self.rows:
            zero = core.Money.zero(row.currency)
            t = out.setdefault(
                row.currency,
                {
                    "currency": row.currency,
                    "borne": zero,
                    "paid": zero,
                    "net": zero,
                    "covered": zero,
                },
            )
            for key in ("borne", "paid", "net", "covered"):
                t[key] = t[key] + getattr(row, key)
        return list(out.values())


def year_statement(
    year: int, party: str, meetings: Iterable[tuple[Meeting, core.MeetingAllocation]]
) -> YearStatement:
    rows = []
    for meeting, allocation in meetings:
        if party not in meeting.party_codes():
            continue
        zero = core.Money.zero(allocation.reporting_currency)
        covered = zero
        for item in allocation.items:
            if item.line.incurred_by == party:
                covered += sum((s.reporting for s in item.shares if s.is_donor), zero)
        rows.append(
            YearRow(
                meeting,
                allocation.reporting_currency,
                allocation.borne.get(party, zero),
                allocation.paid.get(party, zero),
                allocation.net.get(party, zero),
                covered,
            )
        )
    return YearStatement(year, party, language_of(party), rows)


# --- Tables for CSV and XLSX ----------------------------------------------------------------


def _h(key: str, language: str) -> str:
    en, local = bilingual(key, language)
    return f"{en} / {local}"


def _for_label(party: str, language: str) -> str:
    if not party:
        return _h("meeting_as_a_whole", language)
    return _h(party, language)


def meeting_table(statement: MeetingStatement) -> tuple[list[str], list[list[object]]]:
    lang = statement.language
    header = [
        _h("category", lang),
        _h("description", lang),
        _h("incurred_by", lang),
        _h("for", lang),
        _h("amount", lang),
        "Currency",
        _h("rate", lang),
        _h("rate_date", lang),
        _h("share", lang),
        f"{_h('share', lang)} ({statement.currency})",
        _h("borne_by", lang),
        _h("rule", lang),
    ]
    rows: list[list[object]] = []
    for line in statement.lines:
        item = line.item
        rows.append(
            [
                _h(item.category, lang),
                item.description,
                _h(item.incurred_by, lang),
                _for_label(item.for_party, lang),
                item.money().amount,
                item.currency,
                item.rate_display,
                item.rate_date.isoformat() if item.rate_date else "",
                line.share.amount,
                line.share_reporting.amount,
                "; ".join(f"{en} / {local}" for en, local in line.borne_by),
                _rule_label(line),
            ]
        )
    rows.append([])
    pad = [""] * 8
    rows.append([_h("borne", lang), *pad, statement.borne.amount, "", ""])
    rows.append([_h("paid", lang), *pad, statement.paid.amount, "", ""])
    rows.append([_h("net", lang), *pad, statement.net.amount, "", ""])
    for d in statement.donor_lines:
        rows.append(
            [
                _h("covered", lang),
                d.item.description,
                "",
                "",
                d.amount.amount,
                d.amount.currency.value,
                "",
                "",
                "",
                d.reporting.amount,
                d.donor_name,
                "FN-3",
            ]
        )
    return header, rows


def _rule_label(line: Line) -> str:
    if line.basis.startswith("exception:"):
        return f"{line.allocation.rule} → exception"
    return line.basis


def year_table(statement: YearStatement) -> tuple[list[str], list[list[object]]]:
    lang = statement.language
    header = [
        _h("meeting", lang),
        _h("dates", lang),
        _h("place", lang),
        _h("host", lang),
        _h("reporting_currency", lang),
        _h("borne", lang),
        _h("paid", lang),
        _h("net", lang),
        _h("covered", lang),
    ]
    rows: list[list[object]] = []
    for r in statement.rows:
        m = r.meeting
        rows.append(
            [
                m.title,
                f"{m.starts_on.isoformat()} – {m.ends_on.isoformat()}",
                m.place,
                _h(m.host_country, lang),
                r.currency.value,
                r.borne.amount,
                r.paid.amount,
                r.net.amount,
                r.covered.amount,
            ]
        )
    rows.append([])
    for t in statement.totals():
        rows.append(
            [
                _h("total", lang),
                "",
                "",
                "",
                t["currency"].value,
                t["borne"].amount,
                t["paid"].amount,
                t["net"].amount,
                t["covered"].amount,
            ]
        )
    return header, rows


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula is quoted (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_safe(title)])
    writer.writerow([_safe(h) for h in header])
    for row in rows:
        writer.writerow([f"{v:f}" if isinstance(v, Decimal) else _safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: spreadsheets then read UTF-8


def to_xlsx(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Statement"
    sheet.append([_safe(title)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([_safe(h) for h in header])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append([_safe(v) for v in row])
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            if isinstance(cell.value, Decimal):
                scale = -cell.value.as_tuple().exponent
                cell.number_format = "#,##0" if scale <= 0 else "#,##0." + "0" * scale
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 22
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
