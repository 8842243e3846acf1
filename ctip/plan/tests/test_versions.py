"""Amendments make versions (who, when, why); both parties' endorsements make a version
agreed; any two versions can be compared."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from ctip.accounts.permissions import NotFound
from ctip.audit.models import AuditEvent
from ctip.plan import document, services
from ctip.plan.models import Activity, Endorsement, OpenQuestion, PlanVersion, TimeframeCell

pytestmark = pytest.mark.django_db


@pytest.fixture
def v1():
    return services.plan_load().version


def test_amendments_make_versions_with_who_when_and_why(v1, me_officer):
    doc = document.amend_resolve_question(
        v1.content,
        key="III.4-agencies",
        resolution={"en": "The Ministry of Interior, with the embassies for consular cases"},
        version=2,
    )
    v2 = services.plan_amend(user=me_officer, doc=doc, reason="Agreed at the review", meeting="M1")
    doc3 = document.amend_set_timeframe(
        v2.content, number="V.2", year=2019, note={"en": "Phnom Penh"}
    )
    v3 = services.plan_amend(user=me_officer, doc=doc3, reason="Training moved", meeting="")
    doc4, number = document.amend_add_activity(
        v3.content,
        area="V",
        text={"en": "Train shelter staff on the agreed SOP"},
        result={"en": "Shelter staff trained"},
        agency_keys=["taskforces"],
    )
    v4 = services.plan_amend(user=me_officer, doc=doc4, reason="New need")

    assert [v.number for v in PlanVersion.objects.order_by("number")] == [1, 2, 3, 4]
    assert v2.created_by == me_officer and v2.reason == "Agreed at the review"
    assert v2.created_at is not None and v2.meeting == "M1"
    # The current-plan tables follow the latest version.
    question = OpenQuestion.objects.get(key="III.4-agencies")
    assert question.status == "resolved" and question.resolved_in == 2
    assert TimeframeCell.objects.filter(activity__number="V.2", year=2019).exists()
    assert number == "V.4" and Activity.objects.get(number="V.4").results.count() == 1
    # Who made each version is in the audit log.
    rows = AuditEvent.objects.filter(object_type="plan.planversion", actor_id=me_officer.pk)
    assert rows.count() == 3

    changes = document.compare(v1.content, v4.content)
    where = {(c.kind, c.where) for c in changes}
    assert ("changed", "question III.4-agencies") in where
    assert ("added", "V.2 timeframe 2019") in where
    assert ("added", "V.4") in where
    # Comparing the other way round reads as the reverse.
    back = {(c.kind, c.where) for c in document.compare(v4.content, v1.content)}
    assert ("removed", "V.4") in back and ("removed", "V.2 timeframe 2019") in back
    assert document.compare(v2.content, v2.content) == []


def test_an_amendment_that_changes_nothing_or_has_no_reason_is_refused(v1, me_officer):
    with pytest.raises(services.PlanError, match="changes nothing"):
        services.plan_amend(user=me_officer, doc=v1.content, reason="nothing")
    doc = document.amend_set_timeframe(v1.content, number="V.1", year=2018)
    with pytest.raises(services.PlanError, match="reason"):
        services.plan_amend(user=me_officer, doc=doc, reason=" ")
    assert PlanVersion.objects.count() == 1


def test_only_the_secretariat_amends(v1, supervisor_a, caseworker_a):
    doc = document.amend_set_timeframe(v1.content, number="V.1", year=2018)
    for user in (supervisor_a, caseworker_a):
        with pytest.raises(NotFound):
            services.plan_amend(user=user, doc=doc, reason="try")
    assert PlanVersion.objects.count() == 1


def test_a_version_is_agreed_only_when_both_parties_endorse(v1, me_officer):
    services.endorsement_record(
        user=me_officer,
        version=v1,
        party="KH",
        endorsed_by="Chair, NCCT",
        endorsed_on=date(2017, 11, 15),
        meeting="Joint meeting, Beijing",
    )
    v1.refresh_from_db()
    assert not v1.is_agreed
    with pytest.raises(ValidationError):
        services.endorsement_record(
            user=me_officer,
            version=v1,
            party="KH",
            endorsed_by="Again",
            endorsed_on=date(2017, 11, 15),
            meeting="Joint meeting, Beijing",
        )
    services.endorsement_record(
        user=me_officer,
        version=v1,
        party="CN",
        endorsed_by="Director-General, MPS",
        endorsed_on=date(2017, 11, 16),
        meeting="Joint meeting, Beijing",
    )
    v1 = PlanVersion.objects.get(pk=v1.pk)
    assert v1.is_agreed
    assert Endorsement.objects.filter(version=v1, content_hash=v1.content_hash).count() == 2
    last = AuditEvent.objects.filter(object_type="plan.endorsement").order_by("-seq").first()
    assert last.details == {"version": 1, "party": "CN", "agreed": True}


def test_version_pages_endorse_amend_and_compare(v1, me_officer, cn_focal, client_of):
    client = client_of(me_officer)
    response = client.post(
        "/plan/versions/1/endorse/",
        {
            "party": "KH",
            "endorsed_by": "Chair, NCCT",
            "endorsed_on": "2017-11-15",
            "meeting": "Joint meeting",
        },
    )
    assert response.status_code == 302
    assert Endorsement.objects.filter(version=v1, party="KH", recorded_by=me_officer).exists()
    response = client.post(
        "/plan/versions/amend/",
        {
            "op": "resolve",
            "resolve-question": "IV.4-timeframe-2017",
            "resolve-resolution_en": "2018",
            "resolve-reason": "Settled at the taskforce meeting",
            "resolve-meeting": "Taskforce meeting",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/plan/versions/2/"
    page = client.get("/plan/versions/compare/?a=1&b=2")
    assert page.status_code == 200
    assert "question IV.4-timeframe-2017" in page.content.decode()
    assert "Settled at the taskforce meeting" in client.get("/plan/versions/").content.decode()
    latest = client.get("/plan/versions/2/").content.decode()
    assert "Resolve an open question" in latest and 'id="endorse-form"' in latest
    # A broken amendment is answered with the form and its error, and makes no version.
    bad = client.post("/plan/versions/amend/", {"op": "timeframe", "timeframe-year": "1800"})
    assert bad.status_code == 400 and PlanVersion.objects.count() == 2

    # The other country's focal officer sees the plan, but cannot endorse or amend it.
    other = client_of(cn_focal)
    assert other.get("/plan/versions/2/").status_code == 200
    assert (
        other.post(
            "/plan/versions/2/endorse/",
            {"party": "CN", "endorsed_by": "x", "endorsed_on": "2017-11-15", "meeting": "y"},
        ).status_code
        == 404
    )
    assert not Endorsement.objects.filter(party="CN").exists()
    assert PlanVersion.objects.count() == 2
    assert AuditEvent.objects.filter(actor_id=cn_focal.pk, action="security").exists()
    # Signed out: to the sign-in page.
    assert Client().get("/plan/versions/").status_code == 302
