"""Crypto-shredding (DP-7, security matrix #36): ``data_keys_shred`` is the one function that
destroys data keys; the retention purge and a restore with ``--allow-shredded`` use it."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from ctip.cases.models import Person
from ctip.cases.services import PersonInput, person_create
from ctip.core import crypto
from ctip.core.models import DataKey
from ctip.core.services import data_keys_shred

pytestmark = pytest.mark.django_db


def _person(user, name):
    return person_create(user=user, data=PersonInput(name_latin=name))


def test_a_shredded_key_no_longer_decrypts_and_the_others_still_do(caseworker_a):
    gone, kept = _person(caseworker_a, "Shredme Qvx"), _person(caseworker_a, "Keepme Qvx")
    assert Person.objects.get(pk=gone.pk).name_latin == "Shredme Qvx"
    now = timezone.now()

    shredded = data_keys_shred(key_ids=[gone.data_key_id], now=now)

    assert shredded == [gone.data_key_id]
    key = DataKey.objects.get(pk=gone.data_key_id)
    assert key.wrapped == "" and key.shredded_at == now
    with pytest.raises(crypto.ShreddedError):
        key.secret()
    with pytest.raises(crypto.ShreddedError):
        _ = Person.objects.get(pk=gone.pk).name_latin
    assert Person.objects.get(pk=kept.pk).name_latin == "Keepme Qvx"
    assert DataKey.objects.get(pk=kept.data_key_id).shredded_at is None


def test_shredding_twice_is_a_no_op_that_reports_nothing(caseworker_a):
    person = _person(caseworker_a, "Twice Qvx")
    first = timezone.now()
    assert data_keys_shred(key_ids=[person.data_key_id], now=first) == [person.data_key_id]

    again = data_keys_shred(key_ids=[person.data_key_id, str(person.data_key_id)])

    assert again == []
    # The first shredding's time stays: the second call changed nothing.
    assert DataKey.objects.get(pk=person.data_key_id).shredded_at == first


def test_shredding_in_bulk_reports_only_what_it_destroyed(caseworker_a, monkeypatch):
    from ctip.core import services

    monkeypatch.setattr(services, "_SHRED_CHUNK", 2)  # several statements
    people = [_person(caseworker_a, f"Bulk {i} Qvx") for i in range(5)]
    keys = [p.data_key_id for p in people]
    data_keys_shred(key_ids=keys[:1])
    nowhere = uuid.UUID(int=7)

    shredded = data_keys_shred(key_ids=[*keys, keys[2], nowhere])

    # Sorted, each once; the one shredded before and the id of no key are not reported.
    assert shredded == sorted(keys[1:], key=str)
    assert DataKey.objects.filter(pk__in=keys, shredded_at__isnull=True).count() == 0
    assert DataKey.objects.filter(pk__in=keys).exclude(wrapped="").count() == 0
    assert data_keys_shred(key_ids=[]) == []
