"""Personal data at rest: encrypted, bound to its row, rotatable, and a lost key is clear."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from ctip.cases.models import Person
from ctip.cases.services import PersonInput, person_create
from ctip.core import crypto
from ctip.core.models import DataKey
from ctip.core.services import keys_rotate

pytestmark = pytest.mark.django_db

CANARY = "Zzcanaryname Qwvx"
CANARY_DOC = "CANARYDOC7731"


@pytest.fixture(autouse=True)
def _own_keyring(tmp_path, settings):
    """Each test works on a copy of the key ring, so rotation does not leak into others."""
    import shutil

    copy = tmp_path / "keys.json"
    shutil.copy(settings.CTIP_KEYRING_FILE, copy)
    settings.CTIP_KEYRING_FILE = str(copy)
    crypto.reset_keyring_cache()
    yield
    crypto.reset_keyring_cache()


def make(caseworker, n=1, **extra):
    return [
        person_create(
            user=caseworker,
            data=PersonInput(
                name_latin=f"{CANARY} {i}", document_number=f"{CANARY_DOC}{i}", **extra
            ),
        )
        for i in range(n)
    ]


def all_text_in_database() -> str:
    """Every value of every column of every table, as the database holds it."""
    chunks = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names():
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.extend(str(value) for row in cur.fetchall() for value in row)
    return "\n".join(chunks)


def test_personal_data_is_not_in_the_database(caseworker_a):
    person = make(caseworker_a)[0]
    dump = all_text_in_database()
    assert CANARY not in dump and CANARY_DOC not in dump
    assert CANARY.casefold() not in dump.casefold()
    raw = Person.objects.values_list("name_latin", flat=True).get(pk=person.pk)
    assert raw.startswith("e1:")
    assert Person.objects.get(pk=person.pk).name_latin == f"{CANARY} 0"


def test_ciphertext_copied_to_another_row_or_field_does_not_decrypt(caseworker_a):
    one, two = make(caseworker_a, 2)
    token = Person.objects.values_list("name_latin", flat=True).get(pk=one.pk)
    table = connection.ops.quote_name(Person._meta.db_table)

    def db_id(person):
        return Person._meta.pk.get_db_prep_value(person.pk, connection)

    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET notes = %s WHERE id = %s", [token, db_id(one)])  # noqa: S608
        cur.execute(f"UPDATE {table} SET name_latin = %s WHERE id = %s", [token, db_id(two)])  # noqa: S608
    with pytest.raises(crypto.DecryptionError, match="notes"):
        _ = Person.objects.get(pk=one.pk).notes
    with pytest.raises(crypto.DecryptionError, match="name_latin"):
        _ = Person.objects.get(pk=two.pk).name_latin


def test_plain_text_cannot_be_written_around_the_field():
    with pytest.raises(ValueError, match="plain text must not reach an encrypted column"):
        Person.objects.update(notes="plain")


def test_key_rotation_keeps_every_value_readable(caseworker_a):
    people = make(caseworker_a, 7)
    old = crypto.get_keyring().active
    result = keys_rotate(batch_size=3)
    assert result.rewrapped == 7 and result.active != old and result.retired == [old]
    crypto.reset_keyring_cache()  # as a new process would
    ring = crypto.get_keyring()
    assert old not in ring.keys
    assert not DataKey.objects.filter(kek_id=old).exists()
    assert sorted(p.name_latin for p in Person.objects.all()) == sorted(
        p.name_latin for p in people
    )


def test_interrupted_rotation_is_finished_by_a_rerun(caseworker_a):
    make(caseworker_a, 4)
    ring = crypto.get_keyring()
    ring.add_key()  # a run that died right after writing the new key ring ...
    first = DataKey.objects.order_by("pk").first()
    first.kek_id, first.wrapped = ring.wrap(first.secret(), first.aad)  # ... and one row
    first.save()
    result = keys_rotate()
    assert result.rewrapped == 3
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {ring.active}
    assert all(p.name_latin.startswith(CANARY) for p in Person.objects.all())


def test_lost_master_key_gives_a_clear_error(caseworker_a):
    person = make(caseworker_a)[0]
    ring = crypto.get_keyring()
    lost = ring.active
    ring.add_key()
    ring.keys.pop(lost)
    ring.save()
    crypto.reset_keyring_cache()
    with pytest.raises(crypto.KeyMissingError, match=f"master key '{lost}' is not in the key ring"):
        _ = Person.objects.get(pk=person.pk).name_latin


def test_wrong_master_key_is_an_error_not_garbage(caseworker_a):
    person = make(caseworker_a)[0]
    ring = crypto.get_keyring()
    ring.keys[ring.active] = bytes(32)
    ring.save()
    crypto.reset_keyring_cache()
    with pytest.raises(crypto.DecryptionError, match="does not decrypt"):
        _ = Person.objects.get(pk=person.pk).name_latin


def test_crypto_shredded_record_is_unreadable(caseworker_a):
    person = make(caseworker_a)[0]
    DataKey.objects.filter(pk=person.data_key_id).update(wrapped="", shredded_at=person.created_at)
    with pytest.raises(crypto.ShreddedError):
        _ = Person.objects.get(pk=person.pk).name_latin
    assert settings.CTIP_NODE == "KH"
