"""PII canaries (security matrix #35, DP-6): people with unique names and document numbers
go through the UI and the API (create, list, search, view, errors); no canary may show up
in logs, error pages, URLs, audit details, e-mails or anywhere in the database outside the
encrypted columns: checked in-process, in the database file of a real node, and in a
``pg_dump`` of a PostgreSQL database a real node wrote to.

This module is also a URL configuration: the project's routes plus a view that fails, to
see what a server error (500) shows and logs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import uuid

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import include, path
from django.views.decorators.http import require_POST

from ctip.accounts.permissions import signed_in
from ctip.accounts.services import token_create
from ctip.cases.models import Person
from ctip.testing.canary import (
    Browser,
    CanaryHarness,
    start_logged_node,
    stop_logged_node,
)


@signed_in
@require_POST
def failing_view(request):
    raise RuntimeError("the service behind this page failed")


urlpatterns = [
    path("", include("ctip.urls")),
    path("test-only/fail/", failing_view, name="failing"),
]


def _form(canary, **extra):
    return {**canary.person_data(), "sex": "female", "nationality": "KH", **extra}


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_ui_and_api_leave_no_canary_outside_encrypted_columns(caseworker_a, client_of):
    harness = CanaryHarness()
    by_ui, by_api = harness.new(), harness.new()
    browser = client_of(caseworker_a)
    browser.raise_request_exception = False
    api = Client(raise_request_exception=False)
    token = {"HTTP_AUTHORIZATION": f"Bearer {token_create(actor=None, user=caseworker_a)}"}

    with harness.capture_logs():
        # Create through the web form and through the API.
        created = browser.post("/persons/new/", _form(by_ui))
        assert created.status_code == 302
        harness.scan_response("redirect after creating", created)
        person = Person.objects.get(pk=created["Location"].split("/")[-2])
        answer = api.post(
            "/api/v1/persons", by_api.person_data(), content_type="application/json", **token
        )
        assert answer.status_code == 201, answer.content
        harness.scan_response("API create", answer, body=False)

        # List, search, view: the pages show the names to the caseworker (that is their
        # purpose), but no URL, link or header may carry them.
        for url in ("/persons/", f"/persons/{person.pk}/"):
            page = browser.get(url)
            assert page.status_code == 200
            harness.scan_response(url.split("?")[0], page, body=False)
        # A search by name is a POST: the name is in no URL, link or header of the answer.
        found = browser.post("/persons/", {"q": by_ui.token})
        assert found.status_code == 200 and by_ui.name_latin in found.content.decode()
        harness.scan_response("search by name", found, body=False)
        assert by_ui.name_latin in browser.get(f"/persons/{person.pk}/").content.decode()
        listing = api.get("/api/v1/persons", **token)
        assert listing.status_code == 200
        harness.scan_response("/api/v1/persons", listing, body=False)
        found = api.post(
            "/api/v1/persons/search", {"q": by_api.token}, content_type="application/json", **token
        )
        assert found.status_code == 200 and found.json()["count"] == 1
        harness.scan_response("/api/v1/persons/search", found, body=False)

        # Errors: invalid input, a missing record, a server error. None shows a canary
        # (except the user's own input back in the form fields of the web form).
        bad = browser.post("/persons/new/", _form(by_ui, birth_month="13"))
        assert bad.status_code == 400
        harness.scan_response("form with errors", bad, own_input=True)
        bad = api.post(
            "/api/v1/persons",
            {**by_api.person_data(), "birth_month": 13, "sex": by_api.token},
            content_type="application/json",
            **token,
        )
        assert bad.status_code == 400
        harness.scan_response("API 400", bad)
        missing = api.get(f"/api/v1/persons/{uuid.uuid4()}?q={by_api.token}", **token)
        assert missing.status_code == 404
        harness.scan_response("API 404", missing)
        missing = browser.get(f"/persons/{uuid.uuid4()}/?q={by_ui.token}")
        assert missing.status_code == 404
        harness.scan_response("page 404", missing)
        failed = browser.post(f"/test-only/fail/?q={by_ui.token}", _form(by_ui))
        assert failed.status_code == 500
        harness.scan_response("server error page", failed)

    # The log capture saw the requests (it is not vacuous) ...
    assert any("Internal Server Error" in line for line in harness.log_lines)
    assert any("Not Found" in line for line in harness.log_lines)
    # ... and the audit log, every table's plain columns and the mail outbox hold no canary.
    harness.scan_audit()
    assert harness.scan_database() > 0
    harness.scan_mail(mail.outbox)
    harness.assert_clean()


@pytest.mark.django_db
def test_a_canary_typed_into_a_url_path_is_not_logged(caseworker_a, client_of):
    harness = CanaryHarness()
    canary = harness.new()
    with harness.capture_logs():
        answer = client_of(caseworker_a).get(f"/persons/{canary.token}/")
    assert answer.status_code == 404
    harness.scan_response("404 page", answer)
    harness.assert_clean()


def test_the_harness_finds_a_leak():
    # The scanner itself: a canary in a log line, a Location header and a raw file is found.
    harness = CanaryHarness()
    canary = harness.new()
    with harness.capture_logs():
        import logging

        logging.getLogger("ctip.anything").debug("looked up %s", canary.name_latin.lower())
    assert [f.what for f in harness.findings] == ["name token"]
    harness.scan_bytes("database page", b"\x00\x01" + canary.name_zh.encode() + b"\x00")
    harness.scan_bytes("utf-16 export", canary.document_number.encode("utf-16-le"))
    assert {f.where for f in harness.findings} >= {"captured logs", "database page"}
    assert any("utf-16" in f.where for f in harness.findings)
    with pytest.raises(AssertionError, match="personal data outside encrypted columns"):
        harness.assert_clean()


# --- Real node processes: the database file, the process log, pg_dump --------------------


def exercise_node(harness: CanaryHarness, node) -> None:
    """Create canary people through the UI and the API of a running node, list, search,
    view them and provoke errors; scan every answer's URLs and error bodies."""
    user = "kh_caseworker"
    creds = node.credentials[user]
    from ctip.testing.nodes import ctip

    ui = Browser(node.url)
    ui.sign_in(user, creds["password"], creds["totp_secret"])
    api = Browser(node.url, token=ctip("token", "--home", str(node.home), "--username", user)
                  .stdout.strip())  # fmt: skip
    by_ui, by_api = harness.new(), harness.new()
    ui.get("/persons/new/")
    created = ui.post("/persons/new/", _form(by_ui))
    assert created.status_code == 302, created.content[:500]
    harness.scan_response("redirect after creating", created)
    detail = created.get("Location")
    answer = api.post("/api/v1/persons", json_body=by_api.person_data())
    assert answer.status_code == 201, answer.content[:500]
    person_id = answer.json()["id"]
    ui.post("/persons/", {"q": by_ui.token})  # a search by name (POST: not in the URL)
    for path_ in ("/persons/", detail, f"/persons/{person_id}/"):
        page = ui.get(path_)
        assert page.status_code in (200, 404), (path_, page.status_code)
        harness.scan_response(path_.split("?")[0], page, body=False)
    page = api.get("/api/v1/persons")
    assert page.status_code == 200
    harness.scan_response("/api/v1/persons", page, body=False)
    found = api.post("/api/v1/persons/search", json_body={"q": by_api.token})
    assert found.status_code == 200, found.content[:300]
    harness.scan_response("/api/v1/persons/search", found, body=False)
    bad = api.post("/api/v1/persons", json_body={**by_api.person_data(), "birth_month": 13})
    assert bad.status_code == 400
    harness.scan_response("API 400", bad)
    bad = ui.post("/persons/new/", _form(by_ui, birth_month="13"))
    assert bad.status_code == 400
    harness.scan_response("form with errors", bad, own_input=True)
    missing = api.get(f"/api/v1/persons/{uuid.uuid4()}?q={by_api.token}")
    assert missing.status_code == 404
    harness.scan_response("API 404", missing)


