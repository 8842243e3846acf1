"""Real node processes for tests: ``ctip init`` + ``ctip demo_data`` + ``ctip serve``."""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ctip(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """``python -m ctip *args`` in a new process, as ``subprocess.run`` with text output.

    The process is forked from a "zygote" that imported the heavy libraries once (the crash
    harness's, ``ctip.testing.crash``): each command still sets up Django and runs in a
    process of its own, with ``env`` as its whole environment, but does not pay about a
    CPU-second of imports, and the suite runs hundreds of commands. ``CTIP_TEST_FORK_CLI=0``
    starts a new interpreter for each instead."""
    env = env or node_env()
    if os.environ.get("CTIP_TEST_FORK_CLI", "1") != "0":
        result = _cli_zygote().run_cli(list(args), env, timeout=180)
        if check:
            result.check_returncode()
        return result
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "ctip", *args],
        capture_output=True,
        text=True,
        env=env,
        check=check,
        timeout=180,
    )


_ZYGOTE = []  # this process's zygote for ``ctip``, started on first use
_ZYGOTE_LOCK = threading.Lock()


def _cli_zygote():
    from ctip.testing.crash import _Zygote

    with _ZYGOTE_LOCK:
        if not _ZYGOTE or _ZYGOTE[0].process.poll() is not None:
            work = Path(tempfile.mkdtemp(prefix="ctip-cli-"))
            zygote = _Zygote(work)
            atexit.register(shutil.rmtree, work, True)
            atexit.register(zygote.close)  # runs first: the zygote ends, then its folder goes
            _ZYGOTE[:] = [zygote]
        return _ZYGOTE[0]


def node_env() -> dict:
    """The environment for a child node: SQLite in its own home, whatever the parent uses."""
    drop = {"CTIP_HOME", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    return {k: v for k, v in os.environ.items() if k not in drop}


@dataclass
class RunningNode:
    node: str
    home: Path
    url: str
    process: subprocess.Popen
    credentials: dict[str, dict[str, str]]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def read_credentials(home: Path) -> dict[str, dict[str, str]]:
    rows = {}
    for line in (home / "credentials.txt").read_text(encoding="utf-8").splitlines()[2:]:
        username, password, secret, role = line.split()
        rows[username] = {"password": password, "totp_secret": secret, "role": role}
    return rows


_TEMPLATES: dict[tuple[str, bool], Path] = {}
TEMPLATES_ENV = "CTIP_TEST_TEMPLATES"  # set by ctip.testing.pytest_home for the whole run


def _templates_dir() -> Path:
    """Where the node home templates of this test run live: one folder for the run, shared
    by the pytest-xdist workers (``ctip.testing.pytest_home`` makes it and removes it at the
    end), else one per process."""
    shared = os.environ.get(TEMPLATES_ENV)
    if shared:
        return Path(shared)
    base = Path(tempfile.mkdtemp(prefix="ctip-node-templates-"))
    atexit.register(shutil.rmtree, base, True)
    os.environ[TEMPLATES_ENV] = str(base)
    return base


def _template(node: str, demo: bool) -> Path:
    if (node, demo) in _TEMPLATES:
        return _TEMPLATES[node, demo]
    home = _templates_dir() / f"{node.lower()}-{'demo' if demo else 'new'}" / node.lower()
    home.parent.mkdir(parents=True, exist_ok=True)
    # One worker makes each template, the others wait for it (an exclusive lock per
    # template); a template is complete once its home exists: it is made aside and renamed.
    with open(home.parent.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not home.exists():
            building = home.parent / f"building-{os.getpid()}"
            shutil.rmtree(building, ignore_errors=True)
            if demo:
                shutil.copytree(_template(node, demo=False), building)
                ctip("demo_data", "--home", str(building))
            else:
                ctip("init", "--node", node, "--home", str(building))
            building.rename(home)
    _TEMPLATES[node, demo] = home
    return home


def new_home_template(node: str) -> Path:
    """A new node home (``ctip init``), made once per test run and copied for every node
    home a test only needs to exist: migrating a new database costs most of ``ctip init``.
    Copies share the template's keys: a test that needs two nodes of one country with
    different keys runs ``ctip init`` itself."""
    return _template(node, demo=False)


def demo_home_template(node: str) -> Path:
    """A node home with the demo data (``ctip init`` + ``ctip demo_data``), made once per
    test run and copied for every node a test starts: loading the demo of every area
    costs most of a node's start. The copies share the template's keys (and those of
    ``new_home_template``); nodes of one test are still distinct (KH and CN), and no test
    pins two copies of the same node."""
    return _template(node, demo=True)


def copy_home(template: Path, home: Path) -> Path:
    """A copy of a node home template at ``home`` (a folder that does not exist yet)."""
    shutil.copytree(template, home)
    return home


def start_node(base: Path, node: str = "KH", *, timeout: float = 90) -> RunningNode:
    home = base / node.lower()
    shutil.copytree(demo_home_template(node), home)
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "ctip", "serve", "--home", str(home), "--port", str(port)],
        env=node_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout  # generous: a loaded CI machine starts slowly
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"node {node} did not start") from None
            time.sleep(0.2)
    return RunningNode(node, home, url, process, read_credentials(home))


def exchange_fingerprint(home: Path) -> str:
    """The node's exchange key fingerprint, as ``ctip exchange fingerprint`` prints it."""
    return ctip("exchange", "fingerprint", "--home", str(home)).stdout.split()[1]


def peer_nodes(a: RunningNode, b: RunningNode) -> None:
    """Pin each node's exchange keys in the other (fetched over HTTP, compared by
    fingerprint), as two operators do after reading each other the fingerprint."""
    for here, there in ((a, b), (b, a)):
        ctip(
            "peer",
            "add",
            "--home",
            str(here.home),
            "--url",
            there.url,
            "--fingerprint",
            exchange_fingerprint(there.home),
        )


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"node at {url} did not start") from None
            time.sleep(0.2)


def _serve(home: Path, port: int, timeout: float) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "ctip", "serve", "--home", str(home), "--port", str(port)],
        env=node_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_healthy(f"http://127.0.0.1:{port}", process, timeout)
    return process


def launch_node(base: Path, node: str = "KH", *, timeout: float = 90) -> RunningNode:
    """``ctip init`` + ``ctip serve``, without demo data (no users: for node-to-node tests).
    The home is a copy of the run's new home of that country (``new_home_template``)."""
    home = copy_home(new_home_template(node), base / node.lower())
    port = free_port()
    process = _serve(home, port, timeout)
    return RunningNode(node, home, f"http://127.0.0.1:{port}", process, {})


def restart_node(node: RunningNode, *, timeout: float = 90) -> RunningNode:
    """Serve a stopped node again from its home, on the same address."""
    process = _serve(node.home, int(node.url.rsplit(":", 1)[1]), timeout)
    return RunningNode(node.node, node.home, node.url, process, node.credentials)
