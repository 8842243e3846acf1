"""The common training manual: versions, chapters in three languages, the form and SOP
versions they teach, review by a second person, publication and freezing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from ctip.audit.models import Action, AuditEvent
from ctip.training import selectors, services
from ctip.training.models import Chapter, ManualStatus, ManualVersion

pytestmark = pytest.mark.django_db

FULL = {
    "title_en": "Using the form",
    "body_en": "How to interview.",
    "title_km": "ការប្រើទម្រង់",
    "body_km": "របៀបសម្ភាស។",
    "title_zh_hans": "使用表格",
    "body_zh_hans": "如何面谈。",
}


def make_manual(user, version="2026.1", languages=("en", "km", "zh-hans")):
    return services.manual_create(
        user=user,
        data=services.ManualInput(version=version, title_en="Manual", languages=languages),
    )


def add_chapter(user, manual, number=1, **kwargs):
    return services.chapter_save(
        user=user, manual=manual, data=services.ChapterInput(number=number, **{**FULL, **kwargs})
    )


def test_review_needs_a_second_person_and_every_declared_language(me_officer, supervisor_a):
    manual = make_manual(me_officer)
    with pytest.raises(ValidationError, match="at least one chapter"):
        services.manual_review(user=supervisor_a, manual=manual)
    add_chapter(me_officer, manual, 1, form_version="2026.1", form_sha256="AB" * 32)
    add_chapter(me_officer, manual, 2, title_km="", body_km="", sop_version="2026.1-default")
    with pytest.raises(ValidationError, match="second person"):
        services.manual_review(user=me_officer, manual=manual)
    with pytest.raises(ValidationError, match=r"2 \(km\)"):
        services.manual_review(user=supervisor_a, manual=manual)
    # Declaring fewer languages is a choice the reviewers can make.
    services.manual_update(
        user=me_officer,
        manual=manual,
        data=services.ManualInput(
            version="ignored", title_en="Manual", languages=("en", "zh-hans")
        ),
    )
    services.manual_review(user=supervisor_a, manual=manual)
    with pytest.raises(ValidationError):
        services.manual_review(user=supervisor_a, manual=manual)
    manual = services.manual_publish(user=supervisor_a, manual=manual)
    assert manual.status == ManualStatus.PUBLISHED and manual.published_by == supervisor_a
    assert manual.version == "2026.1"  # the version string is not changed by an update
    statuses = AuditEvent.objects.filter(object_id=str(manual.pk), action=Action.UPDATE)
    assert [e.details.get("status") for e in statuses.order_by("seq")][-2:] == [
        "reviewed",
        "published",
    ]
    chapter = manual.chapters.get(number=1)
    assert chapter.form_sha256 == "ab" * 32  # stored lower-case


def test_a_published_version_is_frozen_and_copied_into_a_new_one(me_officer, supervisor_a):
    manual = make_manual(me_officer)
    chapter = add_chapter(me_officer, manual, form_version="2026.1")
    services.manual_review(user=supervisor_a, manual=manual)
    services.manual_publish(user=supervisor_a, manual=manual)
    with pytest.raises(ValidationError, match="frozen"):
        services.chapter_save(
            user=me_officer,
            manual=manual,
            chapter=chapter,
            data=services.ChapterInput(number=1, title_en="Changed"),
        )
    new = services.manual_new_version(user=me_officer, source=manual, version="2027.1")
    assert new.status == ManualStatus.DRAFT and new.chapters.get().form_version == "2026.1"
    assert Chapter.objects.get(pk=chapter.pk).title_en == "Using the form"
    with pytest.raises(ValidationError):
        services.manual_new_version(user=me_officer, source=manual, version="2027.1")


def test_a_change_after_review_needs_a_new_review(me_officer, supervisor_a):
    manual = make_manual(me_officer)
    chapter = add_chapter(me_officer, manual)
    services.manual_review(user=supervisor_a, manual=manual)
    services.chapter_save(
        user=me_officer,
        manual=manual,
        chapter=chapter,
        data=services.ChapterInput(number=1, **{**FULL, "body_en": "Changed."}),
    )
    manual.refresh_from_db()
    assert manual.status == ManualStatus.DRAFT and manual.reviewed_at is None
    with pytest.raises(ValidationError):
        services.manual_publish(user=supervisor_a, manual=manual)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("form_sha256", "not-a-hash"),
        ("form_version", "2026.1 beta!"),
        ("sop_version", "x" * 41),
    ],
)
def test_version_references_are_checked(me_officer, field, value):
    manual = make_manual(me_officer)
    kwargs = {"form_version": "2026.1"} if field == "form_sha256" else {}
    with pytest.raises(ValidationError) as err:
        add_chapter(me_officer, manual, **{field: value, **kwargs})
    assert field in err.value.message_dict


def test_a_hash_without_a_version_is_refused(me_officer):
    manual = make_manual(me_officer)
    with pytest.raises(ValidationError):
        add_chapter(me_officer, manual, form_sha256="a" * 64)


def test_chapters_teaching_a_form_or_sop_version(me_officer, supervisor_a):
    manual = make_manual(me_officer)
    add_chapter(me_officer, manual, 1, form_version="2026.1")
    add_chapter(me_officer, manual, 2, sop_version="2026.1-default")
    assert not selectors.chapters_teaching(form_version="2026.1").exists()  # not published
    services.manual_review(user=supervisor_a, manual=manual)
    services.manual_publish(user=supervisor_a, manual=manual)
    assert [c.number for c in selectors.chapters_teaching(form_version="2026.1")] == [1]
    assert [c.number for c in selectors.chapters_teaching(sop_version="2026.1-default")] == [2]
    assert not selectors.chapters_teaching().exists()


def test_unknown_languages_are_refused(me_officer):
    with pytest.raises(ValidationError):
        make_manual(me_officer, languages=("fr",))
    with pytest.raises(ValidationError):
        make_manual(me_officer, languages=())


def test_manual_pages_drafts_only_for_managers(
    client_of, me_officer, supervisor_a, caseworker_a, cn_focal
):
    manual = make_manual(me_officer)
    add_chapter(me_officer, manual)
    url = f"/training/manual/{manual.pk}/"
    assert "Using the form" in client_of(me_officer).get(url).content.decode()
    assert client_of(caseworker_a).get(url).status_code == 404
    assert str(manual.pk) not in client_of(caseworker_a).get("/training/manual/").content.decode()

    client = client_of(supervisor_a)
    client.post(f"/training/manual/{manual.pk}/review/")
    client.post(f"/training/manual/{manual.pk}/publish/")
    manual.refresh_from_db()
    assert manual.status == ManualStatus.PUBLISHED
    for user in (caseworker_a, cn_focal):
        page = client_of(user).get(url).content.decode()
        assert "Using the form" in page and "Mark as reviewed" not in page


def test_manual_create_and_chapter_pages(client_of, me_officer, caseworker_a):
    client = client_of(me_officer)
    response = client.post(
        "/training/manual/new/",
        {"version": "2026.2", "title_en": "Manual", "languages": ["en", "km"]},
    )
    manual = ManualVersion.objects.get()
    assert response["Location"] == f"/training/manual/{manual.pk}/"
    assert manual.languages == ["en", "km"]
    response = client.post(
        f"/training/manual/{manual.pk}/chapters/new/",
        {"number": "1", "title_en": "One", "body_en": "Text", "form_version": "2026.1"},
    )
    chapter = manual.chapters.get()
    assert response.status_code == 302 and chapter.form_version == "2026.1"
    page = client.get(f"/training/manual/chapters/{chapter.pk}/")
    assert page.status_code == 200 and "One" in page.content.decode()
    response = client.post(
        f"/training/manual/chapters/{chapter.pk}/", {"number": "1", "form_sha256": "zz"}
    )
    assert response.status_code == 400
    other = client_of(caseworker_a)
    assert (
        other.post(f"/training/manual/{manual.pk}/chapters/new/", {"number": "2"}).status_code
        == 404
    )
    assert manual.chapters.count() == 1
