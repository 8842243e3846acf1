"""DP-5 / SECURITY.md #28: emergency (break-glass) access to a sealed case alerts the data
protection officer at once when it is granted, with references only, and puts it in the
DPO's review queue; a refused request alerts nobody and opens nothing."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import TestCase

from ctip.audit.models import Action, AuditEvent
from ctip.cases import services
from ctip.cases.selectors import access_case, dpo_review_queue
from ctip.testing import personas

pytestmark = pytest.mark.django_db

REASON = "Canaryreason night emergency at the shelter"


@pytest.fixture
def sealed_case(case_a, supervisor_a, dpo):
    dpo.email = "dpo@example.org"
    dpo.save(update_fields=["email"])
    services.case_set_sealed(
        user=supervisor_a, case=case_a, sealed=True, reason="child witness", named_users=[]
    )
    return case_a


def test_granted_break_glass_alerts_the_dpo_with_references_only(
    sealed_case, colleague_a, supervisor_a, dpo, agency_a
):
    # A second DPO without an e-mail address and a caseworker with one: only DPOs with an
    # address are written to.
    personas.make_user("dpo_no_mail", agency_a, "data_protection_officer")
    colleague_a.email = "colleague@example.org"
    colleague_a.save(update_fields=["email"])
    approval = services.break_glass_request(
        user=colleague_a, case_reference=sealed_case.reference, hours=4, reason=REASON
    )
    assert mail.outbox == []  # asking alone opens nothing and alerts nobody yet
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.approval_decide(user=supervisor_a, approval=approval, approve=True)
    approval.refresh_from_db()
    assert access_case(colleague_a, sealed_case.pk) == sealed_case
    assert [m.to for m in mail.outbox] == [["dpo@example.org"]]
    alert = mail.outbox[0]
    assert sealed_case.reference in alert.body and str(approval.pk) in alert.body
    text = alert.subject + alert.body
    assert "Canaryreason" not in text  # the reason stays in the system
    assert "Canarysokha" not in text  # nor the person's name (DP-6)
    assert approval.dpo_alerted_at is not None
    assert list(dpo_review_queue(user=dpo)) == [approval]
    assert AuditEvent.objects.filter(
        action=Action.SECURITY, details__event="break_glass_approved"
    ).exists()


def test_refused_break_glass_alerts_nobody_and_opens_nothing(
    sealed_case, colleague_a, supervisor_a, dpo
):
    approval = services.break_glass_request(
        user=colleague_a, case_reference=sealed_case.reference, hours=2, reason=REASON
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.approval_decide(user=supervisor_a, approval=approval, approve=False)
    approval.refresh_from_db()
    assert mail.outbox == [] and approval.dpo_alerted_at is None
    assert not dpo_review_queue(user=dpo).exists()
    with pytest.raises(services.permissions.NotFound):
        access_case(colleague_a, sealed_case.pk)


@pytest.mark.parametrize("failure", ["no address", "mail server down"])
def test_an_alert_that_cannot_be_sent_is_recorded_not_pretended(
    failure, case_a, colleague_a, supervisor_a, dpo, monkeypatch
):
    services.case_set_sealed(
        user=supervisor_a, case=case_a, sealed=True, reason="child witness", named_users=[]
    )
    if failure == "mail server down":
        dpo.email = "dpo@example.org"
        dpo.save(update_fields=["email"])

        def refuse(*args, **kwargs):
            raise OSError("connection refused")

        from ctip.accounts import alerts

        monkeypatch.setattr(alerts, "send_mail", refuse)
    approval = services.break_glass_request(
        user=colleague_a, case_reference=case_a.reference, hours=2, reason=REASON
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.approval_decide(user=supervisor_a, approval=approval, approve=True)
    approval.refresh_from_db()
    assert approval.dpo_alerted_at is None
    assert list(dpo_review_queue(user=dpo)) == [approval]  # still waits for review
    assert AuditEvent.objects.filter(
        action=Action.SECURITY, details__event="dpo_alert_not_sent", object_id=str(approval.pk)
    ).exists()
