"""Deny by default (security matrix #27): walk every URL pattern as every kind of user.

The walker resolves the whole URL tree (UI, API, exchange), fills each path converter
with sample values taken from the database (real object ids of the fixture, and ids that
exist nowhere), and requests every URL with GET and POST as each persona. It reports:

* a view with no declared permission (``@permission``, ``@signed_in``, ``@public``, or
  ``view.ctip_permission`` on API views);
* a success (2xx, or a redirect that is not to sign-in) for a persona that the declared
  permission and ``permissions.CAPABILITIES`` do not allow, or, for a record with an owning
  agency, that the object rule does not allow (own agency unless sealed, or a grant);
* a denied signed-in persona that gets anything but the one "not found" (404), or a
  different answer for an existing record than for a missing one;
* a denial of a signed-in persona that left no security event in the audit log.

Nothing here lists which answer a URL should give: the expectation is computed from the
view's declared permission. A model whose records are visible by another rule than the
owning agency may say so with a method ``ctip_visible_to(self, user) -> bool``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern

from ctip.accounts import permissions
from ctip.accounts.models import AccessGrant
from ctip.audit.models import Action, AuditEvent

PUBLIC, SIGNED_IN = "public", "signed_in"
MISSING_VALUES = (str(uuid.UUID(int=0x5EC0_0000_0000_4000_8000_0000_0000_0001)), "987654321", "x")


@dataclass(frozen=True)
class Route:
    """One URL pattern, with the prefixes and converters of the resolvers above it."""

    route: str
    name: str
    callback: Callable
    converters: dict = field(default_factory=dict, compare=False)
    regex: bool = False

    def __str__(self) -> str:
        return f"/{self.route} ({self.name or 'unnamed'}, {describe(self.callback)})"


def describe(callback) -> str:
    return f"{getattr(callback, '__module__', '?')}.{getattr(callback, '__name__', repr(callback))}"


def iter_routes(urlconf=None) -> Iterator[Route]:
    yield from _walk(get_resolver(urlconf).url_patterns, "", "", {}, False)


def _walk(patterns, prefix: str, namespace: str, converters: dict, regex: bool):
    for entry in patterns:
        part, is_regex = _pattern_text(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            yield from _walk(
                entry.url_patterns,
                prefix + part,
                f"{namespace}{ns}:" if ns else namespace,
                {**converters, **getattr(entry.pattern, "converters", {})},
                regex or is_regex,
            )
        elif isinstance(entry, URLPattern):
            yield Route(
                prefix + part,
                f"{namespace}{entry.name}" if entry.name else "",
                entry.callback,
                {**converters, **getattr(entry.pattern, "converters", {})},
                regex or is_regex,
            )


def _pattern_text(pattern) -> tuple[str, bool]:
    if isinstance(pattern, RoutePattern):
        return str(pattern), False
    text = str(pattern).removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    return text, True


# --- Declared permissions -----------------------------------------------------------------


def declared_permission(callback) -> tuple | None:
    """The ``ctip_permission`` of a view, looking through decorators (``__wrapped__``),
    class-based and DRF views (``view_class``/``cls``) and the closures DRF wraps around
    function views."""
    seen: set[int] = set()
    todo = [callback]
    while todo:
        obj = todo.pop(0)
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        declared = getattr(obj, "ctip_permission", None)
        if declared is not None:
            return tuple(declared)
        todo.append(getattr(obj, "__wrapped__", None))
        for attr in ("view_class", "cls"):
            klass = getattr(obj, attr, None)
            if isinstance(klass, type):
                todo.append(klass)
                for method in ("get", "post", "put", "patch", "delete"):
                    todo.append(getattr(klass, method, None))
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                content = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if callable(content) and not isinstance(content, type):
                todo.append(content)
    return None


def undeclared(urlconf=None) -> list[Route]:
    """Routes whose view declares no permission: each one is a failure."""
    return [r for r in iter_routes(urlconf) if declared_permission(r.callback) is None]


def allowed_by_declaration(declared: tuple, user) -> bool:
    kind = declared[0]
    if kind == PUBLIC:
        return True
    if kind == SIGNED_IN:
        return user is not None and user.is_authenticated
    if user is None:
        return False
    resource, action = declared[0], declared[1]
    return permissions.can(user, resource, action)


def visible_object(obj, user) -> bool:
    """The object rule of ``permissions.scope``, independent of the resource name:
    own agency unless sealed, or an unexpired need-to-know grant for this record."""
    rule = getattr(obj, "ctip_visible_to", None)
    if callable(rule):
        return bool(rule(user))
    from django.utils import timezone

    if user is None:
        return False
    own = obj.owner_agency_id == user.agency_id and not getattr(obj, "sealed", False)
    granted = AccessGrant.objects.filter(
        user=user, object_id=str(obj.pk), expires_at__gt=timezone.now()
    ).exists()
    return own or granted


# --- Sample values for path converters ----------------------------------------------------


@dataclass(frozen=True)
class Sample:
    value: str
    obj: models.Model | None = None  # the record it names, if any

    @property
    def missing(self) -> bool:
        return self.obj is None


def _singulars(segment: str) -> set[str]:
    word = segment.lower().replace("-", "").replace("_", "")
    forms = {word}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    if word.endswith("es"):
        forms.add(word[:-2])
    if word.endswith("s"):
        forms.add(word[:-1])
    return {f for f in forms if len(f) >= 3}


def _segment_before(route: Route, name: str) -> str:
    match = re.search(rf"<(?:\w+:)?{name}>", route.route)
    text = route.route[: match.start()] if match else route.route
    parts = [p for p in re.sub(r"<[^>]*>", "", text).split("/") if p]
    return parts[-1] if parts else ""


def models_named_by(route: Route, name: str, app_label: str | None) -> list[type[models.Model]]:
    """Models the URL segment before the converter names (``persons/<uuid:pk>`` names
    Person, ``follow-ups/<uuid:pk>`` names AssessmentFollowUp), the view's app first."""
    forms = _singulars(_segment_before(route, name))
    found = [
        m
        for m in apps.get_models()
        if any(m._meta.model_name == f or m._meta.model_name.endswith(f) for f in forms)
    ]
    return sorted(found, key=lambda m: m._meta.app_label != app_label)


