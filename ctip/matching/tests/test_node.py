"""Matching in the node: candidates for new persons, the sweep, the review queue (both
records side by side, only visible fields, audited), merge and unmerge losing nothing,
merges refused across what the user may see, and the ``match file`` command."""

from __future__ import annotations

import csv

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from ctip.audit.models import AuditEvent
from ctip.cases.models import Person
from ctip.cases.services import PersonInput, person_create
from ctip.matching import services
from ctip.matching.models import CandidateStatus, MatchCandidate, PersonLink

pytestmark = pytest.mark.django_db(transaction=False)

SOKHA = {"name_km": "សុខា ចាន់", "sex": "female", "age_estimate": 24, "nationality": "KH"}
PASSPORT = {
    "name_latin": "CHAN SOKHA",
    "sex": "female",
    "birth_year": 2001,
    "birth_month": 3,
    "birth_day": 14,
    "nationality": "KH",
}
INTAKE = {"name_latin": "Sokhar Chan", "sex": "female", "birth_year": 2001, "nationality": "KH"}
OTHER = {"name_latin": "LONG SREYMOM", "sex": "female", "birth_year": 1990}


def make(user, data) -> Person:
    person = person_create(user=user, data=PersonInput(**data))
    services.candidates_for_person(person_id=person.pk)
    return person


@pytest.fixture
def trio(caseworker_a):
    a, b = make(caseworker_a, SOKHA), make(caseworker_a, PASSPORT)
    c = make(caseworker_a, INTAKE)
    make(caseworker_a, OTHER)
    return a, b, c


def test_new_persons_get_candidates_with_evidence(trio):
    a, b, c = trio
    pairs = {frozenset((str(x.left_id), str(x.right_id))) for x in MatchCandidate.objects.all()}
    assert frozenset((str(a.pk), str(b.pk))) in pairs
    assert frozenset((str(b.pk), str(c.pk))) in pairs
    assert len(pairs) == 3  # the fourth woman is nobody's duplicate
    candidate = MatchCandidate.objects.get(
        left=min(a, b, key=lambda p: str(p.pk)), right=max(a, b, key=lambda p: str(p.pk))
    )
    fields = [e[0] for e in candidate.evidence]
    assert fields[:2] == ["name", "birth"]
    assert candidate.evidence[0][1] == "every name part agrees"
    # No names in the evidence or the audit details.
    assert "SOKHA" not in str(candidate.evidence).upper()
    details = " ".join(str(e.details) for e in AuditEvent.objects.all())
    assert "sokha" not in details.lower() and "សុខា" not in details


def test_sweep_trains_and_offers_nothing_twice(trio):
    before = MatchCandidate.objects.count()
    report = services.matching_sweep()
    assert report["records"] == 4
    assert MatchCandidate.objects.count() == before  # already offered
    from ctip.matching.models import TrainedModel

    assert TrainedModel.objects.count() == 1


