"""The plan as a document: read a plan file (YAML, or the JSON that ``ctip plan export``
writes), check it, bring it to one canonical form, and compare two versions.

No Django here: the app stores the canonical form as each version's content and builds its
tables from it. A malformed file is refused with ``PlanFileError`` naming the line.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = [
    "FORMAT",
    "LANGS",
    "Change",
    "PlanFileError",
    "compare",
    "content_hash",
    "parse_file",
    "parse_text",
    "validate",
]

FORMAT = "ctip-plan/1"
LANGS = ("en", "km", "zh")
PARTIES = ("KH", "CN", "both")
NUMBER_RE = re.compile(r"^(?P<area>[IVX]+)\.(?P<n>[1-9][0-9]?)$")
AREA_RE = re.compile(r"^[IVX]+$")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,59}$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9\-]{0,59}$")
CELL_RE = re.compile(r"^(agencies|results|steps|text|timeframe(\.(?P<year>\d{4}))?)$")
YEARS = range(2000, 2101)
# Keys that ``export`` adds for readers; a loaded file may carry them and they are ignored.
EXPORT_ONLY_TOP = {"version", "exported_at", "node", "endorsements"}
EXPORT_ONLY_ACTIVITY = {"status", "area_title"}


class PlanFileError(ValueError):
    def __init__(self, line: int | None, message: str):
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}" if line else message)


# --- Reading YAML with line numbers ----------------------------------------------------


class LDict(dict):
    """A mapping that remembers the line of itself and of each of its keys."""

    line: int | None = None
    key_lines: dict


class LList(list):
    line: int | None = None


def _line(obj: Any, key: Any = None) -> int | None:
    if key is not None and isinstance(obj, LDict):
        return obj.key_lines.get(key, obj.line)
    return getattr(obj, "line", None)


def _convert(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(loader, key_node)
            if isinstance(key, (dict, list)):
                raise PlanFileError(key_node.start_mark.line + 1, "a key must be a plain value")
            if key in out:
                raise PlanFileError(key_node.start_mark.line + 1, f"duplicate key {key!r}")
            out[key] = _convert(loader, value_node)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LList(_convert(loader, item) for item in node.value)
        seq.line = node.start_mark.line + 1
        return seq
    return loader.construct_object(node, deep=True)


def parse_text(text: str, *, known_sources: set[str] | None = None) -> dict:
    """Parse and check a plan file's text; return the canonical document."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise PlanFileError(1, "the file is empty")
        raw = _convert(loader, node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PlanFileError(
            mark.line + 1 if mark else None, f"not valid YAML/JSON: {getattr(exc, 'problem', exc)}"
        ) from None
    finally:
        loader.dispose()
    return validate(raw, known_sources=known_sources)


def parse_file(path, *, known_sources: set[str] | None = None) -> dict:
    with open(path, encoding="utf-8") as fh:
        return parse_text(fh.read(), known_sources=known_sources)


# --- Checking and canonical form -------------------------------------------------------


def _need(obj: Any, kind: type, what: str, line: int | None) -> Any:
    if not isinstance(obj, kind):
        name = {dict: "a mapping", list: "a list", str: "text", int: "a whole number"}[kind]
        raise PlanFileError(line, f"{what} must be {name}")
    return obj


def _keys(obj: dict, allowed: set[str], required: set[str], what: str, ignored=frozenset()):
    for key in obj:
        if key not in allowed and key not in ignored:
            raise PlanFileError(_line(obj, key), f"unknown field {key!r} in {what}")
    for key in sorted(required - set(obj)):
        raise PlanFileError(_line(obj), f"{what} has no {key!r}")


def _text(obj: Any, what: str, line: int | None, *, required: bool = True) -> dict[str, str]:
    """A text in three languages: ``{en, km, zh}``; English is required."""
    if obj is None and not required:
        return dict.fromkeys(LANGS, "")
    if isinstance(obj, str):
        obj = {"en": obj}
    _need(obj, dict, what, line)
    for key in obj:
        if key not in LANGS:
            raise PlanFileError(_line(obj, key), f"unknown language {key!r} in {what}")
    out = {}
    for lang in LANGS:
        value = obj.get(lang) or ""
        _need(value, str, f"{what} ({lang})", _line(obj, lang) or line)
        out[lang] = " ".join(value.split())
    if required and not out["en"]:
        raise PlanFileError(_line(obj, "en") or _line(obj) or line, f"{what} has no English text")
    return out


def _agency_refs(obj: Any, known: dict, what: str, line: int | None) -> list[dict]:
    _need(obj, list, what, line)
    refs = []
    for item in obj:
        _need(item, str, what, _line(obj))
        key, uncertain = (item[:-1], True) if item.endswith("?") else (item, False)
        if key not in known:
            raise PlanFileError(_line(obj), f"unknown agency {key!r} in {what}")
        refs.append({"key": key, "uncertain": uncertain})
    return refs


def _indicator(obj: Any, where: str, codes: dict, known_sources: set[str] | None) -> dict:
    _need(obj, dict, f"an indicator of {where}", _line(obj))
    _keys(obj, {"code", "text", "computed", "unit", "proposed"}, {"code", "text"}, "indicator")
    code = _need(obj["code"], str, "indicator code", _line(obj, "code"))
    if not CODE_RE.match(code):
        raise PlanFileError(_line(obj, "code"), f"indicator code {code!r} is not a valid code")
    if code in codes:
        raise PlanFileError(
            _line(obj, "code"), f"duplicate indicator code {code!r} (first on line {codes[code]})"
        )
    codes[code] = _line(obj, "code")
    computed = obj.get("computed") or ""
    _need(computed, str, "computed", _line(obj, "computed"))
    if computed and known_sources is not None and computed not in known_sources:
        raise PlanFileError(_line(obj, "computed"), f"unknown computed indicator {computed!r}")
    unit = obj.get("unit") or ""
    _need(unit, str, "unit", _line(obj, "unit"))
    return {
        "code": code,
        "text": _text(obj["text"], f"indicator {code}", _line(obj, "text")),
        "computed": computed,
        "unit": unit,
        "proposed": bool(obj.get("proposed", True)),
    }


def _question(obj: Any, number: str, keys: dict, years: set[int]) -> dict:
    where = f"an open question of {number}"
    _need(obj, dict, where, _line(obj))
    _keys(
        obj,
        {"key", "cell", "draft", "text", "status", "resolution", "resolved_in"},
        {"key", "cell", "text"},
        where,
    )
    key = _need(obj["key"], str, "question key", _line(obj, "key"))
    if not CODE_RE.match(key):
        raise PlanFileError(_line(obj, "key"), f"question key {key!r} is not a valid key")
    if key in keys:
        raise PlanFileError(
            _line(obj, "key"), f"duplicate question key {key!r} (first on line {keys[key]})"
        )
    keys[key] = _line(obj, "key")
    cell = _need(obj["cell"], str, "cell", _line(obj, "cell"))
    match = CELL_RE.match(cell)
    if not match:
        raise PlanFileError(_line(obj, "cell"), f"unknown cell {cell!r}")
    draft = obj.get("draft") or ""
    _need(draft, str, "draft", _line(obj, "draft"))
    status = obj.get("status", "open")
    if status not in ("open", "resolved"):
        raise PlanFileError(_line(obj, "status"), "question status must be open or resolved")
    resolution = _text(obj.get("resolution"), f"resolution of {key}", _line(obj), required=False)
    if status == "resolved" and not resolution["en"]:
        raise PlanFileError(_line(obj, "status"), f"resolved question {key} has no resolution")
    resolved_in = obj.get("resolved_in")
    if resolved_in is not None:
        _need(resolved_in, int, "resolved_in", _line(obj, "resolved_in"))
    return {
        "key": key,
        "cell": cell,
        "draft": draft,
        "text": _text(obj["text"], f"question {key}", _line(obj, "text")),
        "status": status,
        "resolution": resolution,
        "resolved_in": resolved_in,
    }


def validate(raw: Any, *, known_sources: set[str] | None = None) -> dict:
    """Check a plan (as read from a file, or built in code) and return its canonical form."""
    _need(raw, dict, "the plan", _line(raw) or 1)
    top = {
        "format",
        "status",
        "translations",
        "title",
        "preamble",
        "years",
        "areas",
        "agencies",
        "activities",
        "financial_notes",
    }
    _keys(raw, top, {"format", "title", "areas", "activities"}, "the plan", EXPORT_ONLY_TOP)
    if raw["format"] != FORMAT:
        raise PlanFileError(_line(raw, "format"), f"format must be {FORMAT!r}")
    doc: dict[str, Any] = {
        "format": FORMAT,
        "status": raw.get("status", "draft"),
        "translations": {},
        "title": _text(raw["title"], "the title", _line(raw, "title")),
        "preamble": _text(
            raw.get("preamble"), "the preamble", _line(raw, "preamble"), required=False
        ),
    }
    if doc["status"] not in ("draft", "final"):
        raise PlanFileError(_line(raw, "status"), "status must be draft or final")
    translations = raw.get("translations") or {}
    _need(translations, dict, "translations", _line(raw, "translations"))
    for lang in ("km", "zh"):
        state = translations.get(lang, "draft")
        if state not in ("draft", "reviewed"):
            raise PlanFileError(_line(translations, lang), "a translation is draft or reviewed")
        doc["translations"][lang] = state

    years = raw.get("years") or []
    _need(years, list, "years", _line(raw, "years"))
    for year in years:
        if not isinstance(year, int) or year not in YEARS:
            raise PlanFileError(_line(raw, "years"), f"{year!r} is not a year")
    doc["years"] = sorted(set(years))

    areas = _need(raw["areas"], list, "areas", _line(raw, "areas"))
    doc["areas"] = []
    area_lines: dict[str, int | None] = {}
    for area in areas:
        _need(area, dict, "an area", _line(areas))
        _keys(area, {"code", "title"}, {"code", "title"}, "an area")
        code = area["code"]
        if not isinstance(code, str) or not AREA_RE.match(code):
            raise PlanFileError(_line(area, "code"), f"area code {code!r} is not a roman numeral")
        if code in area_lines:
            raise PlanFileError(_line(area, "code"), f"duplicate area {code}")
        area_lines[code] = _line(area, "code")
        doc["areas"].append(
            {"code": code, "title": _text(area["title"], f"area {code}", _line(area, "title"))}
        )

    agencies = raw.get("agencies") or []
    _need(agencies, list, "agencies", _line(raw, "agencies"))
    known_agencies: dict[str, dict] = {}
    doc["agencies"] = []
    for agency in agencies:
        _need(agency, dict, "an agency", _line(agencies))
        _keys(agency, {"key", "party", "name"}, {"key", "party", "name"}, "an agency")
        key = agency["key"]
        if not isinstance(key, str) or not KEY_RE.match(key):
            raise PlanFileError(_line(agency, "key"), f"agency key {key!r} is not a valid key")
        if key in known_agencies:
            raise PlanFileError(_line(agency, "key"), f"duplicate agency {key!r}")
        if agency["party"] not in PARTIES:
            raise PlanFileError(_line(agency, "party"), "party must be KH, CN or both")
        item = {
            "key": key,
            "party": agency["party"],
            "name": _text(agency["name"], f"agency {key}", _line(agency, "name")),
        }
        known_agencies[key] = item
        doc["agencies"].append(item)

    activities = _need(raw["activities"], list, "activities", _line(raw, "activities"))
    numbers: dict[str, int | None] = {}
    codes: dict[str, int | None] = {}
    question_keys: dict[str, int | None] = {}
    doc["activities"] = []
    for act in activities:
        _need(act, dict, "an activity", _line(activities))
        _keys(
            act,
            {
                "number",
                "text",
                "steps",
                "agencies",
                "agencies_draft",
                "timeframe",
                "results",
                "indicators",
                "questions",
            },
            {"number", "text"},
            "an activity",
            EXPORT_ONLY_ACTIVITY,
        )
        number = act["number"]
        line = _line(act, "number")
        match = NUMBER_RE.match(number) if isinstance(number, str) else None
        if not match:
            raise PlanFileError(line, f"activity number {number!r} is not like III.4")
        if match["area"] not in area_lines:
            raise PlanFileError(line, f"activity {number} names unknown area {match['area']}")
        if number in numbers:
            raise PlanFileError(
                line, f"duplicate activity number {number} (first on line {numbers[number]})"
            )
        numbers[number] = line
        steps = []
        for step in _need(act.get("steps") or [], list, "steps", _line(act, "steps")):
            _need(step, dict, f"a step of {number}", _line(act, "steps"))
            _keys(step, {"text", "agencies"}, {"text"}, f"a step of {number}")
            steps.append(
                {
                    "text": _text(step["text"], f"a step of {number}", _line(step)),
                    "agencies": _agency_refs(
                        step.get("agencies") or [],
                        known_agencies,
                        f"a step of {number}",
                        _line(step),
                    ),
                }
            )
        timeframe = []
        cells = act.get("timeframe") or {}
        _need(cells, dict, f"timeframe of {number}", _line(act, "timeframe"))
        for year_key, cell in cells.items():
            cline = _line(cells, year_key)
            year = int(year_key) if isinstance(year_key, str) and year_key.isdigit() else year_key
            if not isinstance(year, int) or year not in YEARS:
                raise PlanFileError(cline, f"{year_key!r} is not a year")
            cell = {} if cell is None else cell
            if isinstance(cell, (bool, str)):
                cell = {"draft": "", "note": cell if isinstance(cell, str) else ""}
            _need(cell, dict, f"timeframe {year} of {number}", cline)
            _keys(cell, {"draft", "note", "uncertain", "planned"}, set(), f"timeframe {year}")
            draft = cell.get("draft") or ""
            _need(draft, str, "draft", cline)
            timeframe.append(
                {
                    "year": year,
                    "draft": draft,
                    "note": _text(
                        cell.get("note"), f"note of {number} {year}", cline, required=False
                    ),
                    "uncertain": bool(cell.get("uncertain", False)),
                }
            )
        timeframe.sort(key=lambda c: c["year"])
        results = []
        for result in _need(act.get("results") or [], list, "results", _line(act, "results")):
            _need(result, dict, f"an expected result of {number}", _line(act, "results"))
            _keys(result, {"text", "indicators"}, {"text"}, f"an expected result of {number}")
            results.append(
                {
                    "text": _text(result["text"], f"an expected result of {number}", _line(result)),
                    "indicators": [
                        _indicator(i, number, codes, known_sources)
                        for i in _need(
                            result.get("indicators") or [], list, "indicators", _line(result)
                        )
                    ],
                }
            )
        indicators = [
            _indicator(i, number, codes, known_sources)
            for i in _need(act.get("indicators") or [], list, "indicators", _line(act))
        ]
        years_here = {c["year"] for c in timeframe}
        questions = [
            _question(q, number, question_keys, years_here)
            for q in _need(act.get("questions") or [], list, "questions", _line(act))
        ]
        agencies_draft = act.get("agencies_draft") or ""
        _need(agencies_draft, str, "agencies_draft", _line(act, "agencies_draft"))
        doc["activities"].append(
            {
                "number": number,
                "area": match["area"],
                "text": _text(act["text"], f"activity {number}", _line(act, "text") or line),
                "steps": steps,
                "agencies": _agency_refs(
                    act.get("agencies") or [], known_agencies, f"activity {number}", line
                ),
                "agencies_draft": agencies_draft,
                "timeframe": timeframe,
                "results": results,
                "indicators": indicators,
                "questions": questions,
            }
        )
    doc["activities"].sort(key=activity_sort_key)

    notes = raw.get("financial_notes") or []
    _need(notes, list, "financial_notes", _line(raw, "financial_notes"))
    doc["financial_notes"] = []
    note_keys: set[str] = set()
    for note in notes:
        _need(note, dict, "a financial note", _line(notes))
        _keys(note, {"key", "text"}, {"key", "text"}, "a financial note")
        if note["key"] in note_keys:
            raise PlanFileError(_line(note, "key"), f"duplicate financial note {note['key']}")
        note_keys.add(note["key"])
        doc["financial_notes"].append(
            {"key": str(note["key"]), "text": _text(note["text"], "a financial note", _line(note))}
        )
    return doc


ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}