def _field_for(model, name: str) -> str:
    """The field a converter names (``<str:code>`` -> ``code``), else the primary key."""
    for f in model._meta.fields:
        if f.name == name and not f.is_relation:
            return f.attname
    return model._meta.pk.attname


def _rows(model, focus_agency_id) -> list:
    """A record of the focus agency, a sealed one if the model has sealing, else the first."""
    qs = model._default_manager.order_by("pk")
    names = {f.name for f in model._meta.fields}
    if "owner_agency" in names and focus_agency_id is not None:
        own = qs.filter(owner_agency_id=focus_agency_id)
        if "sealed" in names:
            rows = [own.filter(sealed=False).first(), own.filter(sealed=True).first()]
        else:
            rows = [own.first()]
        rows = [r for r in rows if r is not None]
        if rows:
            return rows
    first = qs.first()
    return [first] if first is not None else []


def _samples_of(model, name: str, regex, focus_agency_id) -> list[Sample]:
    attname = _field_for(model, name)
    out = []
    for obj in _rows(model, focus_agency_id):
        value = str(getattr(obj, attname))
        if regex.fullmatch(value):
            out.append(Sample(value, obj))
    return out


def candidates(route: Route, app_label: str | None, focus_agency_id=None) -> list[dict]:
    """Keyword sets for the route's converters: real records of the model the URL names
    (of the focus agency, and a sealed one, where the model has owning agencies), else
    one record of the view's own app, else of any app; and always one id of nothing."""
    if not route.converters:
        return [{}]
    per_name: dict[str, list[Sample]] = {}
    for name, converter in route.converters.items():
        regex = re.compile(f"(?:{converter.regex})")
        found: list[Sample] = []
        for model in models_named_by(route, name, app_label):
            found += _samples_of(model, name, regex, focus_agency_id)
        if not found:
            ordered = sorted(apps.get_models(), key=lambda m: m._meta.app_label != app_label)
            for model in ordered:
                found = _samples_of(model, name, regex, focus_agency_id)[:1]
                if found:
                    break
        missing = [Sample(v) for v in MISSING_VALUES if regex.fullmatch(v)][:1]
        per_name[name] = _dedupe(found) + missing
    # One converter varies at a time; the others take their first value.
    names = list(per_name)
    sets = []
    for name in names:
        for sample in per_name[name]:
            kw = {n: per_name[n][0] for n in names if per_name[n]}
            kw[name] = sample
            sets.append(kw)
    unique = {tuple((k, v.value) for k, v in kw.items()): kw for kw in sets}
    return list(unique.values())


def _dedupe(samples: list[Sample]) -> list[Sample]:
    out, seen = [], set()
    for s in samples:
        if s.value not in seen:
            seen.add(s.value)
            out.append(s)
    return out


def fill(route: Route, kwargs: dict) -> str | None:
    """The URL of ``route`` with its converters replaced by the sample values."""
    if route.regex:
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: kwargs[m.group(1)].value, route.route)
        if re.search(r"[()\[\]*+?\\]", text):
            return None  # a pattern the walker cannot fill: use path() with converters
    else:
        text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: kwargs[m.group(1)].value, route.route)
    return "/" + text


# --- The walk -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    label: str
    user: object | None  # None: anonymous
    client_factory: Callable[[object], Client] | None = None

    def client(self) -> Client:
        if self.user is None or self.client_factory is None:
            return Client()
        return self.client_factory(self.user)


@dataclass
class Observation:
    method: str
    url: str
    route: Route
    persona: str
    status: int
    success: bool
    allowed: bool
    sample_missing: bool
    body: str = ""  # with the sample values masked, to compare answers


@dataclass
class WalkResult:
    observations: list[Observation] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    undeclared: list[Route] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"view without a declared permission: {r}" for r in self.undeclared]
        lines += self.violations
        return "\n".join(lines)


SIGN_IN_PREFIXES = ("/accounts/login/", "/accounts/verify/")


