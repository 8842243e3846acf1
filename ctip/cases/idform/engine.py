"""Cleaning answers against a definition, and scoring them into a result with reasons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .definition import ELEMENTS, FormDefinition, Question, text_in

EMPTY = (None, "", [], ())


def _is_empty(value: Any) -> bool:
    return value in EMPTY


def evaluate(cond: dict | None, answers: dict[str, Any]) -> bool:
    """Evaluate a relevance condition on cleaned answers (missing answers are empty)."""
    if cond is None:
        return True
    if "all" in cond:
        return all(evaluate(c, answers) for c in cond["all"])
    if "any" in cond:
        return any(evaluate(c, answers) for c in cond["any"])
    if "not" in cond:
        return not evaluate(cond["not"], answers)
    value = answers.get(cond["q"])
    if "empty" in cond:
        return _is_empty(value) == bool(cond["empty"])
    if _is_empty(value):
        return False
    if "eq" in cond:
        return str(value) == str(cond["eq"])
    if "in" in cond:
        return str(value) in {str(v) for v in cond["in"]}
    if "selected" in cond:
        return isinstance(value, list) and cond["selected"] in value
    if "lt" in cond:
        return isinstance(value, int) and value < cond["lt"]
    if "gte" in cond:
        return isinstance(value, int) and value >= cond["gte"]
    raise ValueError(f"unknown condition {cond!r}")


def is_child(definition: FormDefinition, answers: dict[str, Any]) -> bool:
    return evaluate(definition.scoring["child"], answers)


@dataclass
class CleanResult:
    answers: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, qid: str, message: str) -> None:
        self.errors.setdefault(qid, []).append(message)


def clean_answers(
    definition: FormDefinition,
    raw: dict[str, Any],
    *,
    lang: str = "en",
    draft: bool = False,
    include_identity: bool = False,
    today: dt.date | None = None,
    strict: bool = False,
) -> CleanResult:
    """Parse and check raw answers (strings from a web form or a CSV file, or JSON values).

    ``draft`` skips the "required" checks (a draft may be incomplete; types are still
    checked). Answers to questions that are not relevant are dropped. ``strict`` reports
    keys that are not questions of the form. Messages are in ``lang``.
    """
    today = today or dt.date.today()  # noqa: DTZ011 - a calendar date at the user's office
    result = CleanResult({})
    questions = definition.questions(include_identity=include_identity)
    known = {q.id for q in questions}
    if strict:
        for key in raw:
            if key not in known:
                result.add(key, definition.message("unknown_field", lang))
    for section in definition.sections:
        if section.identity and not include_identity:
            continue
        section_on = evaluate(section.relevant, result.answers)
        for question in section.questions:
            if not section_on or not evaluate(question.relevant, result.answers):
                continue
            value = _parse(definition, question, raw.get(question.id), lang, today, result)
            if _is_empty(value):
                if question.required and not draft and question.id not in result.errors:
                    result.add(question.id, definition.message("required", lang))
                continue
            result.answers[question.id] = value
        if draft or not section_on:
            continue
        for group in section.one_of:
            if all(_is_empty(result.answers.get(qid)) for qid in group):
                result.add(group[0], definition.message("one_of_required", lang))
    return result


def _parse(definition, question: Question, value, lang, today, result: CleanResult):
    if isinstance(value, str):
        value = value.strip()
    if _is_empty(value):
        return None
    qid = question.id
    if question.type == "text":
        value = str(value)
        if question.max_length and len(value) > question.max_length:
            result.add(qid, definition.message("too_long", lang, limit=question.max_length))
            return None
        return value
    if question.type == "integer":
        try:
            number = int(str(value).strip())
        except ValueError:
            result.add(qid, definition.message("not_a_number", lang))
            return None
        if isinstance(value, float) and value != number:
            result.add(qid, definition.message("not_a_number", lang))
            return None
        if question.min is not None and number < question.min:
            result.add(qid, definition.message("too_small", lang, limit=question.min))
            return None
        if question.max is not None and number > question.max:
            result.add(qid, definition.message("too_large", lang, limit=question.max))
            return None
        return number
    if question.type == "date":
        try:
            day = dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            result.add(qid, definition.message("invalid_date", lang))
            return None
        if day > today:
            result.add(qid, definition.message("date_in_future", lang))
            return None
        return day.isoformat()
    allowed = [c.value for c in definition.choices(question)]
    if question.type == "select_one":
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else " ".join(map(str, value))
        if str(value) not in allowed:
            result.add(qid, definition.message("invalid_choice", lang))
            return None
        return str(value)
    # select_multiple: a list, or the space-separated form ODK and CSV files use
    items = value.split() if isinstance(value, str) else [str(v) for v in value]
    if any(item not in allowed for item in items):
        result.add(qid, definition.message("invalid_choice", lang))
        return None
    return [v for v in allowed if v in items]  # in the form's order, without repeats


@dataclass(frozen=True)
class ElementFinding:
    element: str
    state: str  # established | indicated | unknown | absent | not_required
    indicators: tuple[str, ...]
    points: int


@dataclass(frozen=True)
class Score:
    result: str
    child: bool
    findings: tuple[ElementFinding, ...]
    stopped: bool = False

    def as_json(self) -> dict:
        return {
            "result": self.result,
            "child": self.child,
            "stopped": self.stopped,
            "findings": [
                {
                    "element": f.element,
                    "state": f.state,
                    "indicators": list(f.indicators),
                    "points": f.points,
                }
                for f in self.findings
            ],
        }

    @classmethod
    def from_json(cls, data: dict) -> Score:
        return cls(
            data["result"],
            data["child"],
            tuple(
                ElementFinding(f["element"], f["state"], tuple(f["indicators"]), f["points"])
                for f in data["findings"]
            ),
            data.get("stopped", False),
        )

    def reasons(self, definition: FormDefinition, lang: str) -> list[str]:
        """The reasons for the result, in the user's language."""
        if self.stopped:
            return [text_in(definition.scoring["stop"]["reason"], lang)]
        lines = []
        for finding in self.findings:
            names = "; ".join(definition.question(q).text(lang) for q in finding.indicators)
            state = text_in(definition.states[finding.state], lang)
            if "%(indicators)s" in state:
                state = state % {"indicators": names}
            lines.append(f"{text_in(definition.elements[finding.element], lang)}: {state}")
        return lines


