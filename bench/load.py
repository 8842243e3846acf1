"""Load benchmark and soak: one node served by the production server (``ctip serve``, waitress)
on PostgreSQL, under mixed reads and writes from several concurrent users on loopback.

Every figure is also given as a ratio to a bare "hello" view of the same server, measured in
the same run (``bench/server/urls.py``), so results from different machines compare.

Phases, each bounded in requests and in time:

1. isolated: for ``hello`` and then each endpoint alone, every user sends requests back to
   back; p50/p95/p99 latency and throughput (requests/s), and their ratios to hello;
   hello is measured again at the end, and the baseline is both hello runs together;
2. mixed: all endpoints at once, drawn by weight: the same figures per endpoint in traffic;
3. soak: the mixed traffic for ``BENCH_SOAK_SECONDS``; the server's resident memory (RSS) at
   the start and the end of the soak (after warm-up), growth must stay under 10 %.

Settings (environment): ``BENCH_PG_URL`` (a PostgreSQL server where we may create and drop
a database; default the local one, user postgres), ``BENCH_USERS`` (8),
``BENCH_REQUESTS`` (requests per isolated phase, 400), ``BENCH_MIXED_REQUESTS`` (1600),
``BENCH_SOAK_SECONDS`` (90), ``BENCH_THREADS`` (server threads, 8).

A feature adds its endpoints and synthetic data in ``bench/loadspecs/<feature>.py`` (see
that package's docstring). Results: ``bench/results/load.json``. This is a benchmark, not a
test: it reports pass/fail for the memory check and never fails the build.
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import pkgutil
import platform
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "load.json"
MEMORY_LIMIT = 0.10


# --- What a feature declares -------------------------------------------------------------


@dataclass
class User:
    username: str
    agency: str
    token: str


@dataclass
class Context:
    """Shared by the seed functions (which fill it) and the load generator (which reads it)."""

    user_count: int = 8
    users: list[User] = field(default_factory=list)
    ids: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def add_user(self, username: str, agency: str, token: str) -> None:
        self.users.append(User(username, agency, token))

    def add_ids(self, kind: str, agency: str, ids: list[str]) -> None:
        self.ids.setdefault(kind, {}).setdefault(agency, []).extend(ids)

    def pick(self, kind: str, user: User, rng: random.Random) -> str:
        """An id of ``kind`` that ``user``'s agency may see."""
        return rng.choice(self.ids[kind][user.agency])

    @classmethod
    def load(cls, path: Path) -> Context:
        data = json.loads(path.read_text())
        return cls(data["user_count"], [User(**u) for u in data["users"]], data["ids"])


PathSpec = str | Callable[[Context, User, random.Random], str]


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: PathSpec
    method: str = "GET"
    body: Callable[[Context, User, random.Random], dict] | None = None
    auth: bool = True  # send the user's API token
    weight: int = 1  # share of the mixed traffic
    ok: tuple[int, ...] = (200,)

    def request(self, ctx: Context, user: User, rng: random.Random):
        path = self.path if isinstance(self.path, str) else self.path(ctx, user, rng)
        headers = {"Host": "127.0.0.1", "Accept": "application/json"}
        body = None
        if self.auth:
            headers["Authorization"] = f"Bearer {user.token}"
        if self.body is not None:
            body = json.dumps(self.body(ctx, user, rng)).encode()
            headers["Content-Type"] = "application/json"
        return self.method, path, body, headers


HELLO = Endpoint("hello (baseline)", path="/bench/hello", auth=False)


def load_specs() -> list:
    """Every module of bench/loadspecs, ``core`` first."""
    import bench.loadspecs as package

    names = sorted(
        (m.name for m in pkgutil.iter_modules(package.__path__)),
        key=lambda n: (n != "core", n),
    )
    return [importlib.import_module(f"bench.loadspecs.{name}") for name in names]


# --- Seeding (a child process with Django) -------------------------------------------------


