"""Hardened deployment (security matrix #32): the production settings pass Django's deploy
checks; every answer carries the security headers; production cookies are ``__Host-``,
Secure, HttpOnly and SameSite, with HSTS for a year; pages with personal data are never
stored. Session expiry and rotation are tested in ``ctip/accounts/tests/test_auth.py``.
"""

from __future__ import annotations

import json
import re

import pytest
from django.http import HttpResponse
from django.template import RequestContext, Template
from django.test import Client, override_settings
from django.urls import include, path

from ctip.accounts.permissions import public
from ctip.accounts.services import token_create
from ctip.cases.services import PersonInput, person_create
from ctip.testing.nodes import copy_home, ctip, new_home_template, node_env
from ctip.testing.urlwalk import MISSING_VALUES, Sample, fill, iter_routes

PRODUCTION = {"CTIP_ENV": "production", "CTIP_ALLOWED_HOSTS": "node.example.org,testserver"}


@pytest.fixture(scope="module")
def production_home(tmp_path_factory):
    # A copy of the run's new KH home (ctip init, made once per test run).
    return copy_home(new_home_template("KH"), tmp_path_factory.mktemp("prod") / "kh")


def _check(home, *args):
    env = {**node_env(), **PRODUCTION}
    return ctip("check", "--deploy", "--fail-level", "WARNING", "--home", str(home), *args,
                env=env, check=False)  # fmt: skip