def test_review_shows_both_records_and_audits(trio, caseworker_a, client_of):
    client = client_of(caseworker_a)
    queue = client.get("/matching/")
    assert queue.status_code == 200
    candidate = MatchCandidate.objects.first()
    assert candidate.left.reference in queue.content.decode()
    page = client.get(f"/matching/candidates/{candidate.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert candidate.left.reference in body and candidate.right.reference in body
    assert "every name part agrees" in body
    views = AuditEvent.objects.filter(action="view", object_type="cases.person")
    assert {e.object_id for e in views} >= {str(candidate.left_id), str(candidate.right_id)}


def test_other_agency_and_roles_cannot_see_the_candidate(
    trio, caseworker_b, cn_focal, me_officer, client_of
):
    candidate = MatchCandidate.objects.first()
    for outsider in (caseworker_b, cn_focal, me_officer):
        client = client_of(outsider)
        assert client.get(f"/matching/candidates/{candidate.pk}/").status_code == 404
        response = client.post(
            f"/matching/candidates/{candidate.pk}/decide/", {"decision": "confirmed"}
        )
        assert response.status_code == 404
        queue = client.get("/matching/")
        assert queue.status_code in (200, 404)
        assert candidate.left.reference not in queue.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.OPEN


def test_confirm_merges_and_unmerge_loses_nothing(trio, caseworker_a, client_of):
    a, b, c = trio
    snapshot = {
        p.pk: (p.name_km, p.name_latin, p.birth_year, p.age_estimate, p.sex)
        for p in Person.objects.all()
    }
    client = client_of(caseworker_a)
    ab = MatchCandidate.objects.get(left__in=[a, b], right__in=[a, b])
    bc = MatchCandidate.objects.get(left__in=[b, c], right__in=[b, c])
    assert (
        client.post(f"/matching/candidates/{ab.pk}/decide/", {"decision": "confirmed"}).status_code
        == 302
    )
    assert (
        client.post(f"/matching/candidates/{bc.pk}/decide/", {"decision": "confirmed"}).status_code
        == 302
    )
    clusters = set(
        PersonLink.objects.filter(unlinked_at__isnull=True).values_list("cluster", flat=True)
    )
    assert len(clusters) == 1
    assert sorted(services.cluster_members(a.pk)) == sorted(str(p.pk) for p in (a, b, c))
    # Take b out: a and c stay together, b keeps its history.
    assert client.post(f"/matching/persons/{b.pk}/unmerge/").status_code == 302
    assert sorted(services.cluster_members(a.pk)) == sorted([str(a.pk), str(c.pk)])
    assert services.cluster_members(b.pk) == [str(b.pk)]
    assert PersonLink.objects.filter(person=b, unlinked_at__isnull=False).count() == 1
    history = client.get(f"/matching/persons/{b.pk}/").content.decode()
    assert b.reference in history and "caseworker_a" in history
    # Nothing lost: every person row is unchanged.
    after = {
        p.pk: (p.name_km, p.name_latin, p.birth_year, p.age_estimate, p.sex)
        for p in Person.objects.all()
    }
    assert after == snapshot
    assert AuditEvent.objects.filter(object_type="matching.cluster").count() == 3


def test_merge_refused_when_the_user_cannot_see_both(trio, caseworker_a, caseworker_b):
    a, *_ = trio
    theirs = person_create(user=caseworker_b, data=PersonInput(**PASSPORT))
    from ctip.accounts.permissions import NotFound

    with pytest.raises(NotFound):
        services.person_merge(user=caseworker_a, left=a, right=theirs)
    with pytest.raises(NotFound):
        services.person_merge(user=caseworker_b, left=theirs, right=a)
    assert not PersonLink.objects.exists()
    # Each refusal is logged as a security event (and not rolled back with the refusal).
    denied = AuditEvent.objects.filter(details__event="access_denied", object_id=str(theirs.pk))
    assert denied.count() >= 1
    denied_a = AuditEvent.objects.filter(details__event="access_denied", object_id=str(a.pk))
    assert denied_a.count() >= 1
    # A candidate across agencies is offered to nobody who cannot see both.
    candidate = MatchCandidate.objects.filter(left__in=[a, theirs], right__in=[a, theirs]).first()
    if candidate is not None:
        with pytest.raises(NotFound):
            services.candidate_decide(user=caseworker_a, candidate=candidate, decision="confirmed")


def test_reject_and_not_sure(trio, caseworker_a):
    candidate = MatchCandidate.objects.first()
    services.candidate_decide(user=caseworker_a, candidate=candidate, decision="unsure")
    candidate.refresh_from_db()
    assert candidate.status == "unsure" and candidate.decided_by == caseworker_a
    services.candidate_decide(user=caseworker_a, candidate=candidate, decision="rejected")
    assert not PersonLink.objects.exists()


def test_a_merged_pair_is_not_rejected_behind_the_merge(trio, caseworker_a):
    candidate = MatchCandidate.objects.first()
    services.candidate_decide(user=caseworker_a, candidate=candidate, decision="confirmed")
    left = Person.objects.get(pk=candidate.left_id)
    for decision in ("rejected", "unsure"):
        with pytest.raises(services.MergeRefused, match="take one out"):
            services.candidate_decide(user=caseworker_a, candidate=candidate, decision=decision)
    candidate.refresh_from_db()
    assert candidate.status == "confirmed"
    assert str(candidate.right_id) in services.cluster_members(left.pk)
    # Once the merge is undone (with its history), the pair may be decided again.
    services.person_unmerge(user=caseworker_a, person=left)
    services.candidate_decide(user=caseworker_a, candidate=candidate, decision="rejected")
    candidate.refresh_from_db()
    assert candidate.status == "rejected"
    with pytest.raises(ValidationError, match="same person, different people"):
        services.candidate_decide(user=caseworker_a, candidate=candidate, decision="merge!")


# --- the command ---------------------------------------------------------------------------


def test_match_file_command(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(
        "record_id,source,name_original,name_latin,sex,birth_date,age_at_record,nationality,"
        "origin_place,record_date\n"
        "1,family,សុខា ចាន់,,F,,24,KH,,2025-01-10\n"
        "2,passport,,CHAN SOKHA,F,14/03/2001,,KHM,,\n"
        "3,police,索卡·占,,女,,24,柬埔寨,,2025-03-01\n"
        "4,shelter,,LONG SREYMOM,F,unknown,,,Atlantis,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    from io import StringIO

    stdout = StringIO()
    call_command("match", "file", str(src), "--output", str(out), stdout=stdout)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["record_id"] for r in rows] == ["1", "2", "3", "4"]
    assert len({r["cluster_id"] for r in rows}) >= 2
    assert "1 birth_date" in stdout.getvalue() and "line 5 birth_date" in stdout.getvalue()
    assert "1 origin_place values name no reference place" in stdout.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id,name_latin\n1,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 1: missing column"):
        call_command("match", "file", str(bad), "--output", str(out))
    with pytest.raises(CommandError, match="--workers: must be 1 or more"):
        call_command("match", "file", str(src), "--output", str(out), "--workers", "0")
    call_command("match", "file", str(src), "--output", str(out), "--workers", "2", stdout=stdout)
    assert list(csv.DictReader(out.open(encoding="utf-8"))) == rows


def test_new_person_is_checked_in_the_background(caseworker_a, django_capture_on_commit_callbacks):
    from huey.contrib.djhuey import HUEY

    from ctip.matching.tasks import nightly_sweep

    make(caseworker_a, PASSPORT)
    assert not MatchCandidate.objects.exists()
    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            person_create(user=caseworker_a, data=PersonInput(**INTAKE))
    finally:
        HUEY.immediate = False
    assert MatchCandidate.objects.filter(found_by="new_person").count() == 1
    # The sweep is a periodic huey task, due at 02:30 and not at noon.
    import datetime as dt

    check = nightly_sweep.task_class().validate_datetime
    night, noon = (dt.datetime(2026, 1, 5, h, m, tzinfo=dt.UTC) for h, m in ((2, 30), (12, 0)))
    assert check(night) and not check(noon)


def test_a_crypto_shredded_person_is_left_out(caseworker_a):
    from django.utils import timezone

    from ctip.core.models import DataKey

    gone = make(caseworker_a, PASSPORT)
    DataKey.objects.filter(pk=gone.data_key_id).update(shredded_at=timezone.now(), wrapped="")
    person = make(caseworker_a, INTAKE)
    assert not MatchCandidate.objects.filter(left__in=[gone, person], right__in=[gone, person])
    assert services.matching_sweep()["records"] == 1


def test_every_field_and_level_of_the_engine_has_a_translatable_label():
    from ctip.matching.core.engine import EXTRA_LEVELS, FIELD_LEVELS
    from ctip.matching.views import FIELD_NAMES, LEVEL_TEXT

    labels = {label for levels in FIELD_LEVELS.values() for label in levels}
    assert (labels | set(EXTRA_LEVELS)) - set(LEVEL_TEXT) == set()
    assert set(FIELD_LEVELS) - set(FIELD_NAMES) == set()


def test_every_identity_purpose_and_refusal_code_has_a_translatable_label():
    from ctip.matching import xborder
    from ctip.matching.views import PURPOSE_TEXT, REFUSAL_TEXT

    assert set(xborder.IDENTITY_PURPOSES) == set(PURPOSE_TEXT)
    assert set(xborder.REFUSALS) == set(REFUSAL_TEXT)


def test_the_place_of_origin_is_evidence(caseworker_a):
    # The reference place chosen on one record, the place as written on the other.
    a = make(caseworker_a, {**SOKHA, "origin_code": "KH-1407"})
    b = make(caseworker_a, {**PASSPORT, "place_of_origin": "Prey Veng province"})
    c = make(caseworker_a, {**INTAKE, "place_of_origin": "Kampot"})
    assert services.person_place(a) == ("KH-14", "KH-1407")
    assert services.person_place(b) == ("KH-14",)
    assert services.person_place(make(caseworker_a, OTHER)) == ()

    def evidence(x, y):
        left, right = sorted((x, y), key=lambda p: str(p.pk))
        found = MatchCandidate.objects.get(left=left, right=right).evidence
        return {field: (level, weight) for field, level, weight in found}

    same, other = evidence(a, b)["place"], evidence(b, c)["place"]
    assert same[0] == "same province" and same[1] > 0
    assert other[0] == "different provinces" and other[1] < 0


def test_the_persons_record_links_to_its_matching_page_for_those_who_may_use_it(
    caseworker_a, dpo, client_of
):
    from django.urls import reverse

    person = make(caseworker_a, PASSPORT)
    target = reverse("matching:person", args=[person.pk])
    page = client_of(caseworker_a).get(reverse("cases:person_detail", args=[person.pk]))
    assert page.status_code == 200 and target in page.content.decode()
    # A role without the matching right sees the record without the link.
    other = client_of(dpo).get(reverse("cases:person_detail", args=[person.pk]))
    assert other.status_code == 200 and target not in other.content.decode()


def test_pages_about_a_crypto_shredded_person_still_open(trio, caseworker_a, client_of):
    from django.utils import timezone

    from ctip.core.models import DataKey

    a, b, _ = trio
    candidate = MatchCandidate.objects.get(
        left=min(a, b, key=lambda p: str(p.pk)), right=max(a, b, key=lambda p: str(p.pk))
    )
    services.candidate_decide(user=caseworker_a, candidate=candidate, decision="confirmed")
    DataKey.objects.filter(pk=b.data_key_id).update(shredded_at=timezone.now(), wrapped="")
    client = client_of(caseworker_a)
    detail = client.get(f"/matching/candidates/{candidate.pk}/")
    assert detail.status_code == 200 and "(erased)" in detail.content.decode()
    history = client.get(f"/matching/persons/{a.pk}/")
    assert history.status_code == 200 and b.reference in history.content.decode()
    # The retention purge also blanks the ciphertext under a destroyed key: still "(erased)",
    # not an empty cell.
    from ctip.cases.retention import _erase_under_shredded_keys

    assert _erase_under_shredded_keys() > 0
    detail = client.get(f"/matching/candidates/{candidate.pk}/")
    assert detail.status_code == 200 and "(erased)" in detail.content.decode()


def test_an_edited_person_is_checked_again(
    caseworker_a, supervisor_a, django_capture_on_commit_callbacks
):
    from huey.contrib.djhuey import HUEY

    from ctip.cases.services import person_set_sealed, person_update
    from ctip.matching.models import PersonKey

    passport = make(caseworker_a, PASSPORT)
    other = make(caseworker_a, OTHER)
    keys_before = set(PersonKey.objects.filter(person=other).values_list("token", flat=True))
    assert not MatchCandidate.objects.exists()
    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True) as queued:
            # The name was mistyped at intake: corrected, it is the passport holder's.
            person_update(
                user=caseworker_a,
                person=other,
                data=PersonInput(**{**OTHER, **INTAKE, "name_latin": "Sokhar Chan"}),
            )
        assert len(queued) == 1
        with django_capture_on_commit_callbacks(execute=True) as queued:
            person_set_sealed(
                user=supervisor_a, person=passport, sealed=True, reason="a witness in a trial"
            )
        assert queued == []  # a save touching no compared field queues nothing
    finally:
        HUEY.immediate = False
    found = MatchCandidate.objects.get()
    assert {found.left_id, found.right_id} == {passport.pk, other.pk}
    keys_after = set(PersonKey.objects.filter(person=other).values_list("token", flat=True))
    assert keys_after and keys_after != keys_before
