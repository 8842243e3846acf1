"""The annual review workshop pack (plan activity VI.1): plan status and the plan's
indicators (from the plan app), this node's indicators for the year as charts and tables
(through the disclosure control: the pack is shared at a joint workshop), and the lessons
and challenges each side recorded. English beside Khmer or Chinese; printable page and DOCX.
"""

from __future__ import annotations

import datetime as dt
import io

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ctip.monitoring import catalogue, charts, release, selectors
from ctip.monitoring import indicators as m
from ctip.monitoring.models import NoteKind, ReviewNote

PACK_PANELS = (
    (catalogue.VICTIMS, "sex"),
    (catalogue.VICTIMS, "exploitation"),
    (catalogue.VICTIMS, "age"),
    (catalogue.REPATRIATIONS, "sex"),
    (catalogue.REFERRALS, "need"),
    (catalogue.STAGE_DAYS, ""),
    (catalogue.TRAINED, ""),
)
LABELS = {
    "pack": gettext_noop("Annual review of the Joint Plan of Action"),
    "year": gettext_noop("Year"),
    "node": gettext_noop("Prepared by"),
    "status": gettext_noop("Status of activities"),
    "plan_indicators": gettext_noop("Indicators of the plan"),
    "indicators": gettext_noop("Indicators from the records"),
    "notes": gettext_noop("Lessons learned and challenges"),
    "lesson": gettext_noop("Lessons learned"),
    "challenge": gettext_noop("Challenges"),
    "none": gettext_noop("None recorded."),
    "sdc": gettext_noop(
        "Counts below %(k)s are withheld, with other cells so they cannot be recomputed."
    ),
    "Cambodia": gettext_noop("Cambodia"),
    "China": gettext_noop("China"),
    "activity": gettext_noop("Activity"),
}


def labels(language: str) -> dict:
    out = {}
    for key, text in LABELS.items():
        with translation.override("en"):
            en = _(text)
        with translation.override(language):
            second = _(text)
        out[key] = {"en": en, "second": "" if second == en else second}
    return out


def _both(fn, language):
    with translation.override("en"):
        en = fn()
    with translation.override(language):
        second = fn()
    return en, second


def content(*, user, year: int, language: str, request=None) -> dict:
    from ctip.monitoring.services import threshold
    from ctip.plan.selectors import report_content

    selectors._require(user, request=request)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    k = threshold()
    panels = []
    for code, by in PACK_PANELS:
        # The year's tables as any download of that year gives them (``release``): the
        # same cells withheld, so the pack adds nothing to subtract.
        pub = release.published(
            code, by, start=start, end=end, k=k, user=user, channel="pack", request=request
        )
        if not pub.available:
            continue
        with translation.override("en"):
            title_en = selectors.panel_title(code, by)
            rows_en = selectors.published_rows(pub)
        with translation.override(language):
            title_2 = selectors.panel_title(code, by)
            rows_2 = selectors.published_rows(pub)
        panels.append(
            {
                "title": {"en": title_en, "second": title_2},
                "unit": m.indicator(code).unit,
                "kind": pub.kind,
                "rows_en": rows_en,
                "rows_second": rows_2,
            }
        )
    notes = {}
    for country in ("KH", "CN"):
        notes[country] = {
            kind: [
                {"en": n.text_en, "second": n.text_second}
                for n in ReviewNote.objects.filter(year=year, country=country, kind=kind)
            ]
            for kind in NoteKind.values
        }
    return {
        "year": year,
        "language": language,
        "country": settings.CTIP_NODE,
        "threshold": k,
        "plan": report_content(user=user, start=start, end=end, language=language),
        "panels": panels,
        "notes": notes,
    }


def panel_chart(panel: dict) -> charts.Chart:
    """A chart of the protected table (withheld cells drawn as nothing)."""
    rows = panel["rows_en"]
    header, body = rows[0], rows[1:]
    has_total = panel["kind"] == "count"
    if has_total:
        body = body[:-1]  # the total row
        cols = header[1:-1]
    else:
        cols = header[1:-1]

    def number(v):
        try:
            return float(v)
        except ValueError:
            return 0

    cells = [[number(v) for v in line[1 : 1 + len(cols)]] for line in body]
    return charts.stacked_bars([line[0] for line in body], cols, cells, unit=panel["unit"])


# --- DOCX -------------------------------------------------------------------------------


