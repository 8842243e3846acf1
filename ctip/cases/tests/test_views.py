"""The web pages: screening with the form (drafts by htmx, errors in the user's language),
opening a case, consent, referrals, documents, approvals; and that another agency sees none
of it."""

from __future__ import annotations

import io
import struct

import pytest
from django.test import override_settings

from ctip.audit.models import Action, AuditEvent
from ctip.cases import services
from ctip.cases.models import Case, CaseDocument, Screening
from ctip.cases.tests.conftest import CANARY, VICTIM_ANSWERS
from ctip.cases.tests.test_workflow import make_service

pytestmark = pytest.mark.django_db


def post_answers(client, url, answers, **extra):
    return client.post(url, answers, **extra)


def test_screen_a_person_in_the_browser_with_drafts_and_errors_in_khmer(
    person_a, caseworker_a, client_of
):
    client = client_of(caseworker_a)
    page = client.get(f"/persons/{person_a.pk}/")
    assert "start-screening" in page.content.decode()
    response = client.post(f"/persons/{person_a.pk}/screen/", {"source": "paper"})
    screening = Screening.objects.get()
    assert response.status_code == 302 and screening.source == "paper"
    url = f"/persons/screenings/{screening.pk}/"

    # htmx autosave of a partial draft: only the status and the questions' errors come
    # back (out of band); the form is not replaced while the user types.
    draft = client.post(
        f"{url}draft/",
        {"interview_date": "2026-11-01", "consent_to_interview": "yes", "age_at_screening": "x"},
        HTTP_HX_REQUEST="true",
    )
    html = draft.content.decode()
    assert draft.status_code == 200 and "<form" not in html and "Draft saved at" in html
    assert 'id="draft-status" aria-live="polite" hx-swap-oob="true"' in html
    assert "Enter a whole number." in html  # a type error is reported even in a draft
    page = client.get(url).content.decode()
    assert 'id="section-act"' in page and 'id="section-act" hidden' not in page
    assert "data-relevant=" in page and "screening.js" in page
    screening.refresh_from_db()
    assert services.screening_answers(screening)["consent_to_interview"] == "yes"

    # Submitting an incomplete form in Khmer: field-level errors in Khmer, nothing scored.
    km = client.post(
        f"{url}submit/",
        {"interview_date": "2026-11-01", "consent_to_interview": "yes", "age_at_screening": "x"},
        HTTP_ACCEPT_LANGUAGE="km",
    )
    assert km.status_code == 400
    body = km.content.decode()
    assert "សូមបញ្ចូលចំនួនគត់។" in body and "សំណួរនេះត្រូវតែឆ្លើយ។" in body
    screening.refresh_from_db()
    assert screening.is_draft and screening.result == ""

    answers = dict(VICTIM_ANSWERS)
    ok = client.post(f"{url}submit/", answers)
    assert ok.status_code == 302
    shown = client.get(url).content.decode()
    assert "Victim of trafficking" in shown and "established by" in shown
    screening.refresh_from_db()
    assert screening.result == "victim"

    opened = client.post(
        f"/persons/screenings/{screening.pk}/open-case/", {"track": "cross_border"}
    )
    case = Case.objects.get()
    assert opened.url == f"/persons/cases/{case.pk}/"
    detail = client.get(opened.url).content.decode()
    assert case.reference in detail and "Case opened" in detail and CANARY in detail


def test_other_agency_cannot_read_case_or_screening(case_a, caseworker_b, cn_focal, client_of):
    for outsider in (caseworker_b, cn_focal):
        client = client_of(outsider)
        assert client.get(f"/persons/cases/{case_a.pk}/").status_code == 404
        assert client.get(f"/persons/screenings/{case_a.screening_id}/").status_code == 404
        assert client.post(f"/persons/cases/{case_a.pk}/advance/").status_code == 404
        listing = client.get("/persons/cases/").content.decode()
        assert case_a.reference not in listing and CANARY not in listing
    denial = AuditEvent.objects.filter(action=Action.SECURITY, object_id=str(case_a.pk)).first()
    assert denial.details["event"] == "access_denied"