@pytest.mark.slow
def test_sqlite_file_and_process_log_of_a_real_node(tmp_path):
    harness = CanaryHarness()
    node = start_logged_node(tmp_path)
    try:
        exercise_node(harness, node)
    finally:
        stop_logged_node(node)
    scanned = harness.scan_tree(node.home, skip=("credentials.txt",))
    assert "db.sqlite3" in scanned and "serve.log" in scanned
    assert (node.home / "serve.log").stat().st_size > 0  # the node did log (at DEBUG)
    harness.assert_clean()


POSTGRES = "postgres://postgres@127.0.0.1:5432"


def _postgres_tools():
    required = os.environ.get("CTIP_REQUIRE_POSTGRES") == "1"
    missing = [tool for tool in ("pg_dump", "createdb", "dropdb") if not shutil.which(tool)]
    reason = f"{', '.join(missing)} not installed" if missing else ""
    if not reason:
        ready = subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"], check=False
        ).returncode
        reason = "" if ready == 0 else "no PostgreSQL server on 127.0.0.1:5432"
    if reason:
        if required:
            pytest.fail(f"CTIP_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)


@pytest.mark.slow
def test_pg_dump_of_a_database_a_real_node_wrote_to(tmp_path):
    _postgres_tools()
    name = f"ctip_canary_{secrets.token_hex(4)}"
    pg = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
    subprocess.run(["createdb", *pg, name], check=True, capture_output=True)
    harness = CanaryHarness()
    try:
        node = start_logged_node(tmp_path, database_url=f"{POSTGRES}/{name}")
        try:
            exercise_node(harness, node)
        finally:
            stop_logged_node(node)
        dump = subprocess.run(
            ["pg_dump", *pg, "--no-owner", name], check=True, capture_output=True
        ).stdout
        assert b"COPY public.cases_person" in dump and len(dump) > 10_000
        harness.scan_bytes("pg_dump", dump)
        harness.scan_tree(node.home, skip=("credentials.txt",))
    finally:
        subprocess.run(
            ["dropdb", *pg, "--if-exists", "--force", name], check=False, capture_output=True
        )
    harness.assert_clean()
