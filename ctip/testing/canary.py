"""PII canaries (security matrix #35, do-no-harm rule DP-6): personal values that are
unique in the world, so that finding one anywhere outside an encrypted column is a leak.

Use it from any test that touches personal data, and scan what the feature produces::

    harness = CanaryHarness()
    canary = harness.new()                     # names in three scripts, document, contact, notes
    person_create(user=..., data=canary.person_input())
    with harness.capture_logs():               # every logger, every level
        response = client.get(...)
    harness.scan_response("person page", response)
    harness.scan_audit()                       # audit details, ids and field names
    harness.scan_file(export_path)             # an exported file
    harness.scan_mail(mail.outbox)             # notifications
    harness.assert_clean()

``start_logged_node`` runs a real node (SQLite, or PostgreSQL with a database URL) whose
output is kept in ``serve.log`` in its home, so the process's logs and its database file
can be scanned too (``scan_tree``).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ctip.testing.nodes import (
    RunningNode,
    ctip,
    demo_home_template,
    free_port,
    node_env,
    read_credentials,
)

KHMER_LETTERS = [chr(c) for c in range(0x1780, 0x17A3)]  # Khmer consonants and vowels
HAN_CHARS = [chr(c) for c in range(0x4E00, 0x9FA5)]
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _random(alphabet, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


@dataclass(frozen=True)
class Canary:
    """One fictional person whose every personal value is unique."""

    token: str  # ten letters, inside the Latin name, the contact and the notes
    name_latin: str
    name_km: str
    name_zh: str
    document_number: str
    contact: str
    place_of_origin: str
    notes: str

    @classmethod
    def create(cls) -> Canary:
        token = _random(UPPER, 10)
        return cls(
            token=token,
            name_latin=f"CANARY {token}",
            name_km=_random(KHMER_LETTERS, 8),
            name_zh=_random(HAN_CHARS, 4),
            document_number=f"CX{_random(UPPER, 3)}-{secrets.randbelow(10**6):06d}",
            contact=f"canary.{token.lower()}@example.org",
            place_of_origin=f"Village {token[::-1]}",
            notes=f"Told us about {token} at the border; canary note {token[:5]}-{token[5:]}.",
        )

    def person_data(self) -> dict[str, str]:
        """Form or API fields of a person (``cases``) with these values."""
        return {
            "name_latin": self.name_latin,
            "name_km": self.name_km,
            "name_zh": self.name_zh,
            "document_number": self.document_number,
            "contact": self.contact,
            "place_of_origin": self.place_of_origin,
            "notes": self.notes,
        }

    def person_input(self):
        from ctip.cases.services import PersonInput

        return PersonInput(**self.person_data())

    def needles(self) -> dict[str, str]:
        """What to look for, by what it is. The Latin token is searched without regard to
        case (lower-cased names, e-mail addresses), the others exactly."""
        found = {
            "name token": self.token,
            "reversed token": self.token[::-1],
            "Khmer name": self.name_km,
            "Chinese name": self.name_zh,
            "document number": self.document_number,
            "document number without spaces or dashes": self.document_number.replace("-", ""),
        }
        pinyin = _pinyin(self.name_zh)
        if len(pinyin) >= 10:  # long enough to be unique
            found["Chinese name in pinyin"] = pinyin
        return found


def _pinyin(text: str) -> str:
    try:
        from pypinyin import lazy_pinyin
    except ImportError:  # pragma: no cover - pypinyin is a dependency
        return ""
    return "".join(lazy_pinyin(text)).lower()


@dataclass
class Finding:
    where: str
    what: str
    context: str

    def __str__(self) -> str:
        return f"{self.what} found in {self.where}: …{self.context}…"


@dataclass
class CanaryHarness:
    canaries: list[Canary] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)

    def new(self) -> Canary:
        canary = Canary.create()
        self.canaries.append(canary)
        return canary

    # --- Scanning ------------------------------------------------------------------------

    def _patterns(self):
        for canary in self.canaries:
            for what, needle in canary.needles().items():
                yield what, re.compile(re.escape(needle), re.IGNORECASE)

    def scan_text(self, where: str, text: str) -> list[Finding]:
        new = []
        for what, pattern in self._patterns():
            for match in pattern.finditer(text):
                start, end = max(match.start() - 40, 0), match.end() + 40
                new.append(Finding(where, what, text[start:end].replace("\n", " ")))
                break
        self.findings += new
        return new

    def scan_bytes(self, where: str, data: bytes) -> list[Finding]:
        # UTF-8 (most places), and UTF-16 (some database pages and exports).
        found = self.scan_text(where, data.decode("utf-8", "ignore"))
        for codec in ("utf-16-le", "utf-16-be"):
            if not found:
                found = self.scan_text(f"{where} ({codec})", data.decode(codec, "ignore"))
        return found

    def scan_file(self, path: str | os.PathLike) -> list[Finding]:
        path = Path(path)
        return self.scan_bytes(str(path.name), path.read_bytes())

    def scan_tree(self, root: str | os.PathLike, skip: tuple[str, ...] = ()) -> list[str]:
        """Every file under ``root`` (a node home: database, WAL, task queue, logs, exports).
        Returns the names of the files scanned."""
        scanned = []
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and path.name not in skip:
                self.scan_bytes(str(path.relative_to(root)), path.read_bytes())
                scanned.append(str(path.relative_to(root)))
        return scanned

    def scan_response(
        self, where: str, response, *, body: bool = True, own_input: bool = False
    ) -> None:
        """The headers that end up in logs and histories (Location, Content-Disposition,
        Set-Cookie), the links in the page, and (``body=True``, for error pages and other
        answers that must show no personal data) the whole body. ``own_input``: the page
        shows the user's own form input back to them (a form with errors): values of form
        fields are expected there and are left out; anything else is not."""
        text = response.content.decode("utf-8", "replace")
        if own_input:
            text = re.sub(r'value="[^"]*"', 'value=""', text)
            text = re.sub(r"(<textarea[^>]*>).*?(</textarea>)", r"\1\2", text, flags=re.S)
        if body:
            self.scan_text(f"{where} (body)", text)
        for header in ("Location", "Content-Disposition", "Set-Cookie", "Link", "Refresh"):
            value = response.get(header) if hasattr(response, "get") else None
            if value:
                self.scan_text(f"{where} ({header} header)", value)
        for url in re.findall(r'(?:href|src|action|hx-\w+)="([^"]*)"', text):
            self.scan_text(f"{where} (link {url[:60]})", urllib.parse.unquote(url))

    def scan_audit(self) -> None:
        from ctip.audit.models import AuditEvent

        for event in AuditEvent.objects.order_by("seq").iterator():
            text = " ".join(
                [
                    event.actor_username,
                    event.object_type,
                    event.object_id,
                    " ".join(event.fields),
                    str(event.details),
                ]
            )
            self.scan_text(f"audit event #{event.seq}", text)

    def scan_database(self) -> int:
        """Every stored value of every model, except the encrypted columns (through the
        ORM, so it works on SQLite and PostgreSQL alike). Returns the rows scanned."""
        from django.apps import apps

        from ctip.core.models import EncryptedTextField

        rows = 0
        for model in apps.get_models():
            plain = [
                f.attname
                for f in model._meta.concrete_fields
                if not isinstance(f, EncryptedTextField)
            ]
            for values in model._default_manager.values_list(*plain).iterator():
                rows += 1
                self.scan_text(f"table {model._meta.db_table}", " ".join(map(str, values)))
        return rows

    def scan_mail(self, outbox) -> None:
        for i, message in enumerate(outbox):
            parts = [message.subject, message.body, " ".join(message.to)]
            for alternative in getattr(message, "alternatives", []):
                parts.append(str(alternative[0]))
            for attachment in getattr(message, "attachments", []):
                parts.extend(str(p) for p in attachment[:2])
            self.scan_text(f"e-mail #{i} ({message.subject[:40]})", "\n".join(parts))

    @contextlib.contextmanager
    def capture_logs(self):
        """Capture every record of every logger at every level while the block runs,
        formatted with its arguments and exception text (as a log file would hold it)."""
        handler = _ListHandler(self.log_lines)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        root = logging.getLogger()
        loggers = [root] + [
            lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
        ]
        saved = [(lg, lg.level) for lg in loggers]
        for lg in loggers:
            if lg is root or not lg.propagate:
                lg.addHandler(handler)
            lg.setLevel(logging.DEBUG)  # also below the levels the settings keep
        saved_disable = logging.root.manager.disable
        logging.disable(logging.NOTSET)
        try:
            yield self.log_lines
        finally:
            logging.disable(saved_disable)
            for lg, level in saved:
                if handler in lg.handlers:
                    lg.removeHandler(handler)
                lg.setLevel(level)
            self.scan_text("captured logs", "\n".join(self.log_lines))

    def assert_clean(self) -> None:
        assert self.canaries, "no canaries were created"
        unique = {str(f): f for f in self.findings}
        assert not unique, "personal data outside encrypted columns:\n" + "\n".join(unique)


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]):
        super().__init__(level=logging.NOTSET)
        self.lines = lines

    def emit(self, record):
        self.lines.append(self.format(record))


# --- A real node whose output is kept ---------------------------------------------------


def start_logged_node(base: Path, node: str = "KH", database_url: str | None = None):
    """``ctip init`` (+ database URL) + ``demo_data`` + ``serve``, with the process's
    output, at every log level, in ``serve.log`` in the node home."""
    home = base / node.lower()
    if database_url:
        ctip("init", "--node", node, "--home", str(home), "--database-url", database_url)
        ctip("demo_data", "--home", str(home))
    else:  # SQLite: a copy of the demo home made once per test process
        shutil.copytree(demo_home_template(node), home)
    port = free_port()
    env = {**node_env(), "CTIP_LOG_LEVEL": "DEBUG", "PYTHONUNBUFFERED": "1"}
    log = open(home / "serve.log", "wb")  # noqa: SIM115 - closed when the node stops
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "ctip", "serve", "--home", str(home), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                log.close()
                raise RuntimeError(f"node {node} did not start") from None
            time.sleep(0.2)
    running = RunningNode(node, home, url, process, read_credentials(home))
    running.log = log  # type: ignore[attr-defined]
    return running


def stop_logged_node(running) -> None:
    running.stop()
    running.log.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class HttpResponse:
    """The parts of an HTTP answer the harness scans, shaped like Django's test response."""

    status_code: int
    content: bytes
    headers: dict[str, str]

    def get(self, name: str, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        import json

        return json.loads(self.content)


class Browser:
    """A cookie-keeping HTTP client for a real node that does not follow redirects (so that
    every Location header is seen), with CSRF handling for forms."""

    def __init__(self, base_url: str, token: str | None = None):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        self.token = token

    def request(self, method: str, path: str, data: dict | None = None, json_body=None):
        headers = {"Referer": self.base_url + "/"}
        body = None
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            import json

            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            data = {**data}
            csrf = self.cookie("csrftoken") or self.cookie("__Host-ctip-csrf")
            if csrf:
                data.setdefault("csrfmiddlewaretoken", csrf)
                headers["X-CSRFToken"] = csrf
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(  # noqa: S310 - loopback URL of a test node
            self.base_url + path, data=body, method=method, headers=headers
        )
        try:
            with self.opener.open(req, timeout=30) as answer:
                return HttpResponse(answer.status, answer.read(), _lower(answer.headers))
        except urllib.error.HTTPError as error:
            return HttpResponse(error.code, error.read(), _lower(error.headers))

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, data: dict | None = None, json_body=None):
        return self.request("POST", path, data=data or {}, json_body=json_body)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def sign_in(self, username: str, password: str, totp_secret: str | None) -> None:
        self.get("/accounts/login/")
        answer = self.post("/accounts/login/", {"username": username, "password": password})
        assert answer.status_code == 302, answer.status_code
        if totp_secret:
            import base64

            from django_otp.oath import totp

            key = base64.b32decode(totp_secret + "=" * (-len(totp_secret) % 8))
            self.get("/accounts/verify/")
            answer = self.post("/accounts/verify/", {"token": f"{totp(key):06d}"})
            assert answer.status_code == 302, answer.status_code


def _lower(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
