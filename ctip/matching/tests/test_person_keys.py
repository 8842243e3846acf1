"""A new person's candidates are found through the stored blocking keys: the same
candidates as comparing with everyone, but only the persons sharing a key are decrypted."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ctip.cases.models import Person
from ctip.cases.services import PersonInput, person_create
from ctip.core.models import DataKey
from ctip.matching import services
from ctip.matching.core.engine import candidate_pairs, compare_pair, prepare
from ctip.matching.models import MatchCandidate, PersonKey

pytestmark = pytest.mark.django_db(transaction=False)

PEOPLE = [
    {"name_km": "សុខា ចាន់", "sex": "female", "age_estimate": 24, "nationality": "KH"},
    {"name_latin": "CHAN SOKHA", "sex": "female", "birth_year": 2001, "birth_month": 3,
     "birth_day": 14},
    {"name_latin": "Sokhar Chan", "sex": "female", "birth_year": 2001},
    {"name_zh": "索卡·占", "sex": "female", "age_estimate": 25},
    {"name_latin": "LONG SREYMOM", "sex": "female", "birth_year": 1990},
    {"name_latin": "Sreymom Long", "sex": "female", "birth_year": 1990, "birth_month": 6},
    {"name_latin": "KEO VUTHY", "sex": "male", "birth_year": 1983, "birth_month": 5,
     "birth_day": 10},
    {"name_latin": "Heng Dara", "sex": "male", "birth_year": 1979},
]  # fmt: skip


def create(user, data) -> Person:
    return person_create(user=user, data=PersonInput(**data))


def full_scan(person) -> set[frozenset[str]]:
    """What the search found before the key table: every unsealed person compared."""
    records = [r for _, r in services.readable_records(Person.objects.filter(sealed=False))]
    feats = prepare(records, services.CONFIG)
    index = next(i for i, f in enumerate(feats) if f.id == str(person.pk))
    model = services.current_model()
    found = set()
    for i, j in candidate_pairs(feats, services.CONFIG):
        if index in (i, j):
            p = model.probability(compare_pair(feats[i], feats[j], model.fields))
            if p >= services.CONFIG.review_probability:
                found.add(frozenset((feats[i].id, feats[j].id)))
    return found


def test_the_keys_find_what_comparing_with_everyone_finds(caseworker_a):
    for data in PEOPLE:
        person = create(caseworker_a, data)
        expected = full_scan(person)
        found = services.candidates_for_person(person_id=person.pk)
        assert {frozenset((str(c.left_id), str(c.right_id))) for c in found} == expected
    assert MatchCandidate.objects.count() >= 4  # Sokha's four records and Sreymom's two


def test_only_persons_sharing_a_key_are_decrypted(caseworker_a, monkeypatch):
    strangers = [create(caseworker_a, d) for d in PEOPLE[4:]]
    sokha = create(caseworker_a, PEOPLE[1])
    services.candidates_for_person(person_id=sokha.pk)  # keys every person once
    read: list[str] = []
    real = services.readable_records

    def counting(persons):
        persons = list(persons)
        read.extend(str(p.pk) for p in persons)
        return real(persons)

    monkeypatch.setattr(services, "readable_records", counting)
    intake = create(caseworker_a, PEOPLE[2])
    found = services.candidates_for_person(person_id=intake.pk)
    assert {str(c.left_id) for c in found} | {str(c.right_id) for c in found} == {
        str(sokha.pk),
        str(intake.pk),
    }
    assert str(sokha.pk) in read
    assert not {str(p.pk) for p in strangers} & set(read)


def test_keys_are_keyed_tokens_not_names(caseworker_a):
    person = create(caseworker_a, PEOPLE[1])
    services.candidates_for_person(person_id=person.pk)
    tokens = list(PersonKey.objects.filter(person=person).values_list("token", flat=True))
    assert len(tokens) > 3
    assert all(len(t) == 32 and "sok" not in t and "chan" not in t for t in tokens)


def test_a_key_shared_by_too_many_is_skipped(caseworker_a, monkeypatch):
    twins = [create(caseworker_a, PEOPLE[1]) for _ in range(3)]
    services.candidates_for_person(person_id=twins[0].pk)
    monkeypatch.setattr(services, "block_limit", lambda rule, config=None: 3)
    fourth = create(caseworker_a, PEOPLE[1])
    # Every key is shared by four persons: above the limit, as the engine skips such blocks.
    assert services.candidates_for_person(person_id=fourth.pk) == []
    monkeypatch.setattr(services, "block_limit", lambda rule, config=None: 4)
    assert len(services.candidates_for_person(person_id=fourth.pk)) == 3


def test_unkeyed_and_unreadable_persons_are_keyed_once(caseworker_a):
    older = create(caseworker_a, PEOPLE[4])
    PersonKey.objects.all().delete()  # as before the key table
    shredded = create(caseworker_a, PEOPLE[6])
    DataKey.objects.filter(pk=shredded.data_key_id).update(shredded_at=timezone.now(), wrapped="")
    newer = create(caseworker_a, PEOPLE[5])
    found = services.candidates_for_person(person_id=newer.pk)
    assert [{c.left_id, c.right_id} for c in found] == [{older.pk, newer.pk}]
    assert PersonKey.objects.filter(person=older).exclude(token=services.NO_KEYS).exists()
    # The shredded person is marked as having no keys: not read again by the next search.
    assert list(PersonKey.objects.filter(person=shredded).values_list("token", flat=True)) == [
        services.NO_KEYS
    ]


def test_the_sweep_stores_every_persons_keys_afresh(caseworker_a):
    persons = [create(caseworker_a, d) for d in PEOPLE[:3]]
    PersonKey.objects.all().delete()
    services.matching_sweep()
    for person in persons:
        assert PersonKey.objects.filter(person=person).exclude(token=services.NO_KEYS).exists()