def is_success(response) -> bool:
    if 200 <= response.status_code < 300:
        return True
    if 300 <= response.status_code < 400:
        location = response.get("Location", "")
        return not location.startswith(SIGN_IN_PREFIXES)
    return False


def _app_label(callback) -> str | None:
    module = getattr(callback, "__module__", "") or ""
    config = apps.get_containing_app_config(module)
    return config.label if config else None


def walk(
    personas: list[Persona],
    *,
    urlconf=None,
    methods: tuple[str, ...] = ("GET", "POST"),
    include: Callable[[Route], bool] = lambda route: True,
    focus_agency=None,
) -> WalkResult:
    """Request every route (that ``include`` keeps) as every persona. ``focus_agency``:
    the agency whose records are tried (the one most personas belong to)."""
    result = WalkResult()
    focus = getattr(focus_agency, "pk", focus_agency)
    clients = {p.label: p.client() for p in personas}
    routes = [r for r in iter_routes(urlconf) if include(r)]
    for route in routes:
        declared = declared_permission(route.callback)
        if declared is None:
            result.undeclared.append(route)
            continue
        for kwargs in candidates(route, _app_label(route.callback), focus):
            url = fill(route, kwargs)
            if url is None:
                result.violations.append(f"{route}: cannot fill this regex pattern")
                continue
            try:
                match = resolve(url, urlconf)
            except Resolver404:
                continue
            if match.func is not route.callback:
                continue  # shadowed by an earlier pattern; that one is walked on its own
            objects = [s.obj for s in kwargs.values() if s.obj is not None]
            for persona in personas:
                for method in methods:
                    _request(
                        result, clients, persona, route, declared, url, method, objects, kwargs
                    )
    _compare_missing_and_forbidden(result)
    return result


def _label(obj) -> str:
    return obj._meta.app_label


def _request(result, clients, persona, route, declared, url, method, objects, kwargs):
    client = clients[persona.label]
    user = persona.user
    if user is not None and not _session_cookie(client):
        client = clients[persona.label] = persona.client()  # a POST signed it out; sign in again
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    response = getattr(client, method.lower())(url)
    allowed = allowed_by_declaration(declared, user)
    scoped = [o for o in objects if _has_object_rule(o)]
    if allowed and declared[0] not in (PUBLIC, SIGNED_IN) and scoped:
        allowed = all(visible_object(o, user) for o in scoped)
    success = is_success(response)
    body = normalise(response.content.decode("utf-8", "replace"), kwargs.values())
    missing = any(s.missing for s in kwargs.values())
    result.observations.append(
        Observation(
            method, url, route, persona.label, response.status_code, success, allowed, missing, body
        )
    )
    where = f"{method} {url} as {persona.label}"
    if success and not allowed:
        result.violations.append(
            f"{where}: answered {response.status_code} but {declared} does not allow it ({route})"
        )
        return
    denied_signed_in = user is not None and not allowed and declared[0] not in (PUBLIC, SIGNED_IN)
    if denied_signed_in and response.status_code not in (404, 405):
        result.violations.append(
            f"{where}: a denied request must answer 404 (not found), got {response.status_code}"
        )
    if denied_signed_in and response.status_code == 404:
        logged = AuditEvent.objects.filter(
            seq__gt=before, action=Action.SECURITY, actor_id=user.pk
        ).exists()
        if not logged:
            result.violations.append(f"{where}: denied without a security event in the audit log")


def _session_cookie(client) -> str:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie is not None and cookie["max-age"] != 0 else ""


def normalise(body: str, samples) -> str:
    """The body with what legitimately differs between two answers masked: the sample
    values themselves, numbers, per-response nonces and CSRF tokens."""
    for sample in samples:
        if len(sample.value) >= 4:
            body = body.replace(sample.value, "{id}")
    body = re.sub(r'nonce="[^"]*"', 'nonce=""', body)
    body = re.sub(r'(csrfmiddlewaretoken" value=|csrf[-_]token" content=)"[^"]*"', r'\1""', body)
    return re.sub(r"\d+", "0", body)


def _has_object_rule(obj) -> bool:
    names = {f.name for f in obj._meta.fields}
    return callable(getattr(obj, "ctip_visible_to", None)) or "owner_agency" in names


def _compare_missing_and_forbidden(result: WalkResult) -> None:
    """For each route, method and persona: a denied existing record and a missing one get
    the same answer (status and body, with the id masked)."""
    missing: dict[tuple, Observation] = {}
    for o in result.observations:
        if o.sample_missing:
            missing[(o.route.route, o.route.name, o.method, o.persona)] = o
    for o in result.observations:
        if o.sample_missing or o.allowed:
            continue
        ref = missing.get((o.route.route, o.route.name, o.method, o.persona))
        if ref is None:
            continue
        if (o.status, o.body) != (ref.status, ref.body):
            result.violations.append(
                f"{o.method} {o.url} as {o.persona}: a record they may not see answers "
                f"{o.status}, a missing one {ref.status} ({ref.url}): forbidden and missing "
                "must look the same"
            )
