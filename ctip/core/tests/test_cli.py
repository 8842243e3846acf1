"""The command line on real homes, in child processes: bad input is one clear line, exit 2."""

from __future__ import annotations

import base64
import json

import pytest

from ctip.testing.nodes import copy_home, ctip, demo_home_template

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "kh"
    result = ctip("init", "--node", "KH", "--home", str(path))
    assert "Created node KH" in result.stdout
    return path


def one_line_error(result, *needles):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ctip: error:"), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_missing_home(tmp_path):
    one_line_error(
        ctip("audit", "verify", "--home", str(tmp_path / "nope"), check=False), "does not exist"
    )


def test_no_home_given():
    one_line_error(ctip("audit", "verify", check=False), "--home")


def test_unknown_node_id(tmp_path):
    one_line_error(ctip("init", "--node", "TH", "--home", str(tmp_path / "x"), check=False), "'TH'")


def test_refuses_to_overwrite_a_home(home):
    one_line_error(ctip("init", "--node", "KH", "--home", str(home), check=False), "already exists")


def test_unreadable_config(tmp_path, home):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "node.json").write_text("{not json")
    one_line_error(ctip("check", "--home", str(broken), check=False), "node.json")


def test_missing_key_ring(tmp_path, home):
    copy = tmp_path / "nokeys"
    copy.mkdir()
    (copy / "node.json").write_text((home / "node.json").read_text())
    one_line_error(ctip("audit", "verify", "--home", str(copy), check=False), "keys.json")


def test_wrong_key_ring_gives_clear_error(tmp_path):
    # A node with the demo data (ctip init + ctip demo_data, made once per run; the module's
    # own home is left as ctip init made it, for the tests after this one).
    home = copy_home(demo_home_template("KH"), tmp_path / "kh")
    ring = json.loads((home / "keys.json").read_text())
    ring["keys"] = {"k-other": base64.b64encode(bytes(32)).decode()}
    ring["active"] = "k-other"
    (home / "keys.json").write_text(json.dumps(ring))
    one_line_error(
        ctip("keys", "rotate", "--home", str(home), check=False), "is not in the key ring"
    )


def test_user_add_token_and_verify(tmp_path):
    path = copy_home(demo_home_template("CN"), tmp_path / "cn")  # ctip init + demo_data, once
    added = ctip(
        "user",
        "add",
        "--home",
        str(path),
        "--username",
        "cn_new",
        "--role",
        "caseworker",
        "--agency",
        "cn-mca",
    )
    assert "Created user cn_new" in added.stdout and "otpauth://totp/" in added.stdout
    bad = ctip(
        "user",
        "add",
        "--home",
        str(path),
        "--username",
        "x",
        "--role",
        "caseworker",
        "--agency",
        "nope",
        check=False,
    )
    assert bad.returncode == 2 and "--agency" in bad.stderr
    token = ctip("token", "--home", str(path), "--username", "cn_new").stdout.strip()
    assert len(token) >= 40
    verified = ctip("audit", "verify", "--home", str(path))
    assert "audit log intact" in verified.stdout
    credentials = (path / "credentials.txt").read_text()
    assert "cn_caseworker" in credentials and "cn_police_focal" in credentials
    again = ctip("demo_data", "--home", str(path))
    assert "already loaded" in again.stdout


def test_demo_database_file_holds_no_personal_data_in_clear(tmp_path):
    path = copy_home(demo_home_template("KH"), tmp_path / "kh")  # ctip init + demo_data, once
    raw = b"".join(p.read_bytes() for p in path.glob("db.sqlite3*"))
    # (The province of origin is kept in clear on purpose, for statistics; names, documents
    # and the free-text place are not.)
    for canary in ("CHAN SOKHA", "សុខា ចាន់", "N0000001", "MAO SREYLEAK", "Prey Veng (demo)"):
        assert canary.encode() not in raw, canary
    assert b"kh_caseworker" in raw  # the scan does see plain text where there is some


def test_production_mode_refuses_without_required_variables(tmp_path):
    from ctip.testing.nodes import node_env

    env = {**node_env(), "CTIP_ENV": "production", "CTIP_NODE": "KH"}
    env.pop("CTIP_SECRET_KEY", None)
    one_line_error(ctip("check", env=env, check=False), "CTIP_SECRET_KEY")
    env.update(CTIP_SECRET_KEY="x" * 60, DATABASE_URL="sqlite:///:memory:")
    one_line_error(ctip("check", env=env, check=False), "CTIP_KEYRING_FILE")


def test_exchange_timing_from_the_environment(home):
    from ctip.testing.nodes import node_env

    probe = "from ctip.exchange.conf import conf; print(conf().retry_base, conf().http_timeout)"
    env = {**node_env(), "CTIP_EXCHANGE_RETRY_BASE": "2", "CTIP_EXCHANGE_HTTP_TIMEOUT": "30"}
    result = ctip("shell", "--home", str(home), "-c", probe, env=env)
    assert result.stdout.split()[-2:] == ["2.0", "30.0"]
    env["CTIP_EXCHANGE_RETRY_BASE"] = "soon"
    one_line_error(
        ctip("check", "--home", str(home), env=env, check=False), "CTIP_EXCHANGE_RETRY_BASE"
    )


def test_match_file_needs_no_home(tmp_path):
    from ctip.testing.nodes import node_env

    source = tmp_path / "people.csv"
    source.write_text(
        "record_id,source,name_original,name_latin,sex,birth_date,age_at_record,nationality,"
        "origin_place,record_date\n"
        "r1,family,សុខា ចាន់,,F,1998-03-14,,KH,Prey Veng,2026-01-05\n"
        "r2,passport,CHAN SOKHA,CHAN SOKHA,F,14/03/1998,,KH,,2026-02-01\n"
        "r3,shelter,Dara Lim,Dara Lim,M,1980,,KH,,2026-03-01\n",
        encoding="utf-8",
    )
    out = tmp_path / "clusters.csv"
    ctip("match", "file", str(source), "--output", str(out), env=node_env())
    rows = dict(line.split(",") for line in out.read_text().splitlines()[1:])
    assert rows["r1"] == rows["r2"] != rows["r3"]
    assert not any(tmp_path.glob("**/db.sqlite3"))  # no node home was made beside the files