def activity_sort_key(activity: dict) -> tuple[int, int]:
    area, n = activity["number"].split(".")
    return (ROMAN.get(area, 99), int(n))


def content_hash(doc: dict) -> str:
    """SHA-256 of the canonical JSON: what an endorsement is an endorsement of."""
    blob = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def copy_doc(doc: dict) -> dict:
    return copy.deepcopy(doc)


# --- Comparing two versions ------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed
    where: str  # "III.4", "III.4 timeframe 2018", "question III.4-agencies", "title" ...
    before: str = ""
    after: str = ""


def _show(value: Any) -> str:
    if isinstance(value, dict) and set(value) == set(LANGS):
        return value["en"]
    if isinstance(value, list) and all(isinstance(v, dict) and "key" in v for v in value):
        return ", ".join(v["key"] + ("?" if v.get("uncertain") else "") for v in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _diff_value(changes: list[Change], where: str, a: Any, b: Any) -> None:
    if a != b:
        changes.append(Change("changed", where, _show(a), _show(b)))


def _indexed(items: list[dict], key: str) -> dict:
    return {item[key]: item for item in items}


def compare(old: dict, new: dict) -> list[Change]:
    """What changed from ``old`` to ``new`` (both canonical), in plan order."""
    changes: list[Change] = []
    for field in ("title", "preamble", "status", "years", "translations"):
        _diff_value(changes, field, old.get(field), new.get(field))
    old_areas, new_areas = _indexed(old["areas"], "code"), _indexed(new["areas"], "code")
    for code in sorted(set(old_areas) | set(new_areas), key=lambda c: ROMAN.get(c, 99)):
        if code not in old_areas:
            changes.append(Change("added", f"area {code}", after=_show(new_areas[code]["title"])))
        elif code not in new_areas:
            changes.append(
                Change("removed", f"area {code}", before=_show(old_areas[code]["title"]))
            )
        else:
            _diff_value(changes, f"area {code}", old_areas[code]["title"], new_areas[code]["title"])
    old_ag, new_ag = _indexed(old["agencies"], "key"), _indexed(new["agencies"], "key")
    for key in sorted(set(old_ag) | set(new_ag)):
        if key not in old_ag:
            changes.append(Change("added", f"agency {key}", after=_show(new_ag[key]["name"])))
        elif key not in new_ag:
            changes.append(Change("removed", f"agency {key}", before=_show(old_ag[key]["name"])))
        else:
            _diff_value(changes, f"agency {key}", old_ag[key], new_ag[key])
    old_act, new_act = _indexed(old["activities"], "number"), _indexed(new["activities"], "number")
    numbers = sorted(set(old_act) | set(new_act), key=lambda n: activity_sort_key({"number": n}))
    for number in numbers:
        if number not in old_act:
            changes.append(Change("added", number, after=_show(new_act[number]["text"])))
            continue
        if number not in new_act:
            changes.append(Change("removed", number, before=_show(old_act[number]["text"])))
            continue
        a, b = old_act[number], new_act[number]
        _diff_value(changes, f"{number} text", a["text"], b["text"])
        _diff_value(
            changes,
            f"{number} steps",
            [s["text"] for s in a["steps"]],
            [s["text"] for s in b["steps"]],
        )
        _diff_value(changes, f"{number} responsible agencies", a["agencies"], b["agencies"])
        cells_a, cells_b = _indexed(a["timeframe"], "year"), _indexed(b["timeframe"], "year")
        for year in sorted(set(cells_a) | set(cells_b)):
            where = f"{number} timeframe {year}"
            if year not in cells_a:
                changes.append(Change("added", where, after=_show(cells_b[year]["note"]) or "✓"))
            elif year not in cells_b:
                changes.append(Change("removed", where, before=_show(cells_a[year]["note"]) or "✓"))
            else:
                _diff_value(changes, where, cells_a[year]["note"], cells_b[year]["note"])
                _diff_value(
                    changes,
                    f"{where} uncertain",
                    cells_a[year]["uncertain"],
                    cells_b[year]["uncertain"],
                )
        _diff_value(
            changes,
            f"{number} expected results",
            [r["text"]["en"] for r in a["results"]],
            [r["text"]["en"] for r in b["results"]],
        )
        ind_a = {i["code"]: i for i in all_indicators(a)}
        ind_b = {i["code"]: i for i in all_indicators(b)}
        for code in sorted(set(ind_a) | set(ind_b)):
            if code not in ind_a:
                changes.append(
                    Change("added", f"indicator {code}", after=_show(ind_b[code]["text"]))
                )
            elif code not in ind_b:
                changes.append(
                    Change("removed", f"indicator {code}", before=_show(ind_a[code]["text"]))
                )
            else:
                _diff_value(changes, f"indicator {code}", ind_a[code], ind_b[code])
        q_a, q_b = _indexed(a["questions"], "key"), _indexed(b["questions"], "key")
        for key in sorted(set(q_a) | set(q_b)):
            where = f"question {key}"
            if key not in q_a:
                changes.append(Change("added", where, after=_show(q_b[key]["text"])))
            elif key not in q_b:
                changes.append(Change("removed", where, before=_show(q_a[key]["text"])))
            elif q_a[key]["status"] != q_b[key]["status"]:
                changes.append(
                    Change(
                        "changed",
                        where,
                        q_a[key]["status"],
                        f"{q_b[key]['status']}: {q_b[key]['resolution']['en']}".rstrip(": "),
                    )
                )
            else:
                _diff_value(changes, where, q_a[key], q_b[key])
    old_fn, new_fn = (
        _indexed(old["financial_notes"], "key"),
        _indexed(new["financial_notes"], "key"),
    )
    for key in sorted(set(old_fn) | set(new_fn)):
        if key not in old_fn:
            changes.append(
                Change("added", f"financial note {key}", after=_show(new_fn[key]["text"]))
            )
        elif key not in new_fn:
            changes.append(
                Change("removed", f"financial note {key}", before=_show(old_fn[key]["text"]))
            )
        else:
            _diff_value(changes, f"financial note {key}", old_fn[key]["text"], new_fn[key]["text"])
    return changes


def all_indicators(activity: dict) -> list[dict]:
    """The activity's indicators: those of its expected results, then its own."""
    out = []
    for position, result in enumerate(activity["results"]):
        out.extend({**i, "result": position} for i in result["indicators"])
    out.extend({**i, "result": None} for i in activity["indicators"])
    return out


# --- Amendments: each returns a new document ---------------------------------------------


class AmendmentError(ValueError):
    pass


def _activity(doc: dict, number: str) -> dict:
    for activity in doc["activities"]:
        if activity["number"] == number:
            return activity
    raise AmendmentError(f"no activity {number}")


def amend_resolve_question(doc: dict, *, key: str, resolution: dict, version: int) -> dict:
    """Mark an open question resolved; a question on a timeframe cell makes it certain."""
    new = copy_doc(doc)
    for activity in new["activities"]:
        for question in activity["questions"]:
            if question["key"] != key:
                continue
            if question["status"] == "resolved":
                raise AmendmentError(f"question {key} is already resolved")
            question["status"] = "resolved"
            question["resolution"] = {
                lang: " ".join((resolution.get(lang) or "").split()) for lang in LANGS
            }
            question["resolved_in"] = version
            year = CELL_RE.match(question["cell"])["year"]
            for cell in activity["timeframe"]:
                if year and cell["year"] == int(year):
                    cell["uncertain"] = False
            return new
    raise AmendmentError(f"no question {key}")


def amend_set_timeframe(
    doc: dict, *, number: str, year: int, note: dict | None = None, remove: bool = False
) -> dict:
    """Mark (or unmark) a year for an activity, with a note."""
    new = copy_doc(doc)
    activity = _activity(new, number)
    cells = [c for c in activity["timeframe"] if c["year"] != year]
    if remove:
        if len(cells) == len(activity["timeframe"]):
            raise AmendmentError(f"{number} has no timeframe in {year}")
    else:
        note = {lang: " ".join(((note or {}).get(lang) or "").split()) for lang in LANGS}
        cells.append({"year": year, "draft": "", "note": note, "uncertain": False})
    activity["timeframe"] = sorted(cells, key=lambda c: c["year"])
    if year not in new["years"]:
        new["years"] = sorted({*new["years"], *(c["year"] for c in cells)})
    return new


def amend_add_activity(
    doc: dict, *, area: str, text: dict, result: dict | None = None, agency_keys=()
) -> tuple[dict, str]:
    """Add an activity at the end of an area; returns the new document and its number."""
    new = copy_doc(doc)
    if area not in {a["code"] for a in new["areas"]}:
        raise AmendmentError(f"unknown area {area}")
    known = {a["key"] for a in new["agencies"]}
    for key in agency_keys:
        if key not in known:
            raise AmendmentError(f"unknown agency {key}")
    taken = [int(a["number"].split(".")[1]) for a in new["activities"] if a["area"] == area]
    number = f"{area}.{max(taken, default=0) + 1}"
    clean = {lang: " ".join((text.get(lang) or "").split()) for lang in LANGS}
    if not clean["en"]:
        raise AmendmentError("an activity needs its English text")
    results = []
    if result and (result.get("en") or "").strip():
        results.append(
            {
                "text": {lang: " ".join((result.get(lang) or "").split()) for lang in LANGS},
                "indicators": [],
            }
        )
    new["activities"].append(
        {
            "number": number,
            "area": area,
            "text": clean,
            "steps": [],
            "agencies": [{"key": k, "uncertain": False} for k in agency_keys],
            "agencies_draft": "",
            "timeframe": [],
            "results": results,
            "indicators": [],
            "questions": [],
        }
    )
    new["activities"].sort(key=activity_sort_key)
    return new, number


def to_file_form(doc: dict) -> dict:
    """The canonical document written back in the file's shape (what ``validate`` reads)."""

    def refs(items):
        return [r["key"] + ("?" if r["uncertain"] else "") for r in items]

    def indicator(i):
        out = {"code": i["code"], "text": i["text"]}
        if i["computed"]:
            out["computed"] = i["computed"]
        if i["unit"]:
            out["unit"] = i["unit"]
        if not i["proposed"]:
            out["proposed"] = False
        return out

    def question(q):
        out = {"key": q["key"], "cell": q["cell"], "draft": q["draft"], "text": q["text"]}
        if q["status"] != "open":
            out["status"] = q["status"]
            out["resolution"] = q["resolution"]
        if q["resolved_in"] is not None:
            out["resolved_in"] = q["resolved_in"]
        return out

    activities = []
    for a in doc["activities"]:
        activities.append(
            {
                "number": a["number"],
                "text": a["text"],
                "steps": [{"text": s["text"], "agencies": refs(s["agencies"])} for s in a["steps"]],
                "agencies": refs(a["agencies"]),
                "agencies_draft": a["agencies_draft"],
                "timeframe": {
                    str(c["year"]): {
                        "draft": c["draft"],
                        "note": c["note"],
                        "uncertain": c["uncertain"],
                    }
                    for c in a["timeframe"]
                },
                "results": [
                    {"text": r["text"], "indicators": [indicator(i) for i in r["indicators"]]}
                    for r in a["results"]
                ],
                "indicators": [indicator(i) for i in a["indicators"]],
                "questions": [question(q) for q in a["questions"]],
            }
        )
    return {
        "format": doc["format"],
        "status": doc["status"],
        "translations": doc["translations"],
        "title": doc["title"],
        "preamble": doc["preamble"],
        "years": doc["years"],
        "areas": doc["areas"],
        "agencies": doc["agencies"],
        "activities": activities,
        "financial_notes": doc["financial_notes"],
    }
