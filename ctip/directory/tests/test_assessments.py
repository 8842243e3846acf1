"""Minimum-standards checklists as versioned data, shelter assessments, follow-up actions."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.exceptions import ValidationError

from ctip.accounts.permissions import NotFound
from ctip.audit.models import AuditEvent
from ctip.directory import selectors, services
from ctip.directory.models import (
    Compliance,
    FollowUpStatus,
    ShelterAssessment,
    StandardsChecklist,
)
from ctip.directory.standards import STANDARDS_DIR, ChecklistFileError, parse_checklist
from ctip.directory.tests.conftest import TODAY

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
FILE = STANDARDS_DIR / "kh-residential-care-v1.json"


@pytest.fixture
def checklist():
    return selectors.current_checklist("KH")


def all_scores(checklist, score=3, **special):
    """A score for every standard; ``special`` maps a code to a score or "na"."""
    out = []
    for standard in checklist.standards.all():
        value = special.get(standard.code, score)
        if value == "na":
            out.append(services.ScoreInput(standard.code, None, True, ""))
        else:
            out.append(services.ScoreInput(standard.code, value, False, "Seen on the visit."))
    return out


def record(user, shelter, checklist, scores, when=None, **kwargs):
    return services.assessment_record(
        user=user,
        service=shelter,
        checklist=checklist,
        assessed_on=when or TODAY,
        assessing_agency=user.agency,
        scores=scores,
        **kwargs,
    )


def test_the_checklist_file_loads_once_and_is_versioned(tmp_path):
    first = services.checklist_sync()
    assert [str(c) for c in first] == ["kh-residential-care v1"]
    checklist = first[0]
    assert checklist.standards.count() == 22
    assert checklist.pass_mark == 2 and checklist.country == "KH"
    critical = set(checklist.standards.filter(critical=True).values_list("code", flat=True))
    assert critical == {"SA1", "SA2", "RP1", "HF1", "CP1"}
    assert checklist.standards.get(code="SA2").title_zh_hans == "行动自由"
    # Loading again changes nothing.
    services.checklist_sync()
    assert StandardsChecklist.objects.count() == 1

    data = json.loads(FILE.read_bytes())
    data["areas"][0]["standards"][0]["title"]["en"] = "Edited without a new version"
    (tmp_path / "edited.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(services.ChecklistChangedError):
        services.checklist_sync(tmp_path)

    data["version"] = 2
    (tmp_path / "edited.json").write_text(json.dumps(data), encoding="utf-8")
    services.checklist_sync(tmp_path)
    assert StandardsChecklist.objects.count() == 2
    assert selectors.current_checklist("KH").version == 2  # the latest version is used
    assert checklist.standards.get(code="PR1").title_en == "Building size and living space"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["title"].pop("en"), "needs an English text"),
        (lambda d: d["areas"][1]["standards"].append(d["areas"][0]["standards"][0]), "twice"),
        (lambda d: d["scale"].update(pass_mark=9), "pass_mark"),
        (lambda d: d.pop("areas"), "missing or malformed"),
        (lambda d: d["areas"][0]["title"].update(fr="Locaux"), "unknown language keys"),
    ],
)
def test_a_malformed_checklist_file_is_refused(change, message):
    data = json.loads(FILE.read_bytes())
    change(data)
    with pytest.raises(ChecklistFileError, match=message):
        parse_checklist(json.dumps(data).encode(), "test.json")


def test_record_an_assessment_with_its_result_and_audit(make_service, editor, checklist):
    shelter = make_service()
    assessment = record(
        editor, shelter, checklist, all_scores(checklist, ED1="na", ST1=1), summary="Visit."
    )
    assert assessment.compliance == Compliance.PARTLY  # ST1 is below the pass mark
    assert assessment.scores.count() == 22
    assert assessment.score_max == 21 * 3  # ED1 not applicable
    assert assessment.score_total == 20 * 3 + 1
    assert assessment.percent == round(100 * 61 / 63)
    event = AuditEvent.objects.get(object_id=str(assessment.pk))
    assert event.details["result"] == "partly" and event.details["score"] == "61/63"


def test_results_meet_partly_and_does_not_meet(make_service, editor, checklist):
    shelter = make_service()
    meets = record(editor, shelter, checklist, all_scores(checklist, score=2), TODAY - 3 * DAY)
    critical = record(editor, shelter, checklist, all_scores(checklist, SA2=1), TODAY - 2 * DAY)
    assert meets.compliance == Compliance.MEETS
    assert critical.compliance == Compliance.DOES_NOT_MEET


def test_bad_scores_are_field_errors(make_service, editor, checklist):
    shelter = make_service()
    scores = all_scores(checklist, SA1=4, PR1="na")
    scores = [s for s in scores if s.standard_code != "LE1"]
    with pytest.raises(ValidationError) as excinfo:
        record(editor, shelter, checklist, scores)
    errors = excinfo.value.message_dict
    assert errors["score_SA1"] == ["The score must be between 0 and 3 for this standard."]
    assert errors["not_applicable_PR1"] == ["This standard applies to every shelter."]
    assert errors["score_LE1"] == ["Give a score."]
    assert not ShelterAssessment.objects.exists()

    extra = [*all_scores(checklist), services.ScoreInput("ZZ9", 2)]
    with pytest.raises(ValidationError) as excinfo:
        record(editor, shelter, checklist, extra)
    assert excinfo.value.message_dict == {"scores": ["Unknown standard ZZ9."]}


def test_only_shelters_are_assessed_and_not_in_the_future(make_service, editor, checklist):
    clinic = make_service(service_type="medical", registration_number="M-1")
    with pytest.raises(ValidationError) as excinfo:
        record(editor, clinic, checklist, all_scores(checklist))
    assert "service" in excinfo.value.message_dict
    shelter = make_service()
    with pytest.raises(ValidationError) as excinfo:
        record(editor, shelter, checklist, all_scores(checklist), TODAY + DAY)
    assert "assessed_on" in excinfo.value.message_dict
    record(editor, shelter, checklist, all_scores(checklist))
    with pytest.raises(ValidationError) as excinfo:
        record(editor, shelter, checklist, all_scores(checklist))
    assert "already has an assessment" in excinfo.value.message_dict["assessed_on"][0]


def test_other_roles_cannot_record_or_follow_up(make_service, editor, checklist, caseworker_a):
    shelter = make_service()
    with pytest.raises(NotFound):
        record(caseworker_a, shelter, checklist, all_scores(checklist))
    assessment = record(editor, shelter, checklist, all_scores(checklist))
    with pytest.raises(NotFound):
        services.follow_up_create(
            user=caseworker_a,
            assessment=assessment,
            action="Fix the lock",
            responsible="Director",
            due_on=TODAY + DAY,
        )
    # Caseworkers do see assessments (to choose a shelter).
    assert list(selectors.assessment_list(user=caseworker_a, service=shelter)) == [assessment]


def test_follow_up_actions_with_due_dates(make_service, editor, checklist):
    shelter = make_service()
    assessment = record(editor, shelter, checklist, all_scores(checklist, SA1=1), TODAY - 40 * DAY)
    sa1 = checklist.standards.get(code="SA1")
    with pytest.raises(ValidationError) as excinfo:
        services.follow_up_create(
            user=editor,
            assessment=assessment,
            action="Write a security plan",
            responsible="Shelter director",
            due_on=TODAY - 41 * DAY,
            standard=sa1,
        )
    assert "due_on" in excinfo.value.message_dict
    late = services.follow_up_create(
        user=editor,
        assessment=assessment,
        action="Write a security plan",
        responsible="Shelter director",
        due_on=TODAY - 10 * DAY,
        standard=sa1,
    )
    later = services.follow_up_create(
        user=editor,
        assessment=assessment,
        action="Train night staff",
        responsible="Provincial DoSVY",
        due_on=TODAY + 20 * DAY,
    )
    assert late.is_overdue and not later.is_overdue
    assert list(selectors.follow_up_list(user=editor, overdue=True)) == [late]

    with pytest.raises(ValidationError) as excinfo:
        services.follow_up_close(
            user=editor, follow_up=late, status="done", completed_on=TODAY, outcome=" "
        )
    assert "outcome" in excinfo.value.message_dict
    done = services.follow_up_close(
        user=editor,
        follow_up=late,
        status="done",
        completed_on=TODAY - DAY,
        outcome="Plan written and posted; staff briefed.",
    )
    assert done.status == FollowUpStatus.DONE and not done.is_overdue
    event = AuditEvent.objects.filter(object_id=str(late.pk), action="update").get()
    assert event.details == {"status": "done", "late": True}
    with pytest.raises(ValidationError) as excinfo:
        services.follow_up_close(
            user=editor, follow_up=done, status="cancelled", completed_on=TODAY, outcome="x"
        )
    assert "already closed" in excinfo.value.message_dict["status"][0]
    assert list(selectors.follow_up_list(user=editor, status="open")) == [later]


def test_history_over_time_per_area(make_service, editor, checklist):
    shelter = make_service()
    record(editor, shelter, checklist, all_scores(checklist, SA1=1, SA2=0), TODAY - 200 * DAY)
    record(editor, shelter, checklist, all_scores(checklist, SA1=2, SA2=3), TODAY - 20 * DAY)
    assessments = list(selectors.assessment_list(user=editor, service=shelter))
    assert [a.compliance for a in assessments] == ["does_not_meet", "meets"]
    rows = {row["area"]: row["percents"] for row in selectors.area_history(assessments)}
    assert rows["Safety and protection"] == [round(100 * 1 / 6), round(100 * 5 / 6)]
    assert rows["Legal assistance"] == [100, 100]