def _seed_main(home: str, out: str, user_count: int) -> None:
    from ctip import cli

    cli.use_home(home)
    cli.setup_django()
    ctx = Context(user_count=user_count)
    for spec in load_specs():
        if hasattr(spec, "seed"):
            spec.seed(ctx)
    Path(out).write_text(json.dumps(asdict(ctx)))


# --- The load generator --------------------------------------------------------------------


@dataclass
class Sample:
    endpoint: str
    seconds: float
    ok: bool


class Client:
    """One user's keep-alive HTTP connection to the server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, method, path, body, headers) -> int:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return response.status
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()  # the server closed an idle connection: reconnect once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def drive(port, ctx, endpoints, *, requests, seconds, seed) -> tuple[list[Sample], float]:
    """Every user sends requests back to back (endpoints drawn by weight) until ``requests``
    have been sent in all or ``seconds`` have passed. Returns the samples and elapsed time."""
    lock = threading.Lock()
    samples: list[Sample] = []
    budget = {"left": requests}
    deadline = time.monotonic() + seconds
    weights = [e.weight for e in endpoints]

    def user_loop(index: int, user: User) -> None:
        rng = random.Random(seed * 1000 + index)  # noqa: S311 - load pattern, not secrets
        client = Client(port)
        while time.monotonic() < deadline:
            with lock:
                if budget["left"] <= 0:
                    break
                budget["left"] -= 1
            endpoint = rng.choices(endpoints, weights)[0]
            method, path, body, headers = endpoint.request(ctx, user, rng)
            began = time.perf_counter()
            try:
                status = client.send(method, path, body, headers)
            except (OSError, http.client.HTTPException):
                status = 0
            sample = Sample(endpoint.name, time.perf_counter() - began, status in endpoint.ok)
            with lock:
                samples.append(sample)
        client.conn.close()

    started = time.monotonic()
    threads = [
        threading.Thread(target=user_loop, args=(i, u), daemon=True)
        for i, u in enumerate(ctx.users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def figures(samples: list[Sample], elapsed: float) -> dict:
    times = [s.seconds * 1000 for s in samples]
    return {
        "requests": len(samples),
        "errors": sum(not s.ok for s in samples),
        "p50_ms": round(percentile(times, 50), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "p99_ms": round(percentile(times, 99), 2),
        "mean_ms": round(statistics.fmean(times), 2) if times else None,
        "throughput_rps": round(len(samples) / elapsed, 1) if elapsed else None,
    }


def with_ratios(row: dict, base: dict) -> dict:
    """Latency ratios (how many times slower than hello) and throughput ratio (share of it)."""
    row = dict(row)
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        row[key.replace("_ms", "_x_hello")] = round(row[key] / base[key], 2)
    if row.get("throughput_rps") and base.get("throughput_rps"):
        row["throughput_x_hello"] = round(row["throughput_rps"] / base["throughput_rps"], 3)
    return row


# --- The server and its database -----------------------------------------------------------


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def ctip_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"CTIP_HOME", "DATABASE_URL"}}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def run_ctip(*args: str, env: dict) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "ctip", *args], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"ctip {args[0]} failed: {result.stderr.strip()[-1500:]}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Database:
    """A PostgreSQL database of our own, dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.admin_url = admin_url
        self.name = f"ctip_bench_{secrets.token_hex(4)}"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
            self.server_version = admin.execute("SHOW server_version").fetchone()[0]
        base = admin_url.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def start_server(home: Path, port: int, threads: int, log: Path) -> subprocess.Popen:
    """``ctip serve`` in production mode; its output goes to ``log`` (a pipe nobody reads
    would fill up and stall every server thread on its next log line)."""
    env = ctip_env(
        DJANGO_SETTINGS_MODULE="bench.server.settings",
        CTIP_ENV="production",
        CTIP_ALLOWED_HOSTS="127.0.0.1",
        # TLS ends at the reverse proxy in a deployment; on loopback there is none.
        CTIP_SSL_REDIRECT="false",
    )
    output = log.open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            *("-m", "ctip", "serve", "--home", str(home)),
            *("--port", str(port), "--threads", str(threads)),
        ],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    output.close()  # the child has its own copy
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped: {log.read_text(errors='replace')[-1500:]}")
        try:
            if Client(port).send("GET", "/healthz", None, {"Host": "127.0.0.1"}) == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not answer /healthz within 60 s")