def render_docx(c: dict, lab: dict) -> bytes:
    from docx import Document
    from docx.shared import Cm, Pt

    from ctip.plan.docx_report import CHINESE_FONT, KHMER_FONT, LATIN_FONT, _fonts, _lang, add_text

    doc = Document()
    section = doc.sections[0]
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Cm(1.8))
    for style_name in ("Normal", "Heading 1", "Heading 2", "Title"):
        rpr = doc.styles[style_name].element.get_or_add_rPr()
        _fonts(rpr, latin=LATIN_FONT, east_asia=CHINESE_FONT, complex_script=KHMER_FONT)
        _lang(rpr, val="en-GB", east_asia="zh-CN", bidi="km-KH")
    doc.styles["Normal"].font.size = Pt(10)
    doc.core_properties.title = f"{lab['pack']['en']} {c['year']}"

    def heading(key_or_pair, level):
        pair = lab[key_or_pair] if isinstance(key_or_pair, str) else key_or_pair
        paragraph = doc.add_heading(level=level)
        add_text(paragraph, pair["en"])
        if pair["second"] and pair["second"] != pair["en"]:
            add_text(paragraph, " / ")
            add_text(paragraph, pair["second"])

    def both(cell, en, second, bold=False):
        """English, then the second language, in one table cell."""
        first = cell.paragraphs[0]
        add_text(first if not first.text else cell.add_paragraph(), en, bold=bold)
        if second and second != en:
            add_text(cell.add_paragraph(), second, bold=bold)

    heading("pack", 0)
    add_text(
        doc.add_paragraph(),
        f"{lab['year']['en']}: {c['year']} · {lab['node']['en']}: {c['country']}",
    )

    heading("status", 1)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    both(table.rows[0].cells[0], lab["activity"]["en"], lab["activity"]["second"], bold=True)
    both(table.rows[0].cells[1], lab["Cambodia"]["en"], lab["Cambodia"]["second"], bold=True)
    both(table.rows[0].cells[2], lab["China"]["en"], lab["China"]["second"], bold=True)
    for area in c["plan"]["areas"]:
        for activity in area["activities"]:
            cells = table.add_row().cells
            both(
                cells[0],
                f"{activity['number']} {activity['text']['en']}",
                activity["text"]["second"],
            )
            for cell, code in zip(cells[1:], ("KH", "CN"), strict=True):
                status = activity["status"][code]
                both(cell, status["label"]["en"], status["label"]["second"])

    heading("plan_indicators", 1)
    table = doc.add_table(rows=0, cols=3)
    table.style = "Table Grid"
    for ind in c["plan"]["indicators"]:
        cells = table.add_row().cells
        both(cells[0], f"{ind['activity']} {ind['text']['en']}", ind["text"]["second"])
        for cell, code in zip(cells[1:], ("KH", "CN"), strict=True):
            value = ind["values"][code]["value"]
            both(cell, f"{code}: {'—' if value is None else value}", "")

    heading("indicators", 1)
    note = lab["sdc"]
    add_text(doc.add_paragraph(), note["en"] % {"k": c["threshold"]}, size=8)
    if note["second"]:
        add_text(doc.add_paragraph(), note["second"] % {"k": c["threshold"]}, size=8)
    for panel in c["panels"]:
        heading(panel["title"], 2)
        chart_rows = panel["rows_en"][1:-1] if panel["kind"] == "count" else panel["rows_en"][1:]
        totals = []
        for line in chart_rows:
            try:
                totals.append(float(line[-1]))
            except ValueError:
                totals.append(0.0)
        top = max(totals, default=0) or 1
        for line, value in zip(chart_rows, totals, strict=True):
            paragraph = doc.add_paragraph()
            add_text(paragraph, f"{line[0]:<10} ")
            add_text(paragraph, "█" * round(30 * value / top) + f" {line[-1]}")
        rows_en, rows_2 = panel["rows_en"], panel["rows_second"]
        table = doc.add_table(rows=0, cols=len(rows_en[0]))
        table.style = "Table Grid"
        for line_en, line_2 in zip(rows_en, rows_2, strict=True):
            cells = table.add_row().cells
            for cell, en, second in zip(cells, line_en, line_2, strict=True):
                both(cell, en, second if second != en else "")

    heading("notes", 1)
    for code, name in (("KH", "Cambodia"), ("CN", "China")):
        heading(name, 2)
        for kind in ("lesson", "challenge"):
            add_text(doc.add_paragraph(), f"{lab[kind]['en']} / {lab[kind]['second']}", bold=True)
            items = c["notes"][code][kind]
            if not items:
                add_text(doc.add_paragraph(), lab["none"]["en"])
            for item in items:
                add_text(doc.add_paragraph(style="List Bullet"), item["en"])
                if item["second"]:
                    add_text(doc.add_paragraph(), item["second"])
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
