"""The rules of trainings, participants, attendance, test scores and certificates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ctip.accounts.permissions import NotFound
from ctip.audit.models import Action, AuditEvent
from ctip.training import selectors, services
from ctip.training.models import Attendance, Certificate, Participant, Training, TrainingStatus
from ctip.training.tests.conftest import attend_all, certify, hold, make_training, register

pytestmark = pytest.mark.django_db


def test_the_creators_agency_always_organises(supervisor_a, agency_b):
    training = make_training(supervisor_a, organizers=(agency_b,))
    assert set(training.organizers.values_list("code", flat=True)) == {
        "kh-agency-a",
        "kh-agency-b",
    }
    created = AuditEvent.objects.get(action=Action.CREATE, object_id=str(training.pk))
    assert created.details == {"type": "id_form_sop", "host_country": "KH"}


def test_only_managers_of_an_organising_agency_change_a_training(training, agency_b):
    from ctip.testing import personas

    other = personas.make_user("supervisor_b", agency_b, "supervisor").user
    with pytest.raises(NotFound):
        register(other, training)
    assert not Participant.objects.exists()
    # Fetching it to change (what pages and the API do first) is denied and logged; so was
    # the service's refusal, although its transaction rolled back.
    with pytest.raises(NotFound):
        selectors.access_training(other, training.pk, action="change")
    denied = AuditEvent.objects.filter(action=Action.SECURITY, actor_username="supervisor_b")
    assert [(d.details["event"], d.object_id) for d in denied] == [
        ("access_denied", str(training.pk))
    ] * 2
    # Viewing it is fine: trainings are not secret.
    assert selectors.access_training(other, training.pk) == training


def test_caseworker_cannot_plan_a_training(caseworker_a):
    with pytest.raises(NotFound):
        make_training(caseworker_a)
    assert not Training.objects.exists()


def test_dates_and_sessions(supervisor_a, training):
    with pytest.raises(ValidationError) as err:
        services.session_add(
            user=supervisor_a,
            training=training,
            data=services.SessionInput(date=training.end_date + dt.timedelta(days=1), title="Late"),
        )
    assert "date" in err.value.message_dict
    with pytest.raises(ValidationError):
        make_training(supervisor_a, end_date=timezone.localdate() - dt.timedelta(days=30))


def test_a_training_is_marked_held_only_from_its_last_day(supervisor_a):
    future = make_training(supervisor_a, days_ago=-5)
    with pytest.raises(ValidationError):
        hold(supervisor_a, future)
    assert Training.objects.get(pk=future.pk).status == TrainingStatus.PLANNED
    services.training_set_status(user=supervisor_a, training=future, status="cancelled")
    with pytest.raises(ValidationError):
        register(supervisor_a, Training.objects.get(pk=future.pk))


def test_a_user_or_a_name_is_registered_once(supervisor_a, caseworker_a, training):
    p = register(supervisor_a, training, "Sok Dara", user=caseworker_a)
    assert p.agency.code == "kh-agency-a" and p.country == "KH" and not p.is_external
    with pytest.raises(ValidationError):
        register(supervisor_a, training, "Another Name", user=caseworker_a)
    # The same name again (different case and spacing) is the same person.
    with pytest.raises(ValidationError):
        register(supervisor_a, training, "  sok   DARA ")
    assert Participant.objects.count() == 1


def test_an_external_participant_needs_agency_and_country(supervisor_a, training):
    with pytest.raises(ValidationError):
        services.participant_register(
            user=supervisor_a,
            training=training,
            data=services.ParticipantInput(full_name="Wang Li", country="CN"),
        )
    with pytest.raises(ValidationError):
        services.participant_register(
            user=supervisor_a,
            training=training,
            data=services.ParticipantInput(full_name="Wang Li", agency_name="MPS", country="XX"),
        )
    p = register(supervisor_a, training, "Wang Li 王丽", position="Police officer")
    assert p.is_external and p.country == "CN"
    # Personal fields are ciphertext in the database and never in the audit row.
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT full_name, position FROM training_participant")
        stored = cur.fetchone()
    assert all(value.startswith("e1:") for value in stored)
    row = AuditEvent.objects.get(action=Action.CREATE, object_id=str(p.pk))
    assert "王丽" not in str(row.details) and "Wang" not in str(row.details)
    assert sorted(row.fields) == ["full_name", "position"]
    assert str(p) == f"participant {p.pk}"


@pytest.mark.parametrize("score", ["-1", "100.01", "250"])
def test_scores_outside_0_to_100_are_refused(supervisor_a, training, score):
    p = register(supervisor_a, training)
    with pytest.raises(ValidationError) as err:
        services.participant_set_scores(
            user=supervisor_a, participant=p, pre_score=Decimal(score), post_score=None
        )
    assert "pre_score" in err.value.message_dict
    assert Participant.objects.get(pk=p.pk).pre_score is None


def test_the_database_refuses_scores_out_of_range_too(supervisor_a, training):
    p = register(supervisor_a, training)
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.filter(pk=p.pk).update(post_score=Decimal("101"))


def test_attendance_is_recorded_per_session(supervisor_a, training):
    a = register(supervisor_a, training, "A One")
    b = register(supervisor_a, training, "B Two")
    first, second = training.sessions.order_by("date")
    counts = services.attendance_record(user=supervisor_a, session=first, present={a.pk})
    assert counts == {"present": 1, "absent": 1}
    services.attendance_record(user=supervisor_a, session=second, present={a.pk, b.pk})
    assert services.attendance_percent(a) == 100
    assert services.attendance_percent(b) == 50
    # Correcting a session rewrites its rows, it does not add more.
    services.attendance_record(user=supervisor_a, session=first, present={a.pk, b.pk})
    assert Attendance.objects.filter(session=first).count() == 2
    assert services.attendance_percent(b) == 100


def test_attendance_of_someone_from_another_training_is_refused(supervisor_a, training):
    other = make_training(supervisor_a, title="Other")
    stranger = register(supervisor_a, other, "Stranger")
    session = training.sessions.first()
    with pytest.raises(ValidationError):
        services.attendance_record(user=supervisor_a, session=session, present={stranger.pk})
    assert not Attendance.objects.filter(session=session).exists()


def test_certificate_needs_a_held_training_attendance_and_the_pass_mark(supervisor_a, training):
    p = register(supervisor_a, training)
    blockers = services.certificate_blockers(p)
    assert len(blockers) == 3  # not held, attended 0 %, no post-test score
    with pytest.raises(ValidationError):
        services.certificate_issue(user=supervisor_a, participant=p)

    hold(supervisor_a, training)
    first = training.sessions.order_by("date").first()
    services.attendance_record(user=supervisor_a, session=first, present={p.pk})
    services.participant_set_scores(
        user=supervisor_a, participant=p, pre_score=Decimal(40), post_score=Decimal(59)
    )
    blockers = services.certificate_blockers(Participant.objects.get(pk=p.pk))
    assert len(blockers) == 2
    assert any("50%" in b for b in blockers) and any("pass mark" in b for b in blockers)

    attend_all(supervisor_a, training, [p])
    services.participant_set_scores(
        user=supervisor_a, participant=p, pre_score=Decimal(40), post_score=Decimal(60)
    )
    assert services.certificate_blockers(Participant.objects.get(pk=p.pk)) == []
    certificate = services.certificate_issue(user=supervisor_a, participant=p)
    assert certificate.holder_name == "Sok Dara" and certificate.validity() == "valid"
    assert len(certificate.code) == 20 and set(certificate.code) <= set(services.CODE_ALPHABET)
    assert AuditEvent.objects.filter(
        action=Action.CREATE, object_id=str(certificate.pk), fields=["holder_name"]
    ).exists()
    # One valid certificate per participant.
    with pytest.raises(ValidationError):
        services.certificate_issue(user=supervisor_a, participant=p)


def test_certificate_validity_period(supervisor_a):
    training = make_training(supervisor_a, certificate_valid_months=12)
    p = register(supervisor_a, training)
    certificate = certify(supervisor_a, training, p)
    today = timezone.localdate()
    assert certificate.valid_until == services.add_months(today, 12)
    assert certificate.validity(today=certificate.valid_until) == "valid"
    assert certificate.validity(today=certificate.valid_until + dt.timedelta(days=1)) == "expired"
    assert services.add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)


def test_revoked_certificate_can_be_replaced(supervisor_a, training):
    p = register(supervisor_a, training)
    certificate = certify(supervisor_a, training, p)
    with pytest.raises(ValidationError):
        services.certificate_revoke(user=supervisor_a, certificate=certificate, reason="")
    services.certificate_revoke(user=supervisor_a, certificate=certificate, reason="error")
    certificate.refresh_from_db()
    assert certificate.validity() == "revoked"
    with pytest.raises(ValidationError):
        services.certificate_revoke(user=supervisor_a, certificate=certificate, reason="error")
    again = services.certificate_issue(user=supervisor_a, participant=p)
    assert again.code != certificate.code
    assert Certificate.objects.filter(participant=p).count() == 2


def test_issue_to_all_who_qualify(supervisor_a, training):
    good = register(supervisor_a, training, "Good")
    absent = register(supervisor_a, training, "Absent")
    attend_all(supervisor_a, training, [good])
    for p in (good, absent):
        services.participant_set_scores(
            user=supervisor_a, participant=p, pre_score=Decimal(50), post_score=Decimal(90)
        )
    hold(supervisor_a, training)
    result = services.certificates_issue_all(user=supervisor_a, training=training)
    assert [c.participant_id for c in result.issued] == [good.pk]
    assert result.not_eligible == 1
    again = services.certificates_issue_all(user=supervisor_a, training=training)
    assert again.issued == [] and again.not_eligible == 2


def test_code_normalisation():
    code = services.new_code()
    assert services.normalise_code(services.format_code(code).lower()) == code
    assert services.normalise_code(" 0o1il-") == "00111"
    assert len({services.new_code() for _ in range(200)}) == 200
