"""The identification form as data: its rules, its scoring, its errors in three languages,
its versions frozen once used."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from ctip.cases import formdefs
from ctip.cases.idform import FormDefinition, FormDefinitionError, clean_answers, score_answers
from ctip.cases.tests.conftest import VICTIM_ANSWERS


@pytest.fixture(scope="module")
def form():
    return formdefs.current_definition()


def scored(form, **changes):
    answers = {**VICTIM_ANSWERS, **changes}
    answers = {k: v for k, v in answers.items() if v is not None}
    result = clean_answers(form, answers)
    assert result.ok, result.errors
    return score_answers(form, result.answers)


def test_definition_has_three_languages_and_all_elements(form):
    questions = form.questions()
    assert len({q.id for q in questions}) == len(questions) > 40
    for q in questions:
        assert set(q.label) == {"en", "km", "zh-hans"} and all(q.label.values())
    elements = {q.element for q in questions if q.is_indicator}
    assert elements == {"act", "means", "purpose"}
    # Questions for each kind of exploitation the plan names
    covered = json.dumps([q.relevant for q in questions])
    for kind in ("forced_marriage", "forced_labour", "sexual_exploitation", "forced_criminality"):
        assert kind in covered


def test_victim_when_act_means_and_purpose_are_established(form):
    score = scored(form)
    assert score.result == "victim" and not score.child
    reasons = score.reasons(form, "en")
    assert reasons[0].startswith("Act") and "established" in reasons[0]
    assert "broker arranged the marriage" in reasons[0]


def test_presumed_victim_when_an_element_is_only_indicated(form):
    # One medium means indicator only: means "indicated"
    means = {q.id: "no" for q in form.questions() if q.element == "means"}
    score = scored(form, **{**means, "means_debt": "yes"})
    assert score.result == "presumed_victim"
    assert [f.state for f in score.findings] == ["established", "indicated", "established"]


def test_child_needs_no_means(form):
    means = {q.id: "no" for q in form.questions() if q.element == "means"}
    adult = scored(form, **means)
    assert adult.result == "needs_review"
    child = scored(form, **means, age_at_screening="15", purpose_child_work="no")
    assert child.child and child.result == "victim"
    assert "not required" in " ".join(child.reasons(form, "en"))
    # Age unknown but the person appears under 18: treated as a child
    presumed = scored(
        form, **means, age_at_screening=None, appears_under_18="yes", purpose_child_work="yes"
    )
    assert presumed.child and presumed.result == "victim"


def test_not_a_victim_and_needs_review(form):
    nothing = {q.id: "no" for q in form.questions() if q.is_indicator}
    assert scored(form, **nothing).result == "not_a_victim"
    unknown = {**nothing, "means_threats": "unknown", "act_recruited": "yes"}
    assert scored(form, **unknown).result == "needs_review"


def test_scam_compound_indicators(form):
    answers = {q.id: "no" for q in form.questions() if q.is_indicator}
    answers.update(
        exploitation_types=["forced_criminality"],
        exploitation_country="KH",
        act_recruited="yes",
        act_harboured="yes",
        means_confined="yes",
        means_documents="yes",
        purpose_scam="yes",
        purpose_quotas="yes",
    )
    answers.update(purpose_marriage=None, purpose_childbearing=None, act_received_by_spouse=None)
    score = scored(form, **answers)
    assert score.result == "victim"
    assert "purpose_scam" in score.findings[2].indicators


def test_refused_interview_stops_with_the_reason(form):
    result = clean_answers(form, {**VICTIM_ANSWERS, "consent_to_interview": "no"})
    assert result.ok
    assert "act_recruited" not in result.answers  # not relevant, dropped
    score = score_answers(form, result.answers)
    assert score.result == "needs_review" and score.stopped
    assert "did not agree" in score.reasons(form, "en")[0]


def test_field_errors_in_the_users_language(form):
    bad = {**VICTIM_ANSWERS, "age_at_screening": "abc", "interview_date": "2999-01-01"}
    del bad["interview_country"]
    km = clean_answers(form, bad, lang="km").errors
    assert km["interview_country"] == ["សំណួរនេះត្រូវតែឆ្លើយ។"]
    assert km["age_at_screening"] == ["សូមបញ្ចូលចំនួនគត់។"]
    assert km["interview_date"] == ["កាលបរិច្ឆេទមិនអាចនៅថ្ងៃអនាគតបានទេ។"]
    zh = clean_answers(form, bad, lang="zh-hans").errors
    assert zh["interview_country"] == ["此问题必须回答。"]
    en = clean_answers(form, {**VICTIM_ANSWERS, "age_at_screening": "130"}, lang="en").errors
    assert en["age_at_screening"] == ["Must be at most 120."]
    choice = clean_answers(form, {**VICTIM_ANSWERS, "act_recruited": "maybe"}).errors
    assert choice == {"act_recruited": ["Choose one of the listed answers."]}


def test_draft_skips_required_but_checks_types(form):
    raw = {"interview_date": "2026-11-01", "consent_to_interview": "yes", "age_at_screening": "x"}
    result = clean_answers(form, raw, draft=True)
    assert list(result.errors) == ["age_at_screening"]
    assert result.answers == {"interview_date": "2026-11-01", "consent_to_interview": "yes"}


def test_identity_section_needs_one_name(form):
    result = clean_answers(form, {**VICTIM_ANSWERS, "sex": "female"}, include_identity=True)
    assert result.errors == {"name_latin": ["Give at least one of these answers."]}
    ok = clean_answers(
        form, {**VICTIM_ANSWERS, "sex": "female", "name_zh": "索卡"}, include_identity=True
    )
    assert ok.ok and ok.answers["name_zh"] == "索卡"


def test_strict_mode_names_unknown_fields(form):
    errors = clean_answers(form, {**VICTIM_ANSWERS, "favourite_colour": "red"}, strict=True).errors
    assert errors == {"favourite_colour": ["This field is not part of the form."]}


def test_hash_is_stable_and_changes_with_content(form):
    again = FormDefinition.from_json(form.canonical_json())
    assert again.sha256 == form.sha256
    raw = copy.deepcopy(form.raw)
    raw["sections"][0]["questions"][0]["label"]["en"] = "Interview date"
    assert FormDefinition.from_dict(raw).sha256 != form.sha256


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["sections"][0]["questions"][0]["label"].pop("km"), "label missing in km"),
        (lambda r: r["sections"][0]["questions"][1].update(id="interview_date"), "used twice"),
        (lambda r: r["sections"][0]["questions"][0].update(type="colour"), "unknown type"),
        (
            lambda r: r["sections"][0]["questions"][0].update(
                relevant={"q": "wants_assistance", "eq": "yes"}
            ),
            "not asked before",
        ),
    ],
)
def test_broken_definitions_are_refused_with_the_place(form, change, message):
    raw = copy.deepcopy(form.raw)
    change(raw)
    with pytest.raises(FormDefinitionError, match=message):
        FormDefinition.from_dict(raw, source="test.json")


@pytest.mark.django_db
def test_a_used_version_is_frozen(form, caseworker_a, screening_a):
    row = formdefs.form_version_row(form)
    assert row.frozen_at is not None and row.sha256 == form.sha256
    raw = copy.deepcopy(form.raw)
    raw["title"]["en"] = "Changed title"
    changed = FormDefinition.from_dict(raw)
    with pytest.raises(formdefs.FormFrozenError, match="new version"):
        formdefs.form_version_row(changed)


def test_dates_are_checked_against_today(form):
    late = clean_answers(
        form, {**VICTIM_ANSWERS, "interview_date": "2026-12-01"}, today=dt.date(2026, 11, 30)
    )
    assert "interview_date" in late.errors
