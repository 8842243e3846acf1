"""A progress report as a DOCX file (python-docx), English beside Khmer or Chinese.

Word and LibreOffice pick a font per script slot: Latin text uses ``w:ascii``/``w:hAnsi``,
Chinese the East Asian slot (``w:eastAsia``), Khmer the complex-script slot (``w:cs``). Each
run names the right font in every slot and carries its language (``w:lang``), so Khmer and
Chinese render with Noto Sans Khmer / Noto Sans SC where installed and fall back to the
system's Khmer or Chinese font elsewhere, never to boxes.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

LATIN_FONT = "Noto Sans"
KHMER_FONT = "Noto Sans Khmer"
CHINESE_FONT = "Noto Sans SC"
COUNTRIES = (("KH", "Cambodia"), ("CN", "China"))


def script_of(text: str) -> str:
    for ch in text:
        if "\u1780" <= ch <= "\u17ff" or "\u19e0" <= ch <= "\u19ff":
            return "km"
        if "\u3400" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef":
            return "zh"
    return "en"


def _fonts(rpr, *, latin: str, east_asia: str, complex_script: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), complex_script)


def _lang(rpr, *, val: str, east_asia: str, bidi: str) -> None:
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), val)
    lang.set(qn("w:eastAsia"), east_asia)
    lang.set(qn("w:bidi"), bidi)


def add_text(paragraph, text: str, *, bold: bool = False, size: float | None = None):
    """A run whose fonts and language follow the script of ``text``."""
    run = paragraph.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    rpr = run._element.get_or_add_rPr()
    script = script_of(text)
    if script == "km":
        _fonts(rpr, latin=KHMER_FONT, east_asia=KHMER_FONT, complex_script=KHMER_FONT)
        rpr.append(OxmlElement("w:cs"))  # treat the run as complex script (Khmer shaping)
        _lang(rpr, val="km-KH", east_asia="zh-CN", bidi="km-KH")
    elif script == "zh":
        _fonts(rpr, latin=LATIN_FONT, east_asia=CHINESE_FONT, complex_script=KHMER_FONT)
        rpr_hint = rpr.find(qn("w:rFonts"))
        rpr_hint.set(qn("w:hint"), "eastAsia")
        _lang(rpr, val="zh-CN", east_asia="zh-CN", bidi="km-KH")
    return run


def _cell(cell, en: str, second: str = "", *, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    add_text(paragraph, en, bold=bold)
    if second and second != en:
        add_text(cell.add_paragraph(), second, bold=bold)


def _heading(doc, en: str, second: str, level: int) -> None:
    paragraph = doc.add_heading(level=level)
    add_text(paragraph, en)
    if second and second != en:
        add_text(paragraph, " / ")
        add_text(paragraph, second)


def render_docx(report, labels: dict) -> bytes:
    """The report's frozen content as a DOCX document."""
    c = report.content
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Cm(1.8))
    # Document defaults: every style inherits fonts for all three scripts.
    for style_name in ("Normal", "Heading 1", "Heading 2", "Title"):
        rpr = doc.styles[style_name].element.get_or_add_rPr()
        _fonts(rpr, latin=LATIN_FONT, east_asia=CHINESE_FONT, complex_script=KHMER_FONT)
        _lang(rpr, val="en-GB", east_asia="zh-CN", bidi="km-KH")
    doc.styles["Normal"].font.size = Pt(10)
    doc.core_properties.title = f"{labels['report']['en']} {c['period'][0]} – {c['period'][1]}"
    doc.core_properties.language = "en"

    title = doc.add_heading(level=0)
    add_text(title, labels["report"]["en"])
    if labels["report"]["second"]:
        add_text(doc.add_paragraph(), labels["report"]["second"], bold=True, size=14)
    add_text(doc.add_paragraph(), c["title"]["en"])
    add_text(doc.add_paragraph(), c["title"]["second"])
    facts = doc.add_table(rows=0, cols=2)
    facts.style = "Table Grid"
    agreed = labels["agreed" if c["agreed"] else "not_agreed"]
    for key, value in (
        ("period", f"{c['period'][0]} – {c['period'][1]}"),
        ("country", c["country"]),
        (
            "version",
            f"v{c['version']} — {agreed['en']}"
            + (f" / {agreed['second']}" if agreed["second"] else ""),
        ),
    ):
        row = facts.add_row().cells
        _cell(row[0], labels[key]["en"], labels[key]["second"], bold=True)
        _cell(row[1], value)
    if c.get("translation_draft"):
        note = labels["draft_translation"]
        both = f"{note['en']} / {note['second']}" if note["second"] else note["en"]
        add_text(doc.add_paragraph(), both, size=8)

    _heading(doc, f"1. {labels['status']['en']}", labels["status"]["second"], 1)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    head = table.rows[0].cells
    _cell(head[0], labels["activity"]["en"], labels["activity"]["second"], bold=True)
    for cell, (_code, name) in zip(head[1:], COUNTRIES, strict=True):
        _cell(cell, labels[name]["en"], labels[name]["second"], bold=True)
    for area in c["areas"]:
        row = table.add_row().cells
        merged = row[0].merge(row[2])
        _cell(merged, f"{area['code']}. {area['title']['en']}", area["title"]["second"], bold=True)
        for activity in area["activities"]:
            row = table.add_row().cells
            _cell(
                row[0], f"{activity['number']} {activity['text']['en']}", activity["text"]["second"]
            )
            for cell, (code, _name) in zip(row[1:], COUNTRIES, strict=True):
                status = activity["status"][code]
                text = status["label"]["en"] + (f" ({status['as_of']})" if status["as_of"] else "")
                _cell(cell, text, status["label"]["second"])
                if status["note"]:
                    add_text(cell.add_paragraph(), status["note"])

    _heading(doc, f"2. {labels['indicators']['en']}", labels["indicators"]["second"], 1)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    head = table.rows[0].cells
    _cell(head[0], labels["indicator"]["en"], labels["indicator"]["second"], bold=True)
    for cell, (_code, name) in zip(head[1:], COUNTRIES, strict=True):
        _cell(cell, labels[name]["en"], labels[name]["second"], bold=True)
    for indicator in c["indicators"]:
        row = table.add_row().cells
        _cell(
            row[0],
            f"{indicator['activity']} {indicator['text']['en']}",
            indicator["text"]["second"],
        )
        for cell, (code, _name) in zip(row[1:], COUNTRIES, strict=True):
            value = indicator["values"][code]
            if value["value"] is None:
                _cell(cell, labels["not_available"]["en"], labels["not_available"]["second"])
            else:
                source = labels["computed" if value["source"] == "computed" else "manual"]
                unit = f" {indicator['unit']}" if indicator["unit"] else ""
                said = f"{source['en']} / {source['second']}" if source["second"] else source["en"]
                _cell(cell, f"{value['value']}{unit}", said)

    _heading(doc, f"3. {labels['questions']['en']}", labels["questions"]["second"], 1)
    for question in c["open_questions"]:
        paragraph = doc.add_paragraph(style="List Bullet")
        add_text(paragraph, f"{question['activity']} ", bold=True)
        add_text(paragraph, question["text"]["en"])
        add_text(doc.add_paragraph(), question["text"]["second"])

    _heading(doc, f"4. {labels['next_steps']['en']}", labels["next_steps"]["second"], 1)
    for step in c["next_steps"]:
        paragraph = doc.add_paragraph(style="List Bullet")
        add_text(paragraph, f"{step['activity']} ({step['country']}) ", bold=True)
        add_text(paragraph, step["next_step"])
        if step["due"]:
            add_text(paragraph, f" — {labels['due']['en']} {step['due']}")

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
