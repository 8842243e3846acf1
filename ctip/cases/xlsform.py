"""The identification form as an XLSForm, for offline collection in ODK Collect and
KoboToolbox. One definition, so the offline form asks exactly what the web form asks.

Relevance conditions become XPath; every label and message is given in English, Khmer and
Chinese (``label::Khmer (km)``); the form version and hash travel in every submission as
calculated fields, so an import can refuse submissions of another version.
"""

from __future__ import annotations

import io

from ctip.cases.idform import FormDefinition
from ctip.cases.idform.definition import LANGUAGES, Question

LANGUAGE_COLUMNS = {"en": "English (en)", "km": "Khmer (km)", "zh-hans": "Chinese (zh)"}
VERSION_FIELD = "ctip_form_version"
HASH_FIELD = "ctip_form_hash"


def xpath(cond: dict | None) -> str:
    if cond is None:
        return ""
    if "all" in cond:
        return " and ".join(f"({xpath(c)})" for c in cond["all"])
    if "any" in cond:
        return " or ".join(f"({xpath(c)})" for c in cond["any"])
    if "not" in cond:
        return f"not({xpath(cond['not'])})"
    ref = "${" + cond["q"] + "}"
    if "empty" in cond:
        return f"{ref} = ''" if cond["empty"] else f"{ref} != ''"
    if "eq" in cond:
        return f"{ref} = {_literal(cond['eq'])}"
    if "in" in cond:
        return " or ".join(f"{ref} = {_literal(v)}" for v in cond["in"])
    if "selected" in cond:
        return f"selected({ref}, {_literal(cond['selected'])})"
    if "lt" in cond:
        return f"{ref} != '' and {ref} < {int(cond['lt'])}"
    if "gte" in cond:
        return f"{ref} != '' and {ref} >= {int(cond['gte'])}"
    raise ValueError(f"unknown condition {cond!r}")


def _literal(value) -> str:
    if isinstance(value, bool):
        raise ValueError("booleans have no XLSForm literal")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if "'" in text:
        raise ValueError(f"a value with a quote cannot be written as XPath: {text!r}")
    return f"'{text}'"


def _labels(prefix: str, texts: dict[str, str]) -> dict[str, str]:
    return {f"{prefix}::{LANGUAGE_COLUMNS[lang]}": texts[lang] for lang in LANGUAGES}


def _constraint(definition: FormDefinition, q: Question) -> tuple[str, dict[str, str]]:
    if q.type == "integer" and (q.min is not None or q.max is not None):
        parts = []
        if q.min is not None:
            parts.append(f". >= {q.min}")
        if q.max is not None:
            parts.append(f". <= {q.max}")
        key, limit = ("too_large", q.max) if q.max is not None else ("too_small", q.min)
        return " and ".join(parts), {
            lang: definition.message(key, lang, limit=limit) for lang in LANGUAGES
        }
    if q.type == "date":
        return ". <= today()", {
            lang: definition.message("date_in_future", lang) for lang in LANGUAGES
        }
    if q.type == "text" and q.max_length:
        return f"string-length(.) <= {q.max_length}", {
            lang: definition.message("too_long", lang, limit=q.max_length) for lang in LANGUAGES
        }
    return "", {}


def survey_rows(definition: FormDefinition) -> tuple[list[str], list[dict]]:
    rows: list[dict] = []
    for section in definition.sections:
        rows.append(
            {
                "type": "begin_group",
                "name": section.id,
                "relevant": xpath(section.relevant),
                **_labels("label", section.label),
            }
        )
        one_of = {group[0]: group for group in section.one_of}
        for q in section.questions:
            qtype = {
                "text": "text",
                "integer": "integer",
                "date": "date",
                "select_one": f"select_one {q.choices}",
                "select_multiple": f"select_multiple {q.choices}",
            }[q.type]
            required = "yes" if q.required else ""
            if q.id in one_of:  # the first of a group is required while the others are empty
                others = [o for o in one_of[q.id] if o != q.id]
                required = " and ".join(f"${{{o}}} = ''" for o in others)
            constraint, constraint_messages = _constraint(definition, q)
            row = {
                "type": qtype,
                "name": q.id,
                "required": required,
                "relevant": xpath(q.relevant),
                "constraint": constraint,
                **_labels("label", q.label),
                **{
                    f"constraint_message::{LANGUAGE_COLUMNS[lang]}": text
                    for lang, text in constraint_messages.items()
                },
            }
            if required:
                row.update(
                    {
                        f"required_message::{LANGUAGE_COLUMNS[lang]}": definition.message(
                            "one_of_required" if q.id in one_of else "required", lang
                        )
                        for lang in LANGUAGES
                    }
                )
            if q.long:
                row["appearance"] = "multiline"
            rows.append(row)
        rows.append({"type": "end_group", "name": ""})
    rows.append(
        {"type": "calculate", "name": VERSION_FIELD, "calculation": f"'{definition.version}'"}
    )
    rows.append(
        {"type": "calculate", "name": HASH_FIELD, "calculation": f"'{definition.short_hash}'"}
    )
    columns = ["type", "name"]
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns, rows


def choice_rows(definition: FormDefinition) -> tuple[list[str], list[dict]]:
    columns = ["list_name", "name", *(f"label::{LANGUAGE_COLUMNS[lang]}" for lang in LANGUAGES)]
    rows = [
        {"list_name": name, "name": c.value, **_labels("label", c.label)}
        for name, choices in definition.choice_lists.items()
        for c in choices
    ]
    return columns, rows


def build_workbook(definition: FormDefinition) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheets = {
        "survey": survey_rows(definition),
        "choices": choice_rows(definition),
        "settings": (
            ["form_title", "form_id", "version", "default_language"],
            [
                {
                    "form_title": definition.title["en"],
                    "form_id": definition.form_id,
                    "version": definition.version,
                    "default_language": LANGUAGE_COLUMNS["en"],
                }
            ],
        ),
    }
    first = True
    for title, (columns, rows) in sheets.items():
        sheet = book.active if first else book.create_sheet()
        first = False
        sheet.title = title
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c, "") for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_xform(workbook: bytes) -> str:
    """Convert with pyxform, the converter ODK and KoboToolbox use (raises on any error)."""
    import tempfile
    from pathlib import Path

    from pyxform.xls2xform import convert

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ctip_identification.xlsx"
        path.write_bytes(workbook)
        result = convert(xlsform=str(path), validate=False, pretty_print=False)
    return result.xform
