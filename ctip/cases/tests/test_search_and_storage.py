"""Finding a person across scripts through keyed tokens, and what is (not) in the database."""

from __future__ import annotations

import pytest
from django.db import connection

from ctip.cases.models import Person
from ctip.cases.selectors import person_list
from ctip.cases.services import PersonInput, case_add_note, person_create
from ctip.cases.tests.conftest import api_for

pytestmark = pytest.mark.django_db

PEOPLE = [
    PersonInput(name_km="សុខា ចាន់", sex="female"),  # Chan Sokha, written in Khmer only
    PersonInput(name_zh="王小明", sex="male"),  # Wang Xiaoming, in Chinese only
    PersonInput(name_latin="MAO SREYLEAK", sex="female"),
    PersonInput(name_zh="索卡·占", sex="female"),  # a Chinese police record of a Cambodian
    PersonInput(name_km="ដារា សុខ", sex="male"),
]


@pytest.fixture
def people(caseworker_a):
    return [person_create(user=caseworker_a, data=p) for p in PEOPLE]


def found(user, query) -> set[str]:
    return {p.name_km or p.name_zh or p.name_latin for p in person_list(user=user, query=query)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Sokha", {"សុខា ចាន់", "索卡·占"}),  # Latin finds Khmer script and Chinese transcription
        ("sokhar chan", {"សុខា ចាន់", "索卡·占"}),  # a shelter-intake spelling
        ("wang", {"王小明"}),  # pinyin finds hanzi
        ("Wang Xiaoming", {"王小明"}),
        ("ming", {"王小明"}),
        ("王", {"王小明"}),
        ("Sreyleak", {"MAO SREYLEAK"}),
        ("ស្រីល័ក្ខ", {"MAO SREYLEAK"}),  # Khmer script finds the passport spelling
        ("Dara", {"ដារា សុខ"}),
        ("nobody", set()),
    ],
)
def test_cross_script_search(people, caseworker_a, query, expected):
    assert found(caseworker_a, query) == expected


def test_search_respects_agencies_and_needs_personal_data_access(people, caseworker_b, dpo):
    assert found(caseworker_b, "Sokha") == set()
    assert found(dpo, "Sokha") == set()


def test_tokens_are_keyed_not_readable(people):
    tokens = Person.objects.get(pk=people[0].pk).search_tokens
    assert "sokha" not in tokens and "soka" not in tokens and "សុខា" not in tokens
    assert len(tokens.split()) >= 4


def test_api_search_by_name_in_another_script(people, caseworker_a):
    answer = api_for(caseworker_a).post("/api/v1/persons/search", {"q": "wang"}, format="json")
    hits = answer.json()["results"]
    assert [h["name_zh"] for h in hits] == ["王小明"]


def test_no_name_in_a_plain_dump_of_the_database(caseworker_a):
    """Every row of every table, read as text (what a stolen dump shows)."""
    from ctip.cases.services import case_open, screening_start, screening_submit
    from ctip.cases.tests.conftest import VICTIM_ANSWERS

    canary_latin, canary_km = "Qzcanaryvannak", "វណ្ណាក្ស"
    person = person_create(
        user=caseworker_a,
        data=PersonInput(
            name_latin=f"{canary_latin} Srey",
            name_km=canary_km,
            document_number="QZ123987",
            sex="female",
        ),
    )
    screening = screening_start(user=caseworker_a, person=person)
    screening_submit(
        user=caseworker_a,
        screening=screening,
        raw={**VICTIM_ANSWERS, "screener_notes": f"said her name is {canary_latin}"},
    )
    case = case_open(user=caseworker_a, person=person, screening=screening, track="in_country")
    case_add_note(user=caseworker_a, case=case, text=f"{canary_latin} called her mother")
    blob = _dump().lower()
    assert b"screening" in blob and len(blob) > 10_000
    for needle in (canary_latin.lower().encode(), canary_km.encode(), b"qz123987"):
        assert needle not in blob, needle


@pytest.mark.slow
def test_the_database_file_of_a_node_does_not_contain_names(tmp_path):
    """A real node home: ``ctip init`` + the demo data (persons and cases in three scripts),
    then the SQLite file itself is searched byte by byte."""
    from ctip.core.demo import PERSONS
    from ctip.testing.nodes import copy_home, demo_home_template

    # ctip init + ctip demo_data, made once per test run (ctip.testing.nodes).
    home = copy_home(demo_home_template("KH"), tmp_path / "kh")
    blob = b""
    for name in ("db.sqlite3", "db.sqlite3-wal"):
        if (home / name).exists():
            blob += (home / name).read_bytes()
    assert b"cases_case" in blob
    names = [p.get("name_latin") or "" for p in PERSONS["KH"]] + [
        p.get("name_km") or "" for p in PERSONS["KH"]
    ]
    words = [w for name in names for w in name.split() if len(w) >= 4]
    assert len(words) >= 4
    for word in words:  # short syllables (CHAN) also occur inside other words ("exchange")
        if len(word) >= 5 or not word.isascii():
            assert word.encode() not in blob, word
            assert word.lower().encode() not in blob, word


def _dump() -> bytes:
    """Every row of every table as text, like a plain dump."""
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            out.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(out).encode()
