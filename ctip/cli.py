"""The ``ctip`` command: node set-up and serving here, everything else as Django commands.

``--home DIR`` (or ``CTIP_HOME``) names the node home. Problems with the home, the keys or
the configuration print one line naming the problem and exit with status 2.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

USAGE = """usage: ctip COMMAND [--home DIR] [options]

Node set-up and serving:
  init --node KH|CN --home DIR [--database-url URL]   create a node home and its database
  serve --home DIR [--host 127.0.0.1] [--port 8000]    serve a node (waitress)
  demo --dir DIR [--no-serve]                          two peered demo nodes (KH :8000, CN :8001)

Administration (Django management commands):
  user add --home DIR --username U --role R [--role R2] --agency CODE
  user end-sessions|deactivate|activate|password|unlock --home DIR --username U
  user remove-role --home DIR --username U --role R    take a role away (ends the sessions)
  token --home DIR --username U                        print a new API token for U
  audit verify --home DIR                              check the audit log's hash chain
  peer add --home DIR --url URL --fingerprint FP       pin the other node's exchange keys
  exchange send|export|import|ping|rotate-keys|verify-log|relay|fingerprint|status --home DIR
  run_huey --home DIR                                  the background worker (delivery retries)
  keys rotate --home DIR                               new master key; re-wrap every data key
  plan load|export --home DIR                          the Plan of Action data file
  backup --home DIR --output FILE; restore --home DIR --input FILE
  form show|export|import --home DIR                   the identification form (XLSForm for ODK)
  match file INPUT.csv --output OUT.csv                deduplicate person records (no node home)
  match sweep|key-rotate|query|answers|identity|identities --home DIR
                                                       duplicates, cross-border queries, identities
  stats export --home DIR --format htcds --output F    de-identified case export (HTCDS)
  retention purge [--apply]|hold|release|holds --home DIR
                                                       the retention schedule and legal holds
  stats send|show|import --home DIR                    migration statistics with the other node
  migrate, check, ... --home DIR                       any Django management command
