"""The plan file against the draft it was written from, loading, export and refusals."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ctip.audit.models import AuditEvent
from ctip.plan import document, services
from ctip.plan.models import Activity, ExpectedResult, FinancialNote, OpenQuestion, PlanVersion

pytestmark = pytest.mark.django_db

DATA = Path(services.__file__).resolve().parent / "data"
DRAFT = DATA / "joint-plan-of-action-draft.txt"
AREA_HEADING = re.compile(r"^(?P<area>[IVX]+)\s*-\s*(?P<title>.+)$")


def read_draft() -> tuple[dict[str, dict], list[str]]:
    """The draft's tables, read cell by cell: activity number -> its cells.

    Rows are tab-separated: area, activity, steps, agencies, 2017, 2018, 2019, expected
    results. A row whose activity cell has no number continues the activity before it
    (the draft's tables break across pages)."""
    activities: dict[str, dict] = {}
    area = None
    current = None
    notes = []
    for line in DRAFT.read_text(encoding="utf-8").splitlines():
        heading = AREA_HEADING.match(line.strip())
        if heading and "\t" not in line:
            area = heading["area"]
            continue
        if line.startswith("- "):
            notes.append(line[2:].strip())
            continue
        cells = line.split("\t")
        if len(cells) != 8 or cells[1].startswith(("Activities", "<u>")) or cells[0] == "--":
            continue
        if not any(cells[1:]) or cells[4] == "2017":
            continue
        number = re.match(r"^(\d+)\.\s+(.*)$", cells[1])
        if number:
            current = {
                "number": f"{area}.{number[1]}",
                "text": number[2].strip(),
                "steps": cells[2],
                "agencies": cells[3].strip(),
                "years": {2017: cells[4].strip(), 2018: cells[5].strip(), 2019: cells[6].strip()},
                "result": cells[7].strip(),
            }
            activities[current["number"]] = current
        else:  # continuation of the activity before
            current["text"] += " " + cells[1].strip()
            if cells[3].strip():
                current["agencies"] += " " + cells[3].strip()
    return activities, notes


def unresolved(text: str) -> bool:
    return "?" in text or text.lower() == "to be discussed"


@pytest.fixture
def loaded():
    return services.plan_load()


def test_the_draft_has_the_twenty_three_activities_of_six_areas():
    activities, notes = read_draft()
    assert len(activities) == 23 and len(notes) == 3
    assert {n.split(".")[0] for n in activities} == {"I", "II", "III", "IV", "V", "VI"}


def test_loaded_plan_carries_every_cell_of_the_draft(loaded):
    draft, notes = read_draft()
    doc = loaded.version.content
    by_number = {a["number"]: a for a in doc["activities"]}
    assert set(by_number) == set(draft)
    assert Activity.objects.count() == len(draft)
    for number, cells in draft.items():
        activity = by_number[number]
        assert activity["text"]["en"] == cells["text"], number
        assert activity["text"]["km"] and activity["text"]["zh"], number
        steps = re.sub(r"<ul[^>]*>", "", cells["steps"]).split()
        assert " ".join(s["text"]["en"] for s in activity["steps"]).split() == steps, number
        assert activity["agencies_draft"] == cells["agencies"], number
        if cells["agencies"]:
            assert activity["agencies"], number
        results = [r["text"]["en"] for r in activity["results"]]
        assert results == ([cells["result"]] if cells["result"] else []), number
        marked = {year: text for year, text in cells["years"].items() if text}
        assert {c["year"]: c["draft"] for c in activity["timeframe"]} == marked, number
        questions = {q["cell"]: q for q in activity["questions"]}
        # Every "?", "??" and "To be discussed" cell is an open question with its text ...
        for year, text in marked.items():
            if unresolved(text):
                assert questions[f"timeframe.{year}"]["draft"] == text, (number, year)
        if unresolved(cells["agencies"]):
            assert questions["agencies"]["draft"] == cells["agencies"], number
        # ... and so is every empty agencies, timeframe and expected-results cell.
        if not cells["agencies"]:
            assert "agencies" in questions, number
        if not marked:
            assert "timeframe" in questions, number
        if not cells["result"]:
            assert "results" in questions, number
        assert all(q["status"] == "open" for q in activity["questions"])
    assert [n["text"]["en"] for n in doc["financial_notes"]] == notes
    assert FinancialNote.objects.count() == 3
    # The database holds what the version holds.
    assert ExpectedResult.objects.count() == sum(1 for c in draft.values() if c["result"])
    assert OpenQuestion.objects.filter(status="open").count() == sum(
        len(a["questions"]) for a in doc["activities"]
    )
    assert OpenQuestion.objects.get(key="III.4-agencies").draft.endswith("or/Embassies??")
    assert doc["translations"] == {"km": "draft", "zh": "draft"}


def test_load_is_one_version_and_idempotent_with_its_audit_row():
    out = StringIO()
    call_command("plan", "load", stdout=out)
    assert "loaded as version 1" in out.getvalue() and "23 activities" in out.getvalue()
    call_command("plan", "load", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert PlanVersion.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="plan.planversion", action="create").count() == 1


def test_export_writes_json_that_loads_back_as_the_same_version(tmp_path, loaded):
    target = tmp_path / "plan.json"
    call_command("plan", "export", "--format", "json", "--output", str(target), stdout=StringIO())
    data = json.loads(target.read_text(encoding="utf-8"))
    iii4 = next(a for a in data["activities"] if a["number"] == "III.4")
    assert iii4["status"]["KH"]["status"] == "not_started"
    assert {q["key"] for q in iii4["questions"]} == {"III.4-agencies", "III.4-timeframe-2017"}
    result_text = iii4["results"][0]["text"]["en"]
    assert result_text == "Focal persons appointed and known by key stakeholders"
    assert data["version"]["number"] == 1
    result = services.plan_load(text=target.read_text(encoding="utf-8"))
    assert result.created is False and result.version == loaded.version


def test_a_changed_file_needs_a_reason_and_becomes_version_2(loaded):
    text = (DATA / "joint-plan-v1.yaml").read_text(encoding="utf-8")
    changed = text.replace('"Develop victim database"', '"Develop and run a victim database"')
    with pytest.raises(services.PlanError, match="give a reason"):
        services.plan_load(text=changed)
    result = services.plan_load(text=changed, reason="wording agreed at the review")
    assert result.version.number == 2
    assert result.version.changes[0]["where"] == "III.6 text"
    assert Activity.objects.get(number="III.6").text_en == "Develop and run a victim database"


BASE = """\
format: ctip-plan/1
title: {en: "A plan"}
areas:
  - {code: I, title: {en: "Policy"}}
activities:
  - number: I.1
    text: {en: "First"}
"""


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        ('  - number: VII.1\n    text: {en: "x"}\n', 8, "unknown area VII"),
        ('  - number: I.1\n    text: {en: "again"}\n', 8, "duplicate activity number I.1"),
        ('  - number: I.2\n    text: {km: "ក"}\n', 9, "no English text"),
        ("  - number: I.2\n", 8, "has no 'text'"),
        ('  - number: I.2\n    text: {en: "x"}\n    agencies: [nobody]\n', 10, "unknown agency"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_line(extra, line, message):
    with pytest.raises(document.PlanFileError) as caught:
        services.plan_load(text=BASE + extra)
    assert caught.value.line == line and message in caught.value.message
    assert PlanVersion.objects.count() == 0 and Activity.objects.count() == 0


def test_the_command_names_the_line_and_loads_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE + '  - number: I.1\n    text: {en: "again"}\n', encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad.yaml: line 8: duplicate activity number I.1"):
        call_command("plan", "load", "--file", str(bad))
    assert PlanVersion.objects.count() == 0
