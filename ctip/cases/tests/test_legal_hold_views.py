"""The legal-hold section of the case and person pages (DP-7, docs/retention.md): the holds in
force, "Place a hold" with a reason and "Release", for the roles the retention service
allows (a supervisor or the DPO, on a record they may see), through the same services and
audit rows as ``ctip retention hold/release``.

Attacks: a user who cannot see the record (another agency, even a supervisor there) gets
the one "not found"; a caseworker without the role places and releases nothing; a GET
changes nothing; a POST without the CSRF token is refused; an empty reason is refused
naming the field; a hold already released, or one of another record, is not released."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from ctip.accounts.models import Role
from ctip.audit.models import Action, AuditEvent
from ctip.cases.models import LegalHold
from ctip.cases.retention import legal_hold_place, legal_hold_release
from ctip.core.services import data_keys_shred
from ctip.testing import personas

pytestmark = pytest.mark.django_db

REASON = "Court order 7/2026 Zqhold"


@pytest.fixture
def supervisor_b(agency_b):
    return personas.make_user("supervisor_b", agency_b, Role.SUPERVISOR).user


def place_url(case):
    return reverse("cases:case_hold", args=[case.pk])


def release_url(case, hold):
    return reverse("cases:case_hold_release", args=[case.pk, hold.pk])


def shown(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def holds_in_force():
    return list(LegalHold.objects.filter(released_at__isnull=True))


def hold_rows():
    return list(
        AuditEvent.objects.filter(object_type="cases.legalhold")
        .exclude(action=Action.VIEW)
        .order_by("seq")
        .values_list("action", "actor_username")
    )


def denials(username: str) -> int:
    return AuditEvent.objects.filter(
        action=Action.SECURITY, details__event="access_denied", actor_username=username
    ).count()


# --- placing and releasing ------------------------------------------------------------------


def test_a_supervisor_places_a_hold_from_the_case_page(supervisor_a, case_a, client_of):
    client = client_of(supervisor_a)
    page = client.get(reverse("cases:case_detail", args=[case_a.pk])).content.decode()
    assert 'id="legal-holds"' in page and 'id="place-hold"' in page
    assert f'action="{place_url(case_a)}"' in page

    response = client.post(place_url(case_a), {"reason": f"  {REASON} "})

    assert response.status_code == 302
    assert response.url == reverse("cases:case_detail", args=[case_a.pk])
    assert shown(response) == [
        "Legal hold placed: the retention purge keeps this record until released."
    ]
    (hold,) = holds_in_force()
    assert (hold.case_id, hold.person_id, hold.placed_by) == (case_a.pk, None, supervisor_a)
    assert hold.reason == REASON
    assert hold_rows() == [("create", "supervisor_a")]  # through the service, audited

    page = client.get(reverse("cases:case_detail", args=[case_a.pk])).content.decode()
    assert REASON in page and release_url(case_a, hold) in page
    assert 'id="place-hold"' not in page  # one hold in force per record
    # The reason was shown: that is recorded as a view of the hold's reason.
    assert AuditEvent.objects.filter(
        action=Action.VIEW, object_type="cases.legalhold", object_id=str(hold.pk)
    ).exists()


def test_the_dpo_sees_the_hold_but_not_its_reason_and_may_release_it(
    supervisor_a, dpo, case_a, client_of
):
    hold = legal_hold_place(user=supervisor_a, case=case_a, reason=REASON)
    client = client_of(dpo)
    page = client.get(reverse("cases:case_detail", args=[case_a.pk])).content.decode()
    assert "supervisor_a" in page and release_url(case_a, hold) in page
    assert REASON not in page  # the DPO sees no personal fields; the reason may name people
    assert not AuditEvent.objects.filter(action=Action.VIEW, object_type="cases.legalhold")

    response = client.post(release_url(case_a, hold))

    assert response.status_code == 302 and shown(response) == ["Legal hold released."]
    hold.refresh_from_db()
    assert hold.released_by == dpo and hold.released_at is not None
    assert hold_rows() == [("create", "supervisor_a"), ("update", "dpo")]
    page = client.get(reverse("cases:case_detail", args=[case_a.pk])).content.decode()
    assert "No legal hold in force." in page and 'id="place-hold"' in page


def test_a_hold_on_the_person_from_the_person_page_keeps_the_case_too(
    dpo, case_a, caseworker_a, client_of
):
    person = case_a.person
    client = client_of(dpo)
    response = client.post(reverse("cases:person_hold", args=[person.pk]), {"reason": REASON})
    assert response.status_code == 302
    assert response.url == reverse("cases:person_detail", args=[person.pk])
    (hold,) = holds_in_force()
    assert (hold.person_id, hold.case_id) == (person.pk, None)

    # The case's page says the person's hold keeps the case; the caseworker sees the hold
    # on the person's page, reason included, and no button to release it.
    case_page = client_of(caseworker_a).get(reverse("cases:case_detail", args=[case_a.pk]))
    assert 'id="held-by-other"' in case_page.content.decode()
    person_page = client_of(caseworker_a).get(reverse("cases:person_detail", args=[person.pk]))
    text = person_page.content.decode()
    assert REASON in text and "Place a hold" not in text
    assert reverse("cases:person_hold_release", args=[person.pk, hold.pk]) not in text

    response = client.post(reverse("cases:person_hold_release", args=[person.pk, hold.pk]))
    assert response.status_code == 302 and not holds_in_force()


# --- attacks --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["caseworker_b", "supervisor_b"])
def test_a_user_who_cannot_see_the_case_gets_not_found(
    who, request, supervisor_a, case_a, client_of
):
    user = request.getfixturevalue(who)
    hold = legal_hold_place(user=supervisor_a, case=case_a, reason=REASON)
    client = client_of(user)
    before = hold_rows()

    placed = client.post(place_url(case_a), {"reason": "mine now"})
    released = client.post(release_url(case_a, hold))
    missing = client.post(reverse("cases:case_hold", args=[uuid.uuid4()]), {"reason": "x"})
    person = client.post(reverse("cases:person_hold", args=[case_a.person_id]), {"reason": "x"})

    assert [r.status_code for r in (placed, released, missing, person)] == [404] * 4
    assert placed.content == missing.content  # forbidden and missing look the same
    assert holds_in_force() == [hold] and hold_rows() == before
    assert denials(who) == 4


def test_a_caseworker_without_the_role_can_neither_place_nor_release(
    caseworker_a, supervisor_a, case_a, client_of
):
    client = client_of(caseworker_a)
    page = client.get(reverse("cases:case_detail", args=[case_a.pk])).content.decode()
    assert 'id="legal-holds"' in page and 'id="place-hold"' not in page

    # Refused before the form is read: an empty reason is not even reported.
    for data in ({"reason": "because"}, {"reason": ""}):
        response = client.post(place_url(case_a), data)
        assert response.status_code == 404
    assert not holds_in_force()

    hold = legal_hold_place(user=supervisor_a, case=case_a, reason=REASON)
    assert client.post(release_url(case_a, hold)).status_code == 404
    person = case_a.person
    response = client.post(reverse("cases:person_hold", args=[person.pk]), {"reason": "x"})
    assert response.status_code == 404
    assert holds_in_force() == [hold] and hold_rows() == [("create", "supervisor_a")]
    assert denials("caseworker_a") == 4


def test_a_get_changes_nothing(supervisor_a, case_a, client_of):
    hold_free = client_of(supervisor_a).get(place_url(case_a), {"reason": REASON})
    assert hold_free.status_code == 405 and not holds_in_force()
    hold = legal_hold_place(user=supervisor_a, case=case_a, reason=REASON)
    response = client_of(supervisor_a).get(release_url(case_a, hold))
    assert response.status_code == 405
    assert holds_in_force() == [hold] and hold_rows() == [("create", "supervisor_a")]


def test_the_csrf_token_is_required(supervisor_a, case_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor_a)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = supervisor_a.totpdevice_set.get().persistent_id
    session.save()
    assert client.post(place_url(case_a), {"reason": REASON}).status_code == 403
    assert not holds_in_force()
    # With the page's token it goes through (so the 403 was the CSRF check).
    client.get(reverse("cases:case_detail", args=[case_a.pk]))
    token = client.cookies["csrftoken"].value
    response = client.post(place_url(case_a), {"reason": REASON, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and len(holds_in_force()) == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_empty_reason_is_refused_naming_the_field(reason, supervisor_a, case_a, client_of):
    response = client_of(supervisor_a).post(place_url(case_a), {"reason": reason})

    assert response.status_code == 400
    form = response.context["hold_form"]
    assert form.errors == {"reason": ["Give the reason for the legal hold."]}
    text = response.content.decode()
    assert "Reason for the legal hold" in text and "Give the reason for the legal hold." in text
    assert 'id="hold_reason"' in text  # its own id: other forms of the page have a reason
    assert "<details open>" in text  # the form is shown open, with its error
    assert not holds_in_force() and hold_rows() == []


def test_releasing_a_hold_someone_else_already_released_fails_cleanly(
    supervisor_a, dpo, case_a, client_of
):
    hold = legal_hold_place(user=dpo, case=case_a, reason=REASON)
    legal_hold_release(user=dpo, hold=hold)
    released_at = LegalHold.objects.get(pk=hold.pk).released_at

    response = client_of(supervisor_a).post(release_url(case_a, hold))

    assert response.status_code == 302
    assert response.url == reverse("cases:case_detail", args=[case_a.pk])
    assert shown(response) == ["This legal hold was already released."]
    hold.refresh_from_db()
    assert (hold.released_by, hold.released_at) == (dpo, released_at)
    assert hold_rows() == [("create", "dpo"), ("update", "dpo")]


def test_a_hold_of_another_record_is_not_released_through_this_one(
    supervisor_a, caseworker_a, case_a, person_a, client_of
):
    from ctip.cases.services import PersonInput, person_create

    other = person_create(user=caseworker_a, data=PersonInput(name_latin="Other Zqhold"))
    hold = legal_hold_place(user=supervisor_a, person=other, reason=REASON)
    client = client_of(supervisor_a)
    assert client.post(release_url(case_a, hold)).status_code == 404
    url = reverse("cases:person_hold_release", args=[person_a.pk, hold.pk])
    assert client.post(url).status_code == 404
    assert holds_in_force() == [hold] and denials("supervisor_a") == 2


def test_a_second_hold_and_a_hold_on_an_erased_record_are_refused(
    supervisor_a, caseworker_a, dpo, case_a, client_of
):
    from ctip.cases.retention import retention_purge
    from ctip.cases.services import PersonInput, person_create

    legal_hold_place(user=dpo, case=case_a, reason=REASON)
    response = client_of(supervisor_a).post(place_url(case_a), {"reason": "again"})
    assert response.status_code == 400
    assert response.context["hold_form"].non_field_errors() == [
        "This record is already under a legal hold."
    ]
    assert len(holds_in_force()) == 1

    # Erased by another route (a restore with --allow-shredded), then the purge's erasure.
    person = person_create(user=caseworker_a, data=PersonInput(name_latin="Gone Zqhold"))
    data_keys_shred(key_ids=[person.data_key_id])
    assert retention_purge(apply=True).records_erased == 1
    url = reverse("cases:person_hold", args=[person.pk])
    page = client_of(supervisor_a).get(reverse("cases:person_detail", args=[person.pk]))
    assert 'id="place-hold"' not in page.content.decode()
    response = client_of(supervisor_a).post(url, {"reason": "too late"})
    assert response.status_code == 400
    assert response.context["hold_form"].non_field_errors() == [
        "This record was erased at the end of its retention."
    ]
    assert "This record was erased at the end of its retention." in response.content.decode()
    assert len(holds_in_force()) == 1
