"""Repatriation benchmark: the median time of the whole message exchange of one case between
two real nodes, as a ratio of a bare signed, encrypted ping round trip in the same run.

Two nodes (``ctip init`` + ``demo_data`` + ``serve``, SQLite, loopback HTTP, peered by
fingerprint, background tasks immediate so each step is delivered before its API call
answers). For each case: the host country's caseworker opens it with its consents over
the REST API, then the thirteen steps of the flow go back and forth (notification,
verification request and result, family tracing, travel document request and issue, plan
proposal and acceptance, handover record and confirmation, reception summary, a follow-up,
closure), each sent by the side whose turn it is. The time counted is from the first step
sent to the closure acknowledged; cases alternate direction (CN->KH, KH->CN).

Baseline: ``ping`` from the KH node to CN, in this process against the KH node's home: one
message sealed (JWS in JWE), posted, opened, verified, logged and answered with a signed
receipt that KH verifies. Its median round trip is the unit; the ratio says how many bare
round trips one case's whole exchange costs (13 messages plus the case work on both sides).

Settings (environment): ``BENCH_REPATRIATION_CASES`` (10), ``BENCH_REPATRIATION_PINGS``
(50). Results: ``bench/results/repatriation.json``. A benchmark, not a test: it asserts
nothing about speed. Run: ``python -m bench repatriation``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "repatriation.json"


def _flow():
    sys.path.insert(0, str(ROOT))
    from ctip.cases.tests import test_repatriation_two_nodes as flow

    return flow


def one_case(flow, host_api, home_api, home_node: str, n: int) -> float:
    case = flow.open_case(
        host_api, home_node, {"name_latin": f"BENCH PERSON {n}", "name_km": "សុខា"}
    )
    started = time.perf_counter()
    home_id = None
    for step in flow.FLOW:
        if step in flow.HOST_STEPS:
            status, _ = flow.send(host_api, case["id"], step)
        else:
            if home_id is None:
                home_id = flow.home_case(home_api, case["reference"])["case"]
            status, _ = flow.send(home_api, home_id, step)
        if status != 201:
            raise RuntimeError(f"step {step} answered {status}")
    return time.perf_counter() - started


def ping_round_trips(home: Path, count: int) -> list[float]:
    os.environ["CTIP_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctip.settings")
    import django

    django.setup()
    from ctip.exchange.services import ping

    ping(actor=None, to="CN")  # warm-up
    times = []
    for _ in range(count):
        started = time.perf_counter()
        ping(actor=None, to="CN")
        times.append(time.perf_counter() - started)
    return times


def run() -> dict:
    sys.path.insert(0, str(ROOT))
    cases = int(os.environ.get("BENCH_REPATRIATION_CASES", "10"))
    pings = int(os.environ.get("BENCH_REPATRIATION_PINGS", "50"))
    flow = _flow()
    from ctip.testing.nodes import peer_nodes, start_node

    os.environ["CTIP_TASKS_IMMEDIATE"] = "1"
    for name in ("CTIP_HOME", "DATABASE_URL"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="bench-repatriation-") as base:
        kh = start_node(Path(base), "KH")
        cn = start_node(Path(base), "CN")
        try:
            peer_nodes(kh, cn)
            apis = {
                "CN": (flow.Api(cn, "cn_caseworker"), flow.Api(kh, "kh_consular_focal"), "KH"),
                "KH": (flow.Api(kh, "kh_caseworker"), flow.Api(cn, "cn_consular_focal"), "CN"),
            }
            one_case(flow, *apis["CN"], -1)  # warm-up
            durations = {"CN->KH": [], "KH->CN": []}
            for n in range(cases):
                host = "CN" if n % 2 == 0 else "KH"
                host_api, home_api, home = apis[host]
                durations[f"{host}->{home}"].append(one_case(flow, host_api, home_api, home, n))
            baseline = ping_round_trips(kh.home, pings)
        finally:
            kh.stop()
            cn.stop()
    every = durations["CN->KH"] + durations["KH->CN"]
    ping_median = statistics.median(baseline)
    case_median = statistics.median(every)
    result = {
        "benchmark": "repatriation",
        "run_id": secrets.token_hex(4),
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.machine(),
            "cores": os.cpu_count(),
        },
        "messages_per_case": len(flow.FLOW),
        "cases": len(every),
        "baseline_ping_round_trip_median_seconds": ping_median,
        "pings": len(baseline),
        "case_exchange_median_seconds": case_median,
        "case_exchange_p95_seconds": sorted(every)[
            min(len(every) - 1, max(0, math.ceil(len(every) * 0.95) - 1))
        ],
        "by_direction_median_seconds": {k: statistics.median(v) for k, v in durations.items() if v},
        "ratio_case_to_ping": case_median / ping_median,
        "ratio_per_message_to_ping": case_median / len(flow.FLOW) / ping_median,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(  # noqa: T201 - a benchmark reports on the console
        f"repatriation: median case exchange {case_median:.3f} s "
        f"({len(flow.FLOW)} messages) = {result['ratio_case_to_ping']:.1f} x a ping round trip "
        f"({ping_median * 1000:.1f} ms); per message {result['ratio_per_message_to_ping']:.2f} x"
    )
    return result


def main() -> None:
    run()


if __name__ == "__main__":
    main()