def test_case_list_search_across_scripts_and_overdue(case_a, caseworker_a, client_of):
    client = client_of(caseworker_a)
    assert case_a.reference in client.post("/persons/cases/", {"q": "Sokha"}).content.decode()
    assert case_a.reference not in client.post("/persons/cases/", {"q": "Dara"}).content.decode()
    assert case_a.reference not in client.get("/persons/cases/overdue/").content.decode()
    Case.objects.filter(pk=case_a.pk).update(stage_due_at="2020-01-01T00:00:00Z")
    assert case_a.reference in client.get("/persons/cases/overdue/").content.decode()


def test_consent_refusal_blocks_the_cross_border_step_in_the_ui(
    case_a, caseworker_a, agency_a, client_of
):
    client = client_of(caseworker_a)
    base = f"/persons/cases/{case_a.pk}/"
    client.post(f"{base}advance/")
    service = make_service(agency_a)
    assert client.post(f"{base}referrals/", {"service": str(service.pk)}).status_code == 302
    refused = client.post(
        f"{base}consents/",
        {
            "decision": "refused",
            "purpose": "nationality_verification",
            "recipient_country": "CN",
            "given_on": "2026-11-01",
            "how_given": "oral",
            "language": "km",
        },
    )
    assert refused.status_code == 302
    page = client.post(f"{base}advance/", follow=True).content.decode()
    assert "refused consent" in page
    case_a.refresh_from_db()
    assert case_a.stage == "protected"


def jpeg_with_gps() -> bytes:
    exif = b"Exif\x00\x00" + b"GPS-CANARY" * 5
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return (
        b"\xff\xd8"
        + app0
        + app1
        + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
        + b"\x11" * 64
        + b"\xff\xd9"
    )


def upload(client, case, name, content, kind="photo"):
    f = io.BytesIO(content)
    f.name = name
    return client.post(f"/persons/cases/{case.pk}/documents/", {"kind": kind, "file": f})


def test_uploads_are_checked_stripped_and_stored_encrypted(
    case_a, caseworker_a, caseworker_b, client_of
):
    client = client_of(caseworker_a)
    wrong = upload(client, case_a, "passport.exe", b"MZ\x90\x00binary")
    assert wrong.status_code == 400 and "Only PDF, JPEG and PNG" in wrong.content.decode()
    disguised = upload(client, case_a, "photo.jpg", b"<html><script>alert(1)</script>")
    assert disguised.status_code == 400 and "does not match its type" in disguised.content.decode()
    polyglot = upload(client, case_a, "p.jpg", b"\xff\xd8\xff\xe0<html><script>x</script>")
    assert polyglot.status_code == 400 and "web page markup" in polyglot.content.decode()
    with override_settings(CTIP_UPLOAD_MAX_BYTES=1024):
        big = upload(client, case_a, "scan.pdf", b"%PDF-1.4\n" + b"0" * 2000)
    assert big.status_code == 400 and "too large" in big.content.decode()
    assert not CaseDocument.objects.exists()

    ok = upload(client, case_a, "Canarysokha passport.jpg", jpeg_with_gps(), kind="passport")
    assert ok.status_code == 302
    document = CaseDocument.objects.get()
    assert b"GPS-CANARY" not in bytes(document.content)  # encrypted
    download = client.get(f"/persons/cases/{case_a.pk}/documents/{document.pk}/")
    body = b"".join(download.streaming_content) if download.streaming else download.content
    assert body.startswith(b"\xff\xd8") and b"GPS-CANARY" not in body  # metadata stripped
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;") and "Canarysokha" not in disposition
    assert case_a.reference in disposition
    assert (
        client_of(caseworker_b)
        .get(f"/persons/cases/{case_a.pk}/documents/{document.pk}/")
        .status_code
        == 404
    )


def test_paper_form_is_bilingual(caseworker_a, client_of):
    client = client_of(caseworker_a)
    km = client.get("/persons/screenings/paper/?pair=km").content.decode()
    assert "ការសម្ភាសន៍" in km and "The interview" in km and "☐" in km
    zh = client.get("/persons/screenings/paper/?pair=zh").content.decode()
    assert "面谈" in zh and "The interview" in zh


