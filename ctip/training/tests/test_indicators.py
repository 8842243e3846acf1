"""Indicators: officials trained, the share of cases and screenings handled by trained
officials, and the change between pre- and post-tests.

The cases app's Case and Screening are created with the ORM and only the fields that exist
on them (found through ``django.apps``), like the indicator functions look them up."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from ctip.training import indicators, services
from ctip.training.tests.conftest import certify, make_training, register

pytestmark = pytest.mark.django_db


def _cases_model(name):
    try:
        return apps.get_model("cases", name)
    except LookupError:
        pytest.skip(f"cases.{name} does not exist yet")


def _create(model, **values):
    """A row with the given values, keeping only the fields the model has."""
    names = {f.name for f in model._meta.get_fields()}
    return model._default_manager.create(**{k: v for k, v in values.items() if k in names})


def _person(user):
    from ctip.cases.services import PersonInput, person_create

    return person_create(user=user, data=PersonInput(name_latin=f"P {uuid.uuid4().hex[:6]}"))


def make_case(owner, assigned_to, *, opened_at=None):
    Case = _cases_model("Case")
    now = timezone.now()
    return _create(
        Case,
        reference=f"C-{uuid.uuid4().hex[:10]}",
        owner_agency=owner.agency,
        person=_person(owner),
        track="in_country",
        stage="identified",
        stage_entered_at=now,
        sop_version="2026.1-default",
        assigned_to=assigned_to,
        opened_at=opened_at or now,
        opened_by=owner,
    )


def make_screening(screener, *, status="submitted"):
    Screening = _cases_model("Screening")
    FormVersion = _cases_model("FormVersion")
    form, _ = FormVersion.objects.get_or_create(
        form_id="test-form", version="1", defaults={"sha256": "0" * 64, "definition": "{}"}
    )
    submitted = status == "submitted"
    return _create(
        Screening,
        reference=f"S-{uuid.uuid4().hex[:10]}",
        owner_agency=screener.agency,
        person=_person(screener),
        form_version=form,
        status=status,
        result="victim" if submitted else "",
        submitted_at=timezone.now() if submitted else None,
        created_by=screener,
        screener=screener,
    )


@pytest.fixture
def trained(supervisor_a, caseworker_a):
    """caseworker_a holds a certificate of an identification-form training."""
    training = make_training(supervisor_a)
    participant = register(supervisor_a, training, "Sok Dara", user=caseworker_a)
    return certify(supervisor_a, training, participant)


def test_a_case_handled_by_a_trained_official_counts(trained, caseworker_a, colleague_a):
    make_case(caseworker_a, caseworker_a)  # trained caseworker
    make_case(caseworker_a, colleague_a)  # untrained colleague
    make_case(caseworker_a, None)  # nobody assigned: not counted at all
    share = indicators.cases_handled_by_trained()
    assert share.available and share.user_field == "assigned_to"
    assert (share.total, share.by_trained) == (2, 1)
    assert share.percent == Decimal("50.0")


def test_an_untrained_officials_case_does_not_count(caseworker_a, colleague_a):
    make_case(caseworker_a, colleague_a)
    share = indicators.cases_handled_by_trained()
    assert (share.total, share.by_trained, share.percent) == (1, 0, Decimal("0.0"))


def test_a_revoked_certificate_stops_counting_from_the_day_it_was_revoked(
    trained, supervisor_a, caseworker_a
):
    make_case(caseworker_a, caseworker_a)
    assert indicators.cases_handled_by_trained().by_trained == 1
    services.certificate_revoke(user=supervisor_a, certificate=trained, reason="misconduct")
    assert indicators.cases_handled_by_trained().by_trained == 0
    # Looking back at yesterday, when the certificate was not issued yet: not trained then.
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert indicators.trained_user_ids(as_of=yesterday) == set()


def test_training_type_and_period_filters(trained, caseworker_a):
    make_case(caseworker_a, caseworker_a)
    old = make_case(caseworker_a, caseworker_a, opened_at=timezone.now() - dt.timedelta(days=400))
    assert old is not None
    law = indicators.cases_handled_by_trained(training_types=["law_enforcement"])
    assert (law.total, law.by_trained) == (2, 0)
    this_year = indicators.cases_handled_by_trained(
        since=timezone.localdate() - dt.timedelta(days=30)
    )
    assert (this_year.total, this_year.by_trained) == (1, 1)
    assert this_year.date_field == "opened_at"
    with pytest.raises(ValueError):
        indicators.cases_handled_by_trained(training_types=["cooking"])


def test_screenings_by_trained_screeners(trained, caseworker_a, colleague_a):
    make_screening(caseworker_a)
    make_screening(colleague_a)
    make_screening(caseworker_a, status="draft")  # a draft identified nobody yet
    share = indicators.screenings_handled_by_trained(training_types=["id_form_sop"])
    assert share.available
    assert share.user_field in indicators.SCREENING_USER_FIELDS
    assert (share.total, share.by_trained) == (2, 1)


def test_share_is_not_available_when_the_model_or_field_is_missing():
    missing = indicators._share(
        "NoSuchModel", ("assigned_to",), (), since=None, until=None, training_types=None
    )
    assert not missing.available and "does not exist" in missing.reason and missing.percent is None
    no_field = indicators._share(
        "Case", ("no_such_field",), (), since=None, until=None, training_types=None
    )
    assert not no_field.available and "no user field" in no_field.reason


def test_officials_trained_by_country_agency_and_type(supervisor_a, caseworker_a, cn_focal):
    first = make_training(supervisor_a)
    second = make_training(supervisor_a, title="Law enforcement", type="law_enforcement")
    for training in (first, second):
        certify(supervisor_a, training, register(supervisor_a, training, "Wang Li"))
    certify(supervisor_a, first, register(supervisor_a, first, "Sok Dara", user=caseworker_a))
    certify(supervisor_a, first, register(supervisor_a, first, "Zhao Lei", user=cn_focal))
    # Registered but never certified: not trained.
    register(supervisor_a, first, "Chen Ming", agency_name="MPS", country="CN")

    by_country = {r.key: r.count for r in indicators.officials_trained(by="country")}
    assert by_country == {"CN": 2, "KH": 1}  # Wang Li counts once across two trainings
    by_agency = {r.label: r.count for r in indicators.officials_trained(by="agency")}
    assert by_agency == {
        "Guangxi Relief Station": 1,
        "Agency kh-agency-a": 1,
        "Agency cn-agency": 1,
    }
    by_type = {r.key: r.count for r in indicators.officials_trained(by="type")}
    assert by_type == {"id_form_sop": 3, "law_enforcement": 1}
    assert indicators.officials_trained_total() == 3
    assert indicators.officials_trained_total(country="KH") == 1
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert indicators.officials_trained(by="country", since=tomorrow) == []
    with pytest.raises(ValueError):
        indicators.officials_trained(by="colour")


def test_expired_certificates_do_not_count(supervisor_a):
    training = make_training(supervisor_a, certificate_valid_months=1)
    certificate = certify(supervisor_a, training, register(supervisor_a, training))
    assert indicators.officials_trained_total() == 1
    later = certificate.valid_until + dt.timedelta(days=1)
    assert indicators.officials_trained_total(as_of=later) == 0


def test_improvement_between_pre_and_post_tests(supervisor_a):
    training = make_training(supervisor_a)
    other = make_training(supervisor_a, title="Other", type="social_work", host_country="CN")
    scores = [("40", "70"), ("60", "55"), ("50", "80")]
    for i, (pre, post) in enumerate(scores):
        p = register(supervisor_a, training, f"Person {i}")
        services.participant_set_scores(
            user=supervisor_a, participant=p, pre_score=Decimal(pre), post_score=Decimal(post)
        )
    register(supervisor_a, training, "No tests")  # without scores: left out
    p = register(supervisor_a, other, "Elsewhere")
    services.participant_set_scores(
        user=supervisor_a, participant=p, pre_score=Decimal(10), post_score=Decimal(90)
    )
    one = indicators.score_improvement(training=training)
    assert one.participants == 3
    assert one.mean_pre == Decimal("50.00") and one.mean_post == Decimal("68.33")
    assert one.mean_change == Decimal("18.33")
    assert one.improved == 2 and one.improved_percent == Decimal("66.7")
    assert indicators.score_improvement(training_types=["social_work"]).mean_change == Decimal(
        "80.00"
    )
    assert indicators.score_improvement(host_country="KH").participants == 3
    assert indicators.score_improvement().participants == 4
    empty = indicators.score_improvement(training_types=["diplomatic"])
    assert empty.participants == 0 and empty.mean_pre is None and empty.improved_percent is None