"""

DEMO_PORTS = {"KH": 8000, "CN": 8001}
# Sent after peering, in this order (taskforce members are directory focal persons).
DEMO_SYNCS = ("directory_sync", "enforcement_sync", "prevention_sync")
# Commands that never open the database: they may run without a node home.
NO_HOME_COMMANDS = {"makemessages", "compilemessages", "spectacular", "makemigrations"}


class CliError(Exception):
    pass


def pop_option(argv: list[str], name: str) -> str | None:
    """Remove ``--name VALUE`` or ``--name=VALUE`` from argv and return VALUE."""
    for i, arg in enumerate(argv):
        if arg == name:
            if i + 1 >= len(argv):
                raise CliError(f"{name} needs a value")
            value = argv[i + 1]
            del argv[i : i + 2]
            return value
        if arg.startswith(name + "="):
            del argv[i]
            return arg.split("=", 1)[1]
    return None


def pop_flag(argv: list[str], name: str) -> bool:
    if name in argv:
        argv.remove(name)
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    try:
        home = pop_option(argv, "--home")
        command, rest = argv[0], argv[1:]
        if command == "init":
            return cmd_init(rest, home)
        if command == "demo":
            return cmd_demo(rest)
        # `match file` deduplicates a CSV file and opens no database (the other match
        # subcommands work on a node's records).
        needs_no_home = command in NO_HOME_COMMANDS or (command == "match" and rest[:1] == ["file"])
        if needs_no_home and not (home or os.environ.get("CTIP_HOME")):
            home = scratch_home()
        use_home(home)
        if command == "serve":
            return cmd_serve(rest)
        return run_django([command, *rest])
    except CliError as exc:
        print(f"ctip: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the known configuration errors, as one line
        from ctip.home import HomeError

        known = (HomeError,)
        try:
            from django.core.exceptions import ImproperlyConfigured

            from ctip.core.crypto import CryptoError

            known = (HomeError, ImproperlyConfigured, CryptoError)
        except ImportError:
            pass
        if isinstance(exc, known):
            print(f"ctip: error: {exc}", file=sys.stderr)
            return 2
        raise


def use_home(home: str | None) -> None:
    from ctip.home import load_home

    home = home or os.environ.get("CTIP_HOME")
    if home:
        load_home(home)  # raises HomeError with a clear line
        os.environ["CTIP_HOME"] = str(Path(home).resolve())
    elif not os.environ.get("CTIP_NODE"):
        raise CliError("no node home: give --home DIR or set CTIP_HOME")


def scratch_home() -> str:
    import atexit
    import shutil
    import tempfile

    from ctip.home import create_home

    folder = tempfile.mkdtemp(prefix="ctip-scratch-")
    atexit.register(shutil.rmtree, folder, True)
    return str(create_home(Path(folder) / "home", "KH").path)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctip.settings")
    import django

    django.setup()


def run_django(args: list[str]) -> int:
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["ctip", *args])
    return 0


def cmd_init(argv: list[str], home: str | None) -> int:
    from ctip.home import create_home

    node = pop_option(argv, "--node")
    database_url = pop_option(argv, "--database-url") or os.environ.get("DATABASE_URL")
    if argv:
        raise CliError(f"init: unexpected argument {argv[0]!r}")
    if not node or not home:
        raise CliError("init needs --node KH|CN and --home DIR")
    created = create_home(Path(home), node, database_url)
    from ctip.exchange.keystore import KeyStoreError, create_keys, describe

    try:
        exchange_keys = create_keys(created.path, created.node_id)
    except KeyStoreError as exc:
        raise CliError(str(exc)) from None
    os.environ["CTIP_HOME"] = str(created.path)
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    print(f"Created node {created.node_id} at {created.path}")
    print(f"Exchange keys: {describe(exchange_keys)} (the other node pins it with 'ctip peer add')")
    return 0


def cmd_serve(argv: list[str]) -> int:
    host = pop_option(argv, "--host") or "127.0.0.1"
    port = int(pop_option(argv, "--port") or "8000")
    threads = int(pop_option(argv, "--threads") or "8")
    if argv:
        raise CliError(f"serve: unexpected argument {argv[0]!r}")
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from waitress import serve

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CliError("the database has unapplied migrations: run 'ctip migrate --home DIR'")
    from ctip.core.crypto import get_keyring

    get_keyring()  # fail now, not on the first page with personal data
    from ctip.wsgi import application

    print(f"Node {settings.CTIP_NODE} serving on http://{host}:{port}/", flush=True)
    serve(
        application,
        host=host,
        port=port,
        threads=threads,
        ident="ctip",
        clear_untrusted_proxy_headers=True,
    )
    return 0


def cmd_demo(argv: list[str]) -> int:
    directory = pop_option(argv, "--dir") or ".demo"
    no_serve = pop_flag(argv, "--no-serve")
    if argv:
        raise CliError(f"demo: unexpected argument {argv[0]!r}")
    base = Path(directory).resolve()
    base.mkdir(parents=True, exist_ok=True)
    me = [sys.executable, "-m", "ctip"]
    env = {k: v for k, v in os.environ.items() if k not in {"CTIP_HOME", "DATABASE_URL"}}
    for node in DEMO_PORTS:
        home = base / node.lower()
        if not (home / "node.json").exists():
            run_checked([*me, "init", "--node", node, "--home", str(home)], env)
        else:  # a demo folder from an earlier version: bring its database up to date
            run_checked([*me, "migrate", "--home", str(home), "-v", "0"], env)
        run_checked([*me, "demo_data", "--home", str(home)], env)
    peer_demo_nodes(base, me, env)
    # What each node shares with the other (the demo data was made before the peering); the
    # messages wait in the outbox and are delivered once both nodes serve (the worker).
    for node in DEMO_PORTS:
        for sync in DEMO_SYNCS:
            run_checked([*me, sync, "--home", str(base / node.lower())], env)
    if no_serve:
        return 0
    commands = [
        [*me, "serve", "--home", str(base / node.lower()), "--port", str(port)]
        for node, port in DEMO_PORTS.items()
    ] + [[*me, "run_huey", "--home", str(base / node.lower())] for node in DEMO_PORTS]
    procs = [
        subprocess.Popen(command, env=env)  # noqa: S603 - our own interpreter and module
        for command in commands
    ]
    print(
        "Both nodes are running: KH http://127.0.0.1:8000/  CN http://127.0.0.1:8001/"
        "  (Ctrl-C stops them)\n"
        f"Check the link between them: ctip exchange ping --home {base / 'kh'} --to CN"
    )
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


def peer_demo_nodes(base: Path, me: list[str], env: dict) -> None:
    """Pin each demo node's exchange keys in the other, as two operators would after reading
    each other the fingerprint, and point each at the other's loopback address."""
    import json

    from ctip.exchange.core import fingerprint, public_jwks
    from ctip.exchange.keystore import create_keys, keys_path, read_keys

    rings = {}
    for node in DEMO_PORTS:
        home = base / node.lower()
        if not keys_path(home).exists():  # a demo folder made before the exchange existed
            create_keys(home, node)
        rings[node] = read_keys(keys_path(home), node).public()
    for node in DEMO_PORTS:
        for other, port in DEMO_PORTS.items():
            if other == node:
                continue
            jwks_file = base / node.lower() / f"peer-{other.lower()}.jwks.json"
            jwks_file.write_text(json.dumps(public_jwks(rings[other]), indent=1), encoding="utf-8")
            run_checked(
                [
                    *me,
                    "peer",
                    "add",
                    "--home",
                    str(base / node.lower()),
                    "--url",
                    f"http://127.0.0.1:{port}",
                    "--jwks",
                    str(jwks_file),
                    "--fingerprint",
                    fingerprint(rings[other]),
                ],
                env,
            )


def run_checked(cmd: list[str], env: dict) -> None:
    result = subprocess.run(cmd, env=env, check=False)  # noqa: S603 - our own interpreter
    if result.returncode != 0:
        raise CliError(f"'{' '.join(cmd[2:])}' failed with status {result.returncode}")
