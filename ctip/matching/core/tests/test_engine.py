"""The engine on data with known answers: a golden file of clusters for a small cross-script
set (any change in behaviour shows up as a diff to review), quality floors, the CSV
format's errors, and the Bloom-filter encodings."""

from __future__ import annotations

import csv
import io
import os
from collections import defaultdict
from datetime import date
from itertools import combinations
from pathlib import Path

import pytest

from ctip.matching.core import bloom, synth
from ctip.matching.core.csvio import CsvError, read_text
from ctip.matching.core.dates import BirthRange
from ctip.matching.core.engine import (
    EngineConfig,
    FellegiSunter,
    cluster_without_conflicts,
    match_records,
    prepare,
)
from ctip.matching.core.people import PersonRecord

GOLDEN = Path(__file__).parent / "data" / "engine"
TODAY = date(2025, 6, 1)


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    names = [c for c in rows[0] if c != "person"]
    writer = csv.DictWriter(buf, fieldnames=names, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def pair_scores(rows: list[dict], clusters: dict[str, str]) -> tuple[float, float]:
    truth, found = defaultdict(list), defaultdict(list)
    for r in rows:
        truth[r["person"]].append(r["record_id"])
        found[clusters[r["record_id"]]].append(r["record_id"])
    t = {tuple(sorted(p)) for g in truth.values() for p in combinations(g, 2)}
    f = {tuple(sorted(p)) for g in found.values() for p in combinations(g, 2)}
    return len(t & f) / max(len(f), 1), len(t & f) / max(len(t), 1)


@pytest.fixture(scope="module")
def cross():
    rows = synth.cross_script(400, seed=9)
    data = read_text(to_csv(rows), today=TODAY)
    return rows, data, match_records(data.records)


def test_clusters_match_the_golden_file(cross):
    rows, data, result = cross
    got = "".join(f"{r['record_id']},{result.clusters[r['record_id']]}\n" for r in rows)
    path = GOLDEN / "cross_script_400.csv"
    if os.environ.get("CTIP_UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


def test_cross_script_quality_floor(cross):
    rows, _, result = cross
    precision, recall = pair_scores(rows, result.clusters)
    # Floors of this set as measured (bench/matching.py reports the full set): a drop here
    # is a regression even if the golden file is regenerated.
    assert precision >= 0.9
    assert recall >= 0.7


def test_the_same_woman_in_three_scripts_is_one_person():
    rows = [
        {
            "record_id": "family",
            "source": "family",
            "name_original": "សុខា ចាន់",
            "name_latin": "",
            "sex": "ស្រី",
            "birth_date": "",
            "age_at_record": "24",
            "nationality": "KH",
            "origin_place": "",
            "record_date": "2025-01-10",
        },
        {
            "record_id": "passport",
            "source": "passport",
            "name_original": "",
            "name_latin": "CHAN SOKHA",
            "sex": "F",
            "birth_date": "14/03/2001",
            "age_at_record": "",
            "nationality": "KHM",
            "origin_place": "",
            "record_date": "",
        },
        {
            "record_id": "shelter",
            "source": "shelter",
            "name_original": "",
            "name_latin": "Sokhar Chan",
            "sex": "female",
            "birth_date": "2001",
            "age_at_record": "",
            "nationality": "",
            "origin_place": "",
            "record_date": "",
        },
        {
            "record_id": "police",
            "source": "police",
            "name_original": "索卡·占",
            "name_latin": "Suo Ka",
            "sex": "女",
            "birth_date": "",
            "age_at_record": "24",
            "nationality": "柬埔寨",
            "origin_place": "",
            "record_date": "2025-03-01",
        },
        {
            "record_id": "other",
            "source": "shelter",
            "name_original": "",
            "name_latin": "LONG SREYMOM",
            "sex": "F",
            "birth_date": "1990",
            "age_at_record": "",
            "nationality": "",
            "origin_place": "",
            "record_date": "",
        },
    ]
    data = read_text(to_csv([{**r, "person": ""} for r in rows]), today=TODAY)
    # Trained weights need more data than five records: the node's default weights.
    from ctip.matching.services import DEFAULT_PARAMETERS

    result = match_records(data.records, model=FellegiSunter.from_dict(DEFAULT_PARAMETERS))
    c = result.clusters
    assert c["family"] == c["passport"] == c["shelter"] == c["police"]
    assert c["other"] != c["family"]
    explained = {f: label for f, label, _ in result.explain(result.pairs[0])}
    assert "name" in explained


def test_model_round_trips_and_refuses_nonsense(cross):
    _, _, result = cross
    again = FellegiSunter.from_dict(result.model.as_dict())
    vector = (4, None, 4, 1, 1, 1)  # name, name_zh, birth, sex, nationality, place
    assert again.probability(vector) == result.model.probability(vector)
    bad = result.model.as_dict() | {"prior": 1.5}
    with pytest.raises(ValueError, match="prior"):
        FellegiSunter.from_dict(bad)


def test_config_is_validated():
    with pytest.raises(ValueError, match="review_probability"):
        EngineConfig(match_probability=0.6, review_probability=0.8)
    with pytest.raises(ValueError, match="max_block_size"):
        EngineConfig(max_block_size=0)


def test_clusters_are_transitive_deterministic_and_never_join_a_conflict():
    feats = prepare(
        [
            PersonRecord("c", ("Chan Sokha",), birth=BirthRange.year(2001)),
            PersonRecord("b", ("Chan Sokha",)),
            PersonRecord("a", ("Chan Sokha",), birth=BirthRange.year(2001)),
            PersonRecord("d", ("Chan Sokha",), birth=BirthRange.year(1960)),
        ]
    )
    links = [(0, 1, 0.9), (2, 1, 0.8), (3, 1, 0.7)]  # d, born 1960, links to b too

    def conflict(x, y):
        return {x.id, y.id} & {"d"} and {x.id, y.id} != {"d", "b"}

    assert cluster_without_conflicts(feats, links, conflict) == {
        "a": "a",
        "b": "a",
        "c": "a",
        "d": "d",
    }
    # With no conflict the links chain, as connected components do.
    assert set(cluster_without_conflicts(feats, links, lambda x, y: False).values()) == {"a"}


# --- the CSV format ------------------------------------------------------------------------

HEADER = (
    "record_id,source,name_original,name_latin,sex,birth_date,age_at_record,nationality,"
    "origin_place,record_date\n"
)


def test_missing_columns_are_named_with_the_line():
    with pytest.raises(CsvError, match=r"line 1: missing column\(s\) birth_date"):
        read_text("record_id,source,name_original,name_latin,sex\n1,a,b,c,F\n", today=TODAY)


def test_short_row_names_line_and_column():
    with pytest.raises(CsvError, match=r"line 3, column 'sex': 4 fields"):
        read_text(HEADER + "1,a,,Chan,F,,,,,\n2,a,,Sok\n", today=TODAY)


def test_bad_encoding_names_the_line():
    raw = (HEADER + "1,a,,Chan,F,,,,,\n2,a,,S\xf6k,F,,,,,\n").encode("latin-1")
    from ctip.matching.core.csvio import read_records

    with pytest.raises(CsvError, match=r"line 3: not UTF-8"):
        read_records(raw, today=TODAY)


def test_duplicate_and_empty_ids_are_errors():
    with pytest.raises(CsvError, match=r"line 3, column 'record_id': record_id repeats"):
        read_text(HEADER + "1,a,,Chan,F,,,,,\n1,a,,Sok,F,,,,,\n", today=TODAY)
    with pytest.raises(CsvError, match="empty record_id"):
        read_text(HEADER + ",a,,Chan,F,,,,,\n", today=TODAY)


def test_unparseable_dates_are_unknown_and_counted():
    data = read_text(
        HEADER
        + "1,a,,Chan Sokha,F,unknown,,,,\n"
        + "2,a,,Chan Sokha,F,,about twenty,,,2025-01-01\n"
        + "3,a,,Chan Sokha,F,03/1998,,,,\n"
        + "4,a,,Chan Sokha,F,,24,,,not a date\n",
        today=TODAY,
    )
    assert data.report.unknown_birth_dates == 1
    assert data.report.unknown_ages == 1
    assert data.report.unknown_record_dates == 1
    births = {r.id: r.birth for r in data.records}
    assert births["1"] is None and births["2"] is None
    assert births["3"] == BirthRange.year_month(1998, 3)
    # An age without a readable record date is taken on the day of the run.
    assert births["4"].contains(date(2000, 6, 1))
    assert data.report.examples == [(2, "birth_date"), (3, "age_at_record"), (5, "record_date")]


# --- Bloom-filter encodings -------------------------------------------------------------------

KEY = bytes(range(32))


def test_encodings_match_across_scripts_and_not_others():
    sokha = bloom.encode(KEY, ("សុខា ចាន់",), BirthRange.from_age(24, date(2025, 1, 1)), "F")
    police = bloom.encode(KEY, ("索卡·占",), BirthRange.from_age(24, date(2025, 3, 1)), "F")
    passport = bloom.encode(KEY, ("CHAN SOKHA",), BirthRange.year(2001), "F")
    other = bloom.encode(KEY, ("LONG SREYMOM",), BirthRange.year(1990), "F")
    assert bloom.similarity(sokha, police) >= 0.8
    assert bloom.similarity(sokha, passport) >= 0.8
    assert bloom.similarity(sokha, other) < 0.5


def test_encodings_depend_on_the_key_and_round_trip():
    a = bloom.encode(KEY, ("CHAN SOKHA",), None, "F")
    b = bloom.encode(bytes(32), ("CHAN SOKHA",), None, "F")
    assert bloom.similarity(a, b) < 0.5
    assert bloom.Encoding.from_json(a.to_json()) == a
    with pytest.raises(ValueError):
        bloom.encode(b"short", ("CHAN SOKHA",), None, None)
    with pytest.raises(ValueError):
        bloom.Encoding.from_json({"name": "AAAA", "birth": "AAAA"})


def test_runs_do_not_depend_on_the_string_hash_seed():
    """Sets of strings iterate in an order that changes with each process's hash seed; a
    decision that leaned on that order would differ between two runs on the same file."""
    import subprocess
    import sys

    script = (
        "from datetime import date\n"
        "from ctip.matching.core import synth\n"
        "from ctip.matching.core.csvio import read_text\n"
        "from ctip.matching.core.engine import match_records\n"
        "from ctip.matching.core.tests.test_engine import to_csv\n"
        "rows = synth.cross_script(150, seed=4)\n"
        "data = read_text(to_csv(rows), today=date(2025, 6, 1))\n"
        "result = match_records(data.records)\n"
        "print(sorted(result.clusters.items()), [round(p.probability, 9) for p in result.pairs])\n"
    )
    outputs = {
        subprocess.run(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert "r000001" in next(iter(outputs))


def test_impossible_dates_keep_what_can_be_read():
    data = read_text(
        HEADER
        + "1,a,,Connor Paine,M,1974-01-64,,,,\n"
        + "2,a,,Connor Paine,M,1971-13-19,,,,\n"
        + "3,a,,Connor Paine,M,31/02/1980,,,,\n"
        + "4,a,,Connor Paine,M,0000-00-00,,,,\n",
        today=TODAY,
    )
    births = {r.id: r.birth for r in data.records}
    assert births["1"] == BirthRange.year_month(1974, 1)
    assert births["2"] == BirthRange.year(1971)
    assert births["3"] == BirthRange.year_month(1980, 2)
    assert births["4"] is None
    assert data.report.partly_read_birth_dates == 3
    assert data.report.unknown_birth_dates == 1
    assert (2, "birth_date") in data.report.examples


def test_the_alike_marks_never_hide_alike_parts(cross, monkeypatch):
    """The shortcut of disjoint marks (no part alike) gives the level the full comparison
    of every part with every part gives, on random and on blocked pairs of both scripts."""
    import random

    from ctip.matching.core import engine

    _, data, _ = cross
    perturbed = read_text(to_csv(synth.perturbed(600, seed=3)), today=TODAY)
    feats = prepare(data.records) + prepare(perturbed.records)
    rng = random.Random(4)
    pairs = [tuple(rng.sample(range(len(feats)), 2)) for _ in range(6000)]
    left, right = engine.candidate_arrays(feats, EngineConfig(), engine.BlockingReport())
    pairs += list(zip(left.tolist(), right.tolist(), strict=True))
    fast = [engine.name_level(feats[i], feats[j]) for i, j in pairs]
    skipped = sum(not engine._may_be_alike(feats[i], feats[j]) for i, j in pairs[:6000])
    # Names with no part in common whose parts may be only faintly alike skip the comparison
    # of their parts too: a faint likeness changes no level without a part that agrees.
    faint_only = sum(
        engine._may_be_alike(feats[i], feats[j])
        and not engine._may_be_strongly_alike(feats[i], feats[j])
        for i, j in pairs
    )
    monkeypatch.setattr(engine, "_may_be_alike", lambda a, b: True)
    monkeypatch.setattr(engine, "_may_be_strongly_alike", lambda a, b: True)
    full = [engine.name_level(feats[i], feats[j]) for i, j in pairs]
    assert fast == full
    assert skipped > 3000  # taken for most random pairs, or this proves nothing
    assert faint_only > 200


def test_names_worked_out_in_workers_give_the_same_result(cross, monkeypatch):
    """Two worker processes normalising the names: the same features, model and clusters."""
    from ctip.matching.core import engine

    rows, data, result = cross
    monkeypatch.setattr(engine, "PARALLEL_MIN_NAMES", 10)
    stages = []
    feats = engine.features_in_blocks(
        data.records, EngineConfig(), None, 2, lambda *a: stages.append(a)
    )
    engine._NAME_CACHE.clear()
    assert feats == prepare(data.records)
    assert stages[-1] == ("normalise", len(feats), len(feats))
    again = match_records(data.records, workers=2)
    assert again.clusters == result.clusters
    assert again.model.as_dict() == result.model.as_dict()


def _name(text: str):
    from ctip.matching.core.people import PersonRecord

    return prepare([PersonRecord(id=text, names=(text,))])[0]


def test_a_chinese_reading_is_compared_as_heard_not_as_typed():
    from ctip.matching.core.engine import name_level

    # 金 reads "jin" (Khmer-Latin "chin") and, as a Sino-Khmer surname, Kim. Chan is one
    # letter from "chin", but a transcriber writes what they hear: a different vowel is
    # another name (one part agrees, the other only faintly alike), not a typing slip.
    assert name_level(_name("维娜·金"), _name("CHAN VINA")) == 3
    # Between two Latin spellings the same one letter is a typing slip.
    assert name_level(_name("Chan Vina"), _name("Chin Vina")) == 5
    # A vowel heard as its neighbour (i/e: 钦 "chin" against Chhem) still is.
    assert name_level(_name("维娜·钦"), _name("CHHEM VINA")) == 5
    # A syllable written without its final (索 "so" for Sok) sounds alike across scripts;
    # between two Latin spellings "So" and "Sok" are only faintly alike.
    assert name_level(_name("维娜·索"), _name("SOK VINA")) == 4
    assert name_level(_name("So Vina"), _name("Sok Vina")) == 3
    assert name_level(_name("维娜·金"), _name("KIM VINA")) == 7


def test_heard_alike_letters():
    from ctip.matching.core.engine import _final_dropped, _heard_slip

    assert _heard_slip("chim", "chem") and _heard_slip("chan", "cham")
    assert _heard_slip("bora", "bola") and _heard_slip("pisai", "pisi")  # r/l; a letter dropped
    assert not _heard_slip("chin", "chan") and not _heard_slip("bora", "bori")
    assert not _heard_slip("sopeak", "sopeap")  # k and p are not heard alike
    assert _final_dropped("so", "sok") and _final_dropped("meas", "me")
    assert not _final_dropped("so", "soma") and not _final_dropped("ka", "kaly")


def test_a_transcribed_given_name_blocks_with_its_spelling():
    from ctip.matching.core.engine import blocking_keys

    def shared(a: str, b: str) -> set[str]:
        ka, kb = blocking_keys(_name(a)), blocking_keys(_name(b))
        return {k for rule in ka.keys() & kb.keys() for k in ka[rule] & kb[rule]}

    # The given name in two syllables against one transcribed word: the family name and
    # the joined syllables' skeleton ("sp").
    assert "chan/sp" in shared("So Phal Chan", "索帕·占")
    # A transcription that kept the start of the name and lost its final (维波 "vibo").
    assert "chan>vibo" in shared("CHAN VIBOL", "维波·占")
    # Neither makes a key for names that share only the family name.
    assert not shared("CHAN VIBOL", "索帕·占")