def score_answers(definition: FormDefinition, answers: dict[str, Any]) -> Score:
    """Act, means and purpose from the indicators; a child needs no means.

    Each element is *established* when its present indicators reach ``established_at``
    points (a strong indicator counts 2, a medium one 1, by default), *indicated* when they
    reach ``indicated_at``; otherwise *unknown* if some indicator was answered "unknown",
    else *absent*. All required elements established gives ``victim``; all at least
    indicated gives ``presumed_victim``; nothing indicated anywhere and nothing unknown
    gives ``not_a_victim``; anything in between ``needs_review``.
    """
    rules = definition.scoring
    child = is_child(definition, answers)
    stop = rules.get("stop")
    if stop and evaluate(stop["when"], answers):
        return Score(stop["result"], child, (), stopped=True)
    present, unknown = rules.get("present", "yes"), rules.get("unknown", "unknown")
    required = rules["required_elements"]["child" if child else "adult"]
    findings = []
    for element in ELEMENTS:
        questions = [q for q in definition.questions() if q.element == element]
        hits = tuple(q.id for q in questions if answers.get(q.id) == present)
        points = sum(rules["points"][definition.question(q).strength] for q in hits)
        if element not in required:
            state = "not_required"
        elif points >= rules["established_at"]:
            state = "established"
        elif points >= rules["indicated_at"]:
            state = "indicated"
        elif any(answers.get(q.id) == unknown for q in questions):
            state = "unknown"
        else:
            state = "absent"
        findings.append(ElementFinding(element, state, hits, points))
    states = [f.state for f in findings if f.element in required]
    if all(s == "established" for s in states):
        result = "victim"
    elif all(s in ("established", "indicated") for s in states):
        result = "presumed_victim"
    elif all(f.points == 0 for f in findings) and "unknown" not in states:
        result = "not_a_victim"
    else:
        result = "needs_review"
    return Score(result, child, tuple(findings))