# --- The run -------------------------------------------------------------------------------


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def print_table(title: str, rows: dict) -> None:
    print(f"\n{title}")  # noqa: T201
    print(  # noqa: T201
        f"  {'endpoint':<22} {'req':>6} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'req/s':>8}  {'p50 x':>6} {'p95 x':>6} {'p99 x':>6} {'req/s x':>8}"
    )
    for name, r in rows.items():
        print(  # noqa: T201
            f"  {name:<22} {r['requests']:>6} {r['errors']:>4} {r['p50_ms']:>8} {r['p95_ms']:>8}"
            f" {r['p99_ms']:>8} {r['throughput_rps']:>8}  {r.get('p50_x_hello', ''):>6}"
            f" {r.get('p95_x_hello', ''):>6} {r.get('p99_x_hello', ''):>6}"
            f" {r.get('throughput_x_hello', ''):>8}"
        )


def prepare(folder: Path, database: Database, users: int) -> tuple[Path, Context]:
    """A node home on the benchmark's database, seeded by every load spec."""
    home = folder / "kh"
    env = ctip_env()
    run_ctip("init", "--node", "KH", "--home", str(home), "--database-url", database.url, env=env)
    ctx_file = folder / "context.json"
    seed_command = ["-m", "bench.load", "--seed", str(home), str(ctx_file), str(users)]
    seeded = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, *seed_command], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if seeded.returncode != 0:
        raise RuntimeError(f"seeding failed: {seeded.stderr.strip()[-1500:]}")
    return home, Context.load(ctx_file)


def measure_isolated(port: int, ctx: Context, endpoints: list[Endpoint], per_phase: int):
    """Hello, each endpoint alone, hello again. Returns (baseline, hello runs, rows)."""
    rows: dict[str, dict] = {}
    hello_runs = []
    for index, endpoint in enumerate([HELLO, *endpoints, HELLO]):
        samples, elapsed = drive(
            port, ctx, [endpoint], requests=per_phase, seconds=60, seed=index + 1
        )
        if endpoint is HELLO:
            hello_runs.append((samples, elapsed))
        else:
            rows[endpoint.name] = figures(samples, elapsed)
    baseline = figures(
        [s for samples, _ in hello_runs for s in samples], sum(e for _, e in hello_runs)
    )
    rows = {name: with_ratios(row, baseline) for name, row in rows.items()}
    return baseline, [figures(s, e) for s, e in hello_runs], rows


def measure_mixed(port, ctx, endpoints, requests: int, baseline: dict) -> dict:
    samples, elapsed = drive(port, ctx, endpoints, requests=requests, seconds=120, seed=99)
    rows = {}
    for endpoint in endpoints:
        mine = [s for s in samples if s.endpoint == endpoint.name]
        rows[endpoint.name] = with_ratios(figures(mine, elapsed), baseline)
    return {"total": with_ratios(figures(samples, elapsed), baseline), "endpoints": rows}


def soak(port, ctx, endpoints, seconds: int, server_pid: int) -> dict:
    """Mixed traffic for ``seconds``; the server's RSS sampled every 5 s."""
    rss = [rss_kib(server_pid)]
    samples: list[Sample] = []
    started = time.monotonic()
    while (left := seconds - (time.monotonic() - started)) > 0:
        got, _ = drive(port, ctx, endpoints, requests=10**9, seconds=min(5.0, left), seed=len(rss))
        samples.extend(got)
        rss.append(rss_kib(server_pid))
    elapsed = time.monotonic() - started
    start, end = rss[0], rss[-1]
    growth = (end - start) / start if start and end else None
    return {
        "seconds": round(elapsed, 1),
        **figures(samples, elapsed),
        "rss_kib_at_soak_start": start,
        "rss_kib_at_soak_end": end,
        "rss_kib_max": max(filter(None, rss), default=None),
        "rss_growth": round(growth, 4) if growth is not None else None,
        "limit": MEMORY_LIMIT,
        # Memory that does not grow means nothing if the server stopped answering.
        "pass": growth is not None
        and growth < MEMORY_LIMIT
        and samples != []
        and not any(not s.ok for s in samples),
    }


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()