def test_import_page_rejects_bad_file_and_names_rows(caseworker_a, client_of):
    client = client_of(caseworker_a)
    f = io.BytesIO(b"ctip_form_version,interview-interview_date\n2026.1,not-a-date\n")
    f.name = "subs.csv"
    response = client.post("/persons/screenings/import/", {"file": f, "dry_run": "on"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "row 1, interview_date: Enter a date as YYYY-MM-DD." in body
    assert not Screening.objects.exists()


def test_approvals_page_break_glass_and_dpo_review(
    case_a, caseworker_a, colleague_a, supervisor_a, dpo, client_of
):
    services.case_set_sealed(user=supervisor_a, case=case_a, sealed=True, reason="child")
    colleague = client_of(colleague_a)
    assert colleague.get(f"/persons/cases/{case_a.pk}/").status_code == 404
    colleague.post(
        "/persons/break-glass/",
        {"case_reference": case_a.reference, "hours": "2", "reason": "medical emergency"},
    )
    supervisor = client_of(supervisor_a)
    page = supervisor.get("/persons/approvals/").content.decode()
    assert "medical emergency" in page
    approval = case_a.approvals.get()
    supervisor.post(f"/persons/approvals/{approval.pk}/decide/", {"decision": "approve"})
    assert colleague.get(f"/persons/cases/{case_a.pk}/").status_code == 200
    review = client_of(dpo).get("/persons/approvals/").content.decode()
    assert case_a.reference in review
    client_of(dpo).post(f"/persons/approvals/{approval.pk}/review/", {"note": "ok"})
    approval.refresh_from_db()
    assert approval.reviewed_by == dpo
    # A caseworker cannot decide
    assert (
        client_of(caseworker_a)
        .post(f"/persons/approvals/{approval.pk}/decide/", {"decision": "approve"})
        .status_code
        == 404
    )


def test_dpo_sees_cases_without_personal_data(case_a, dpo, client_of):
    page = client_of(dpo).get(f"/persons/cases/{case_a.pk}/").content.decode()
    assert case_a.reference in page and CANARY not in page and "សុខា" not in page
    listing = client_of(dpo).get("/persons/cases/").content.decode()
    assert case_a.reference in listing and CANARY not in listing


def test_referral_received_by_the_service_provider(case_a, caseworker_a, caseworker_b, client_of):
    shelter_b = make_service(caseworker_b.agency)
    referral = services.referral_create(user=caseworker_a, case=case_a, service=shelter_b)
    b = client_of(caseworker_b)
    page = b.get("/persons/referrals/").content.decode()
    assert case_a.reference in page and CANARY not in page
    b.post(f"/persons/referrals/{referral.pk}/status/", {"status": "accepted"})
    referral.refresh_from_db()
    assert referral.status == "accepted"
    assert b.get(f"/persons/cases/{case_a.pk}/").status_code == 404


def test_case_page_shows_what_crossed_the_border(case_a, caseworker_a, client_of):
    from ctip.exchange.models import OutboxMessage, Peer

    page = client_of(caseworker_a).get(f"/persons/cases/{case_a.pk}/")
    assert page.status_code == 200
    assert page.context["rows"] == [] and "No messages for this case." in page.content.decode()
    assert not OutboxMessage.objects.exists() and not Peer.objects.exists()


def test_a_name_is_searched_for_only_from_a_post_body(case_a, caseworker_a, client_of):
    """DP-6: a name in a URL stays in browser history, proxy logs and Referer headers. The
    lists ignore ?q=; a search is a POST, and its pages are asked for by POST too."""
    client = client_of(caseworker_a)
    assert case_a.reference in client.get("/persons/cases/", {"q": "Dara"}).content.decode()
    for n in range(30):  # more than a page of persons whose name matches
        services.person_create(
            user=caseworker_a, data=services.PersonInput(name_latin=f"SOKHA TEST{n}")
        )
    page = client.post("/persons/", {"q": "Sokha"}).content.decode()
    assert "SOKHA TEST" in page and 'name="page" value="2"' in page
    assert "?q=" not in page and "Sokha&" not in page
    second = client.post("/persons/", {"q": "Sokha", "page": "2"}).content.decode()
    assert "Page 2 of 2" in second
    # Filters without personal data keep their place in the pages' links.
    listing = client.get("/persons/cases/", {"stage": "identified"}).content.decode()
    assert 'name="q"' in listing and 'method="post"' in listing
