"""Certificates: the printable page (holder and managers only) and the public verification
page (valid, unknown, revoked, expired), which shows nothing but name, title, dates and
validity."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from ctip.audit.models import Action, AuditEvent
from ctip.training import services
from ctip.training.tests.conftest import certify, make_training, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(supervisor_a, caseworker_a, training):
    participant = register(
        supervisor_a,
        training,
        "Sok Dara",
        user=caseworker_a,
        position="Senior social worker",
        contact="dara@example.org",
    )
    return certify(supervisor_a, training, participant)


def verify(code: str):
    return Client().get("/training/verify/", {"code": code})


def test_a_valid_code_shows_name_title_dates_and_validity_only(certificate, training):
    response = verify(services.format_code(certificate.code).lower())
    assert response.status_code == 200
    page = response.content.decode()
    assert "This certificate is valid." in page
    assert "Sok Dara" in page and training.title in page
    assert training.start_date.isoformat() in page and training.end_date.isoformat() in page
    # Nothing else about the holder or the training.
    for secret in ("Senior social worker", "dara@example.org", "caseworker_a", "kh-agency-a"):
        assert secret not in page
    assert "Agency kh-agency-a" not in page and "Phnom Penh" not in page
    # The display of a name to the public is audited (without an actor).
    shown = AuditEvent.objects.filter(action=Action.VIEW, object_id=str(certificate.pk))
    assert shown.get().actor_id is None and shown.get().fields == ["holder_name"]


def test_an_unknown_code_reveals_nothing(certificate):
    wrong = ("0" if certificate.code[0] != "0" else "1") + certificate.code[1:]
    for code in (wrong, "x", "' OR 1=1 --", certificate.code[:-1]):
        page = verify(code).content.decode()
        assert "No certificate has this code." in page
        assert "Sok Dara" not in page
    assert not AuditEvent.objects.filter(action=Action.VIEW).exists()


def test_a_revoked_certificate_verifies_as_revoked(supervisor_a, certificate):
    services.certificate_revoke(user=supervisor_a, certificate=certificate, reason="misconduct")
    page = verify(certificate.code).content.decode()
    assert "This certificate was revoked and is not valid." in page
    assert "This certificate is valid." not in page
    assert "Misconduct" not in page  # the reason stays inside


def test_an_expired_certificate_verifies_as_expired(supervisor_a, caseworker_a):
    training = make_training(supervisor_a, days_ago=800, certificate_valid_months=1)
    participant = register(supervisor_a, training, "Old Timer")
    certificate = certify(supervisor_a, training, participant)
    assert certificate.validity(today=certificate.valid_until + dt.timedelta(days=1)) == "expired"
    # Issued today with one month: still valid today.
    assert "This certificate is valid." in verify(certificate.code).content.decode()


def test_verify_page_without_a_code_shows_the_form():
    response = Client().get("/training/verify/")
    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()
    assert "verify-result" not in response.content.decode()


def test_print_page_for_the_holder_and_the_manager_only(
    client_of, certificate, caseworker_a, supervisor_a, colleague_a, cn_focal, me_officer
):
    url = f"/training/certificates/{certificate.pk}/"
    for user in (caseworker_a, supervisor_a):
        response = client_of(user).get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Sok Dara" in page and services.format_code(certificate.code) in page
        assert "training/certificate.css" in page and "data:image/svg+xml" in page
        assert f"/training/verify/?code={services.format_code(certificate.code)}" in page
    # A colleague of the holder, the other country's officer and a manager of an agency
    # that did not organise the training are all told "not found".
    from ctip.testing import personas

    outsider = personas.make_user("me_b", cn_focal.agency, "me_officer").user
    for user in (colleague_a, cn_focal, outsider):
        assert client_of(user).get(url).status_code == 404
    assert AuditEvent.objects.filter(
        action=Action.SECURITY, actor_username="colleague_a", object_id=str(certificate.pk)
    ).exists()
    views = AuditEvent.objects.filter(action=Action.VIEW, object_id=str(certificate.pk))
    assert set(views.values_list("actor_username", flat=True)) == {"caseworker_a", "supervisor_a"}


def test_my_certificates(client_of, certificate, caseworker_a, colleague_a):
    page = client_of(caseworker_a).get("/training/certificates/").content.decode()
    assert "Sok Dara" in page and f"/training/certificates/{certificate.pk}/" in page
    other = client_of(colleague_a).get("/training/certificates/").content.decode()
    assert "Sok Dara" not in other and "You hold no certificate yet." in other


def test_revoke_through_the_page(client_of, certificate, supervisor_a, caseworker_a):
    url = f"/training/certificates/{certificate.pk}/revoke/"
    assert client_of(caseworker_a).post(url, {"reason": "error"}).status_code == 404
    certificate.refresh_from_db()
    assert not certificate.is_revoked
    response = client_of(supervisor_a).post(url, {"reason": "error"}, follow=True)
    assert "The certificate was revoked." in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.revocation_reason == "error"