def run() -> dict:
    users = env_int("BENCH_USERS", 8)
    per_phase = env_int("BENCH_REQUESTS", 400)
    mixed_requests = env_int("BENCH_MIXED_REQUESTS", 1600)
    soak_seconds = env_int("BENCH_SOAK_SECONDS", 90)
    threads = env_int("BENCH_THREADS", 8)
    admin_url = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    endpoints = [e for spec in load_specs() for e in spec.ENDPOINTS]
    print(f"load benchmark: {users} users, {len(endpoints)} endpoints, PostgreSQL")  # noqa: T201
    database = Database(admin_url)
    server = None
    try:
        with tempfile.TemporaryDirectory(prefix="ctip-bench-") as folder:
            home, ctx = prepare(Path(folder), database, users)
            port = free_port()
            server_log = Path(folder) / "server.log"
            server = start_server(home, port, threads, server_log)
            rss_at_start = rss_kib(server.pid)
            # Warm-up: every endpoint a few times (imports, caches, connections).
            drive(port, ctx, [HELLO, *endpoints], requests=20 * len(endpoints), seconds=30, seed=0)
            baseline, hello_runs, isolated = measure_isolated(port, ctx, endpoints, per_phase)
            mixed = measure_mixed(port, ctx, endpoints, mixed_requests, baseline)
            soaked = {
                "rss_kib_at_server_start": rss_at_start,
                **soak(port, ctx, endpoints, soak_seconds, server.pid),
            }
            log_lines = server_log.read_text(errors="replace").splitlines()
    finally:
        if server is not None:
            stop(server)
        database.drop()
    result = {
        "benchmark": "load",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "postgresql": database.server_version,
        },
        "config": {
            "users": users,
            "server_threads": threads,
            "requests_per_isolated_phase": per_phase,
            "mixed_requests": mixed_requests,
            "soak_seconds": soak_seconds,
            "ids_kept_for_requests": {
                kind: sum(len(ids) for ids in by_agency.values())
                for kind, by_agency in ctx.ids.items()
            },
            "environment": {k: v for k, v in os.environ.items() if k.startswith("BENCH_")},
            "load_specs": [spec.__name__.rsplit(".", 1)[-1] for spec in load_specs()],
        },
        "baseline_hello": baseline,
        "baseline_hello_runs": hello_runs,
        "isolated": isolated,
        "mixed": mixed,
        "soak": soaked,
        "server_log": {"lines": len(log_lines), "last": log_lines[-5:]},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    report(result)
    return result


def report(result: dict) -> None:
    print_table("baseline: hello (both runs together)", {"hello": result["baseline_hello"]})
    print_table("each endpoint alone (x = ratio to hello)", result["isolated"])
    mixed = result["mixed"]
    print_table(
        "mixed traffic (req/s: each endpoint's share of the mix)",
        {**mixed["endpoints"], "all endpoints": mixed["total"]},
    )
    soaked = result["soak"]
    verdict = "PASS" if soaked["pass"] else "FAIL (memory, or errors)"
    if result["server_log"]["lines"]:
        print(f"\nserver log: {result['server_log']['lines']} lines, the last:")  # noqa: T201
        for line in result["server_log"]["last"]:
            print(f"  {line[:160]}")  # noqa: T201
    print(  # noqa: T201
        f"\nsoak {soaked['seconds']} s, {soaked['requests']} requests, {soaked['errors']} errors:"
        f" server RSS {soaked['rss_kib_at_soak_start']} KiB -> {soaked['rss_kib_at_soak_end']}"
        f" KiB ({(soaked['rss_growth'] or 0) * 100:+.1f} %, limit {MEMORY_LIMIT * 100:.0f} %):"
        f" {verdict}\nresults: {RESULTS.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--seed"]:
        _seed_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        run()
