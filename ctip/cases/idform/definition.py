"""Loading and checking a form definition. A broken definition fails loudly, naming the spot."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "km", "zh-hans")
TYPES = {"text", "integer", "date", "select_one", "select_multiple"}
ELEMENTS = ("act", "means", "purpose")
STRENGTHS = {"strong", "medium"}
OPERATORS = {"eq", "in", "selected", "empty", "lt", "gte"}


class FormDefinitionError(ValueError):
    """The definition file breaks a rule; the message names the file and the place."""


def language_of(code: str | None) -> str:
    """Map a Django language code (``km``, ``zh-hans``, ``zh_Hans``, ``en-us``) to ours."""
    code = (code or "en").lower().replace("_", "-")
    if code.startswith("km"):
        return "km"
    if code.startswith("zh"):
        return "zh-hans"
    return "en"


def text_in(labels: dict[str, str], lang: str) -> str:
    return labels.get(language_of(lang)) or labels.get("en", "")


@dataclass(frozen=True)
class Choice:
    value: str
    label: dict[str, str]


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    label: dict[str, str]
    section: str
    required: bool = False
    relevant: dict | None = None
    choices: str | None = None
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    long: bool = False
    person_field: str | None = None
    element: str | None = None
    strength: str | None = None

    def text(self, lang: str) -> str:
        return text_in(self.label, lang)

    @property
    def is_indicator(self) -> bool:
        return self.element is not None


@dataclass(frozen=True)
class Section:
    id: str
    label: dict[str, str]
    questions: tuple[Question, ...]
    relevant: dict | None = None
    identity: bool = False
    one_of: tuple[tuple[str, ...], ...] = ()

    def text(self, lang: str) -> str:
        return text_in(self.label, lang)


@dataclass(frozen=True)
class FormDefinition:
    form_id: str
    version: str
    title: dict[str, str]
    sections: tuple[Section, ...]
    choice_lists: dict[str, tuple[Choice, ...]]
    messages: dict[str, dict[str, str]]
    results: dict[str, dict[str, str]]
    elements: dict[str, dict[str, str]]
    states: dict[str, dict[str, str]]
    scoring: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, compare=False)
    sha256: str = ""

    # --- loading ---------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path) -> FormDefinition:
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FormDefinitionError(f"{path.name}: cannot read the definition: {exc}") from None
        return cls.from_dict(raw, source=path.name)

    @classmethod
    def from_json(cls, text: str, source: str = "definition") -> FormDefinition:
        return cls.from_dict(json.loads(text), source=source)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "definition") -> FormDefinition:
        return _Loader(raw, source).load()

    # --- facts -----------------------------------------------------------------------

    def canonical_json(self) -> str:
        return canonical_json(self.raw)

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]

    def questions(self, *, include_identity: bool = True) -> list[Question]:
        return [q for s in self.sections if include_identity or not s.identity for q in s.questions]

    def question(self, qid: str) -> Question:
        return self._index[qid]

    @property
    def _index(self) -> dict[str, Question]:
        cached = self.__dict__.get("_q_index")
        if cached is None:
            cached = {q.id: q for q in self.questions()}
            object.__setattr__(self, "_q_index", cached)
        return cached

    def section_of(self, qid: str) -> Section:
        return next(s for s in self.sections if any(q.id == qid for q in s.questions))

    def choices(self, question: Question) -> tuple[Choice, ...]:
        return self.choice_lists[question.choices] if question.choices else ()

    def choice_text(self, question: Question, value: str, lang: str) -> str:
        for choice in self.choices(question):
            if choice.value == value:
                return text_in(choice.label, lang)
        return value

    def message(self, key: str, lang: str, **params) -> str:
        text = text_in(self.messages[key], lang)
        return text % params if params else text

    def title_text(self, lang: str) -> str:
        return text_in(self.title, lang)

    def result_text(self, result: str, lang: str) -> str:
        return text_in(self.results[result], lang)

    @property
    def identity_questions(self) -> list[Question]:
        return [q for s in self.sections if s.identity for q in s.questions]


def canonical_json(raw: Any) -> str:
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class _Loader:
    def __init__(self, raw: dict[str, Any], source: str):
        self.raw = raw
        self.source = source
        self.seen: dict[str, Question] = {}

    def fail(self, where: str, problem: str) -> FormDefinitionError:
        return FormDefinitionError(f"{self.source}: {where}: {problem}")

    def labels(self, value: Any, where: str) -> dict[str, str]:
        if not isinstance(value, dict):
            raise self.fail(where, "needs a label in each language")
        missing = [lang for lang in LANGUAGES if not str(value.get(lang, "")).strip()]
        if missing:
            raise self.fail(where, f"label missing in {', '.join(missing)}")
        return {lang: str(value[lang]) for lang in LANGUAGES}

    def load(self) -> FormDefinition:
        raw = self.raw
        if not isinstance(raw, dict):
            raise self.fail("top level", "must be an object")
        for key in ("form_id", "version", "title", "sections", "choice_lists", "scoring"):
            if key not in raw:
                raise self.fail("top level", f"'{key}' is missing")
        version = str(raw["version"])
        if not version or any(c not in "0123456789." for c in version):
            raise self.fail("version", "use digits and dots, e.g. 2026.1")
        choice_lists = {
            name: tuple(
                Choice(str(c["value"]), self.labels(c.get("label"), f"choice {name}/{c['value']}"))
                for c in items
            )
            for name, items in raw["choice_lists"].items()
        }
        for name, items in choice_lists.items():
            values = [c.value for c in items]
            if len(values) != len(set(values)):
                raise self.fail(f"choice list {name}", "has a value twice")
            if any(" " in v or not v for v in values):
                raise self.fail(f"choice list {name}", "values must be non-empty, without spaces")
        self.choice_lists = choice_lists
        sections = tuple(self.section(s) for s in raw["sections"])
        texts = {}
        for key, needed in (
            ("messages", MESSAGE_KEYS),
            ("results", RESULTS),
            ("elements", ELEMENTS),
            ("states", STATES),
        ):
            block = raw.get(key) or {}
            absent = [k for k in needed if k not in block]
            if absent:
                raise self.fail(key, f"missing {', '.join(absent)}")
            texts[key] = {k: self.labels(v, f"{key}/{k}") for k, v in block.items()}
        scoring = self.scoring(raw["scoring"])
        return FormDefinition(
            form_id=str(raw["form_id"]),
            version=version,
            title=self.labels(raw["title"], "title"),
            sections=sections,
            choice_lists=choice_lists,
            messages=texts["messages"],
            results=texts["results"],
            elements=texts["elements"],
            states=texts["states"],
            scoring=scoring,
            raw=raw,
            sha256=hashlib.sha256(canonical_json(raw).encode()).hexdigest(),
        )

    def section(self, raw: dict) -> Section:
        sid = raw.get("id", "")
        if not sid.isidentifier():
            raise self.fail(f"section {sid!r}", "needs an id made of letters, digits and _")
        relevant = raw.get("relevant")
        if relevant is not None:
            self.condition(relevant, f"section {sid}")
        questions = tuple(self.question(q, sid) for q in raw.get("questions", []))
        one_of = tuple(tuple(group) for group in raw.get("one_of", []))
        for group in one_of:
            for qid in group:
                if qid not in {q.id for q in questions}:
                    raise self.fail(f"section {sid}", f"one_of names unknown question {qid!r}")
        return Section(
            sid,
            self.labels(raw.get("label"), f"section {sid}"),
            questions,
            relevant,
            bool(raw.get("identity")),
            one_of,
        )

    def question(self, raw: dict, section: str) -> Question:
        qid = raw.get("id", "")
        where = f"question {qid!r}"
        if not qid.isidentifier() or qid.startswith("_"):
            raise self.fail(where, "needs an id made of letters, digits and _")
        if qid in self.seen:
            raise self.fail(where, "the id is used twice")
        qtype = raw.get("type")
        if qtype not in TYPES:
            raise self.fail(where, f"unknown type {qtype!r} (one of {', '.join(sorted(TYPES))})")
        choices = raw.get("choices")
        if qtype.startswith("select") and choices not in self.choice_lists:
            raise self.fail(where, f"choice list {choices!r} does not exist")
        relevant = raw.get("relevant")
        if relevant is not None:
            self.condition(relevant, where)
        indicator = raw.get("indicator") or {}
        if indicator:
            if indicator.get("element") not in ELEMENTS:
                raise self.fail(where, "indicator element must be act, means or purpose")
            if indicator.get("strength") not in STRENGTHS:
                raise self.fail(where, "indicator strength must be strong or medium")
            if qtype != "select_one":
                raise self.fail(where, "an indicator is a select_one question")
        question = Question(
            id=qid,
            type=qtype,
            label=self.labels(raw.get("label"), where),
            section=section,
            required=bool(raw.get("required", False)),
            relevant=relevant,
            choices=choices,
            min=raw.get("min"),
            max=raw.get("max"),
            max_length=raw.get("max_length"),
            long=bool(raw.get("long", False)),
            person_field=raw.get("person_field"),
            element=indicator.get("element"),
            strength=indicator.get("strength"),
        )
        self.seen[qid] = question
        return question

    def condition(self, cond: Any, where: str) -> None:
        """Conditions may only look at questions asked before (so one pass evaluates them)."""
        if not isinstance(cond, dict) or not cond:
            raise self.fail(where, "a condition must be an object")
        if "all" in cond or "any" in cond:
            parts = cond.get("all", cond.get("any"))
            if not isinstance(parts, list) or not parts:
                raise self.fail(where, "all/any needs a list of conditions")
            for part in parts:
                self.condition(part, where)
            return
        if "not" in cond:
            self.condition(cond["not"], where)
            return
        qid = cond.get("q")
        if qid not in self.seen:
            raise self.fail(where, f"condition refers to {qid!r}, which is not asked before it")
        ops = set(cond) - {"q"}
        if len(ops) != 1 or not ops <= OPERATORS:
            raise self.fail(where, f"condition needs one of {', '.join(sorted(OPERATORS))}")

    def scoring(self, raw: dict) -> dict:
        for key in ("points", "established_at", "indicated_at", "required_elements", "child"):
            if key not in raw:
                raise self.fail("scoring", f"'{key}' is missing")
        for group in ("adult", "child"):
            elements = raw["required_elements"].get(group)
            if not elements or set(elements) - set(ELEMENTS):
                raise self.fail("scoring", f"required_elements.{group} must list act/means/purpose")
        self.condition(raw["child"], "scoring.child")
        stop = raw.get("stop")
        if stop:
            self.condition(stop["when"], "scoring.stop")
            if stop.get("result") not in RESULTS:
                raise self.fail("scoring.stop", "result must be one of the results")
            self.labels(stop.get("reason"), "scoring.stop.reason")
        return raw


MESSAGE_KEYS = (
    "required",
    "invalid_choice",
    "not_a_number",
    "too_small",
    "too_large",
    "invalid_date",
    "date_in_future",
    "too_long",
    "one_of_required",
    "unknown_field",
)
RESULTS = ("victim", "presumed_victim", "not_a_victim", "needs_review")
STATES = ("established", "indicated", "unknown", "absent", "not_required")