@pytest.mark.slow
def test_django_security_checks_pass_in_production_mode(production_home):
    result = _check(production_home, "--tag", "security")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_check_deploy_at_warning_level_passes_in_production_mode(production_home):
    result = _check(production_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PRODUCTION_PROBE = """
import json
from django.http import HttpResponse
from django.template import RequestContext, Template
from django.test import Client, override_settings
from django.urls import include, path
from ctip.testing import personas as P

P.make_user("prod_user", P.agency("kh-agency-a"), "caseworker")
client = Client()

def cookies(response):
    return {name: {key: morsel[key] for key in ("secure", "httponly", "samesite", "path", "domain")}
            for name, morsel in response.cookies.items()}

plain = client.get("/accounts/login/", HTTP_HOST="node.example.org")
page = client.get("/accounts/login/", secure=True, HTTP_HOST="node.example.org")
login = client.post("/accounts/login/", {"username": "prod_user", "password": P.PASSWORD},
                    secure=True, HTTP_HOST="node.example.org")
api = client.get("/api/v1/me", secure=True, HTTP_HOST="node.example.org", HTTP_ACCEPT="text/html")
print(json.dumps({
    "api_type": api.get("Content-Type", ""),
    "plain": [plain.status_code, plain.get("Location", "")],
    "hsts": page.get("Strict-Transport-Security", ""),
    "page_cookies": cookies(page),
    "login": [login.status_code, cookies(login)],
}))
"""


@pytest.mark.slow
def test_production_cookies_hsts_and_https_redirect(production_home):
    env = {**node_env(), **PRODUCTION}
    result = ctip("shell", "--home", str(production_home), "-c", PRODUCTION_PROBE, env=env)
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    status, location = seen["plain"]
    assert status == 301 and location.startswith("https://node.example.org/")
    hsts = dict(
        part.strip().partition("=")[::2] for part in seen["hsts"].split(";") if part.strip()
    )
    assert int(hsts["max-age"]) >= 365 * 24 * 3600 and "includeSubDomains" in hsts
    login_status, login_cookies = seen["login"]
    assert login_status == 302
    for name, morsel in {**seen["page_cookies"], **login_cookies}.items():
        # __Host-: Secure, path /, no Domain, so no other site or subdomain can set or read it.
        assert name.startswith("__Host-"), name
        assert morsel["secure"] is True and morsel["httponly"] is True, (name, morsel)
        assert morsel["samesite"] in ("Lax", "Strict") and morsel["path"] == "/"
        assert morsel["domain"] == "", (name, morsel)
    assert {"__Host-ctip-csrf", "__Host-ctip-session"} <= {
        *seen["page_cookies"],
        *login_cookies,
    }
    # No browsable HTML face of the API in production, even when a browser asks for HTML.
    assert seen["api_type"].startswith("application/json"), seen["api_type"]


# --- Headers on every answer ----------------------------------------------------------


def _csp(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _answers(client):
    """One answer of every URL pattern (ids that name nothing), and a page that does
    not exist."""
    for route in iter_routes():
        samples = {name: Sample(next(v for v in MISSING_VALUES if re.fullmatch(c.regex, v)))
                   for name, c in route.converters.items()}  # fmt: skip
        url = fill(route, samples)
        yield url, client.get(url)
    yield "/no-such-page/", client.get("/no-such-page/")


@pytest.mark.django_db
def test_every_answer_carries_the_security_headers(caseworker_a, client_of):
    problems = []
    count = 0
    for who, client in (("anonymous", Client()), ("caseworker", client_of(caseworker_a))):
        for url, response in _answers(client):
            count += 1
            where = f"GET {url} as {who} ({response.status_code})"
            csp = _csp(response)
            flat = " ".join(" ".join(v) for v in csp.values())
            if not csp:
                problems.append(f"{where}: no Content-Security-Policy")
                continue
            if "'unsafe-inline'" in flat or "'unsafe-eval'" in flat or "*" in flat.split():
                problems.append(f"{where}: CSP allows inline or any source: {flat}")
            for directive, value in (
                ("default-src", ["'self'"]),
                ("frame-ancestors", ["'none'"]),
                ("object-src", ["'none'"]),
                ("base-uri", ["'none'"]),
            ):
                if csp.get(directive) != value:
                    problems.append(f"{where}: {directive} is {csp.get(directive)}")
            if response.get("X-Content-Type-Options") != "nosniff":
                problems.append(f"{where}: no nosniff")
            if response.get("X-Frame-Options") != "DENY":
                problems.append(f"{where}: X-Frame-Options {response.get('X-Frame-Options')}")
            if response.get("Referrer-Policy") not in (
                "same-origin",
                "no-referrer",
                "strict-origin",
            ):
                problems.append(f"{where}: Referrer-Policy {response.get('Referrer-Policy')}")
            if "text/html" in response.get("Content-Type", "") and response.status_code == 200:
                problems += _inline_script_problems(where, response, csp)
    assert count > 40  # every pattern, twice
    assert not problems, "\n".join(problems)


def _inline_script_problems(where, response, csp) -> list[str]:
    """Scripts without ``src`` must carry this answer's nonce, and the header must name it."""
    html = response.content.decode("utf-8", "replace")
    nonces = {v[len("'nonce-") : -1] for v in csp.get("script-src", []) if v.startswith("'nonce-")}
    out = []
    for tag in re.findall(r"<script\b[^>]*>", html):
        if "src=" in tag:
            continue
        match = re.search(r'nonce="([^"]+)"', tag)
        if not match or match.group(1) not in nonces:
            out.append(f"{where}: inline script without this answer's nonce: {tag}")
    return out


@public
def page_with_inline_script(request):
    # The only way to run an inline script under this policy: the answer's nonce.
    template = Template('<script nonce="{{ request.csp_nonce }}">let ok = 1;</script>')
    return HttpResponse(template.render(RequestContext(request)))


urlpatterns = [
    path("", include("ctip.urls")),
    path("test-only/inline/", page_with_inline_script),
]


@override_settings(ROOT_URLCONF=__name__)
def test_an_inline_script_runs_only_with_the_nonce_named_in_the_header(db):
    response = Client().get("/test-only/inline/")
    csp = _csp(response)
    nonces = [v for v in csp["script-src"] if v.startswith("'nonce-")]
    assert response.status_code == 200 and len(nonces) == 1
    nonce = nonces[0][len("'nonce-") : -1]
    assert len(nonce) >= 16 and f'nonce="{nonce}"' in response.content.decode()
    assert not _inline_script_problems("inline", response, csp)
    # A fresh nonce on every answer.
    assert _csp(Client().get("/test-only/inline/"))["script-src"] != csp["script-src"]


# --- Pages with personal data are never stored --------------------------------------------


@pytest.mark.django_db
def test_person_pages_and_api_answers_are_not_stored(caseworker_a, client_of):
    person = person_create(user=caseworker_a, data=PersonInput(name_latin="NO STORE"))
    browser = client_of(caseworker_a)
    token = {"HTTP_AUTHORIZATION": f"Bearer {token_create(actor=None, user=caseworker_a)}"}
    answers = {
        "person page": browser.get(f"/persons/{person.pk}/"),
        "person list": browser.get("/persons/"),
        "API person": Client().get(f"/api/v1/persons/{person.pk}", **token),
        "API persons": Client().get("/api/v1/persons", **token),
    }
    for what, response in answers.items():
        assert response.status_code == 200, what
        cache = {p.strip() for p in response.get("Cache-Control", "").split(",")}
        assert {"no-store", "private"} <= cache, (what, cache)
    assert "NO STORE" in answers["person page"].content.decode()
