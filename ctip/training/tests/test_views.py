"""Pages and API of trainings and participants, each with "the other user cannot see it"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ctip.audit.models import Action, AuditEvent
from ctip.training.models import Attendance, Certificate, Participant, Training
from ctip.training.tests.conftest import certify, make_training, register

pytestmark = pytest.mark.django_db


def test_plan_a_training_on_the_page(client_of, supervisor_a, agency_b):
    client = client_of(supervisor_a)
    start = timezone.localdate() - dt.timedelta(days=3)
    response = client.post(
        "/training/new/",
        {
            "title": "Joint training on the SOP",
            "type": "id_form_sop",
            "host_country": "KH",
            "place": "Phnom Penh",
            "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=1)).isoformat(),
            "organizers": [agency_b.pk],
            "target_groups": ["police", "social_workers"],
            "trainers": "Trainer One\nTrainer Two",
            "min_attendance_percent": "75",
        },
    )
    training = Training.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/training/{training.pk}/"
    assert training.target_groups == ["police", "social_workers"]
    assert training.trainers == "Trainer One\nTrainer Two"
    assert training.organizers.count() == 2

    bad = client.post("/training/new/", {"title": "x", "start_date": "2026-01-02"})
    assert bad.status_code == 400 and Training.objects.count() == 1


def test_caseworker_cannot_plan_a_training(client_of, caseworker_a):
    assert client_of(caseworker_a).get("/training/new/").status_code == 404
    assert AuditEvent.objects.filter(
        action=Action.SECURITY, actor_username="caseworker_a", object_type="training"
    ).exists()


def test_everyone_who_views_trainings_sees_the_list_but_only_managers_see_names(
    client_of, supervisor_a, caseworker_a, cn_focal, node_admin, dpo, training
):
    register(supervisor_a, training, "Wang Li 王丽")
    for user in (supervisor_a, caseworker_a, cn_focal, node_admin):
        page = client_of(user).get("/training/").content.decode()
        assert training.title in page
    detail = client_of(supervisor_a).get(f"/training/{training.pk}/").content.decode()
    assert "Wang Li 王丽" in detail and 'id="participants"' in detail
    for user in (caseworker_a, cn_focal, node_admin):
        page = client_of(user).get(f"/training/{training.pk}/").content.decode()
        assert training.title in page and "Wang Li" not in page
    # The DPO has no business with trainings.
    assert client_of(dpo).get("/training/").status_code == 404
    shown = AuditEvent.objects.filter(action=Action.VIEW, object_type="training.participant")
    assert list(shown.values_list("actor_username", flat=True)) == ["supervisor_a"]


def test_list_filters_and_htmx_fragment(client_of, supervisor_a, training):
    make_training(supervisor_a, title="Law enforcement course", type="law_enforcement")
    client = client_of(supervisor_a)
    page = client.get("/training/", {"type": "law_enforcement"}, HTTP_HX_REQUEST="true")
    text = page.content.decode()
    assert "Law enforcement course" in text and training.title not in text
    assert "<html" not in text  # only the rows


def test_register_a_participant_record_attendance_scores_and_issue(
    client_of, supervisor_a, caseworker_a, training
):
    client = client_of(supervisor_a)
    response = client.post(
        f"/training/{training.pk}/participants/new/",
        {"full_name": "Sok Dara", "username": "caseworker_a"},
    )
    participant = Participant.objects.get()
    assert response["Location"] == f"/training/participants/{participant.pk}/"
    assert participant.user == caseworker_a and participant.source == "form"

    external = client.post(f"/training/{training.pk}/participants/new/", {"full_name": "Wang Li"})
    assert external.status_code == 400 and Participant.objects.count() == 1

    for session in training.sessions.all():
        page = client.get(f"/training/sessions/{session.pk}/attendance/").content.decode()
        assert "Sok Dara" in page
        client.post(
            f"/training/sessions/{session.pk}/attendance/", {"present": [str(participant.pk)]}
        )
    assert Attendance.objects.filter(participant=participant, present=True).count() == 2

    bad = client.post(
        f"/training/participants/{participant.pk}/scores/",
        {"pre_score": "101", "post_score": "50"},
        follow=True,
    )
    assert "100" in bad.content.decode()
    participant.refresh_from_db()
    assert participant.pre_score is None
    client.post(
        f"/training/participants/{participant.pk}/scores/", {"pre_score": "45", "post_score": "88"}
    )
    participant.refresh_from_db()
    assert str(participant.post_score) == "88.00"

    refused = client.post(f"/training/participants/{participant.pk}/certificate/", follow=True)
    assert "The training has not been marked as held." in refused.content.decode()
    client.post(f"/training/{training.pk}/status/", {"status": "held"})
    issued = client.post(f"/training/participants/{participant.pk}/certificate/")
    certificate = Certificate.objects.get()
    assert issued["Location"] == f"/training/certificates/{certificate.pk}/"


def test_participant_page_for_the_participant_and_managers_only(
    client_of, supervisor_a, caseworker_a, colleague_a, training
):
    participant = register(
        supervisor_a, training, "Sok Dara", user=caseworker_a, contact="+855 12 345 678"
    )
    url = f"/training/participants/{participant.pk}/"
    own = client_of(caseworker_a).get(url).content.decode()
    assert "Sok Dara" in own and "+855 12 345 678" not in own  # contact: managers only
    assert "Record test scores" not in own
    manager = client_of(supervisor_a).get(url).content.decode()
    assert "+855 12 345 678" in manager and "Record test scores" in manager
    assert client_of(colleague_a).get(url).status_code == 404
    # The participant cannot change their own scores.
    response = client_of(caseworker_a).post(
        f"/training/participants/{participant.pk}/scores/", {"pre_score": "99"}
    )
    assert response.status_code == 404
    participant.refresh_from_db()
    assert participant.pre_score is None


def test_another_agency_cannot_change_or_add_to_a_training(client_of, agency_b, training):
    from ctip.testing import personas

    other = personas.make_user("supervisor_b", agency_b, "supervisor").user
    client = client_of(other)
    assert client.get(f"/training/{training.pk}/").status_code == 200  # viewing is fine
    assert client.get(f"/training/{training.pk}/edit/").status_code == 404
    response = client.post(
        f"/training/{training.pk}/participants/new/",
        {"full_name": "Intruder", "agency_name": "X", "country": "KH"},
    )
    assert response.status_code == 404 and not Participant.objects.exists()
    session = training.sessions.first()
    assert client.get(f"/training/sessions/{session.pk}/attendance/").status_code == 404
    assert (
        AuditEvent.objects.filter(action=Action.SECURITY, actor_username="supervisor_b").count()
        == 3
    )


def test_edit_and_mark_held_pages(client_of, supervisor_a, training):
    client = client_of(supervisor_a)
    page = client.get(f"/training/{training.pk}/edit/")
    assert page.status_code == 200 and training.title in page.content.decode()
    data = {
        "title": "Renamed",
        "type": training.type,
        "host_country": "CN",
        "place": "Kunming",
        "start_date": training.start_date.isoformat(),
        "end_date": training.end_date.isoformat(),
        "min_attendance_percent": "50",
    }
    assert client.post(f"/training/{training.pk}/edit/", data).status_code == 302
    training.refresh_from_db()
    assert (training.title, training.host_country, training.min_attendance_percent) == (
        "Renamed",
        "CN",
        50,
    )
    data["start_date"] = (training.end_date + dt.timedelta(days=1)).isoformat()
    data["end_date"] = (training.end_date + dt.timedelta(days=2)).isoformat()
    response = client.post(f"/training/{training.pk}/edit/", data)
    assert response.status_code == 400
    assert "Some sessions fall outside the new dates." in response.content.decode()


# --- API ----------------------------------------------------------------------------------


def test_api_list_and_detail(client_of, supervisor_a, cn_focal, dpo, training):
    body = client_of(cn_focal).get("/api/v1/trainings").json()
    assert body["count"] == 1 and body["results"][0]["title"] == training.title
    detail = client_of(cn_focal).get(f"/api/v1/trainings/{training.pk}").json()
    assert len(detail["sessions"]) == 2 and detail["organizers"] == ["kh-agency-a"]
    assert "trainers" not in detail
    assert client_of(dpo).get("/api/v1/trainings").status_code == 404
    bad = client_of(cn_focal).get("/api/v1/trainings", {"type": "cooking"})
    assert bad.status_code == 400 and "type" in bad.json()["error"]["fields"]


def test_api_participants_for_managers_only(client_of, supervisor_a, caseworker_a, training):
    url = f"/api/v1/trainings/{training.pk}/participants"
    created = client_of(supervisor_a).post(
        url,
        {"full_name": "Wang Li", "agency_name": "MPS", "country": "CN", "pre_score": "40"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["full_name"] == "Wang Li" and created.json()["source"] == "api"
    duplicate = client_of(supervisor_a).post(
        url,
        {"full_name": "wang li", "agency_name": "MPS", "country": "CN"},
        content_type="application/json",
    )
    assert duplicate.status_code == 400 and Participant.objects.count() == 1
    out_of_range = client_of(supervisor_a).post(
        url,
        {"full_name": "Chen", "agency_name": "MPS", "country": "CN", "post_score": "120"},
        content_type="application/json",
    )
    assert out_of_range.status_code == 400
    assert "post_score" in out_of_range.json()["error"]["fields"]
    listed = client_of(supervisor_a).get(url).json()
    assert [p["full_name"] for p in listed["results"]] == ["Wang Li"]
    # A viewer (caseworker) can neither list nor register.
    assert client_of(caseworker_a).get(url).status_code == 404
    assert (
        client_of(caseworker_a)
        .post(url, {"full_name": "X", "agency_name": "A", "country": "CN"})
        .status_code
        == 404
    )
    assert Participant.objects.count() == 1


def test_api_my_certificates_and_indicators(
    client_of, supervisor_a, caseworker_a, colleague_a, training
):
    certificate = certify(
        supervisor_a, training, register(supervisor_a, training, "Sok Dara", user=caseworker_a)
    )
    mine = client_of(caseworker_a).get("/api/v1/training/certificates").json()
    assert [c["id"] for c in mine] == [str(certificate.pk)]
    assert mine[0]["validity"] == "valid" and len(mine[0]["code"]) == 23
    assert client_of(colleague_a).get("/api/v1/training/certificates").json() == []
    values = client_of(caseworker_a).get("/api/v1/training/indicators").json()
    assert values["officials_by_country"] == [{"key": "KH", "label": "KH", "count": 1}]
    assert values["score_improvement"]["participants"] == 1
    assert "Sok Dara" not in str(values)


def test_indicator_page(client_of, supervisor_a, caseworker_a, training):
    certify(supervisor_a, training, register(supervisor_a, training, "Sok Dara", user=caseworker_a))
    page = client_of(caseworker_a).get("/training/indicators/").content.decode()
    assert "Officials trained, by country" in page and "Agency kh-agency-a" in page
    assert "Sok Dara" not in page


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_and_detail_queries_do_not_grow_with_rows(client_of, supervisor_a, training):
    client = client_of(supervisor_a)
    register(supervisor_a, training, "One")
    detail = f"/training/{training.pk}/"
    few_detail, few_list = _queries(client, detail), _queries(client, "/training/")
    for i in range(5):
        register(supervisor_a, training, f"Person {i}")
        make_training(supervisor_a, title=f"Training {i}")
    assert _queries(client, detail) == few_detail
    assert _queries(client, "/training/") == few_list
