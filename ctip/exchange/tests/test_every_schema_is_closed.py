"""SECURITY.md #24 / DP-3: every registered message type's JSON Schema is its allow-list, so
a field outside it is refused, at the top level and in every nested object.

The walk takes the registry as a running node has it (every app's ``AppConfig.ready`` has
registered its types), builds a body from each schema (every property, one item per
array, the first branch of a ``oneOf``/``anyOf`` that holds an object), checks the body is
valid, then adds one extra field to the top level and to each nested object in turn: each
must be refused. A new type with an open schema anywhere fails here."""

from __future__ import annotations

import copy
import re
import uuid
from pathlib import Path

import pytest

import ctip
from ctip.exchange.core import SchemaInvalid
from ctip.exchange.registry import registered_types, validate_body

EXTRA = "smuggled_narrative"

# Strings tried, in order, for a "pattern" (the first that fits is used): every pattern a
# registered schema uses today has one here; a new pattern with none fails the build.
SAMPLES = [
    str(uuid.UUID(int=0x1234)),
    "2026-11-01",
    "2026-11",
    "KH-C-00AB12CD",
    "KH-P-00AB12CD",
    "0" * 64,
    "0" * 20,
    "abcdef0123456789",
    "A" * 44,
    "QUJDRA==",
    "handle_1234abcd",
    "kh-agency-a",
    "KH",
    "",
]


def _string(schema: dict) -> str:
    low, high = schema.get("minLength", 0), schema.get("maxLength", 10_000)
    pattern = schema.get("pattern")
    fmt = schema.get("format")
    if fmt == "date-time":
        return "2026-11-01T08:00:00+00:00"
    if fmt == "date":
        return "2026-11-01"
    if pattern is None:
        return "x" * max(low, min(3, high))
    for sample in SAMPLES:
        if low <= len(sample) <= high and re.search(pattern, sample):
            return sample
    raise AssertionError(f"no sample string fits the pattern {pattern!r}: add one to SAMPLES")


def _branch(options: list[dict]) -> dict:
    """The branch that lets the walk reach nested objects: an object, else an array, else
    the first that is not null."""
    for wanted in ("object", "array"):
        for option in options:
            if option.get("type") == wanted:
                return option
    return next((o for o in options if o.get("type") != "null"), options[0])


def build(schema: dict):
    """A valid instance with every property filled in (enough for these schemas, which
    use only type, enum, const, pattern, lengths, bounds, items and oneOf/anyOf)."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return build(_branch(schema[key]))
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object" or "properties" in schema:
        return {name: build(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        items = schema.get("items", {})
        count = max(schema.get("minItems", 0), 1 if schema.get("maxItems", 1) >= 1 else 0)
        if "enum" in items and count <= len(items["enum"]):
            return items["enum"][:count]  # distinct values, in case uniqueItems is set
        return [build(items) for _ in range(count)]
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return schema.get("minimum", 0.5)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    raise AssertionError(f"the test cannot build a value for the schema {schema!r}")


def object_paths(value, path=()):
    """The path of every JSON object in ``value``, the top level first."""
    if isinstance(value, dict):
        yield path
        for key, sub in value.items():
            yield from object_paths(sub, (*path, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from object_paths(sub, (*path, index))


def with_extra(body, path):
    smuggled = copy.deepcopy(body)
    target = smuggled
    for part in path:
        target = target[part]
    target[EXTRA] = "free text the receiver never agreed to"
    return smuggled


def test_every_app_that_defines_message_types_has_registered_them():
    """The walk below sees what a running node sees: each module that calls
    ``register_message_type`` has a registered type whose handler it defines or uses."""
    root = Path(ctip.__file__).parent
    callers = set()
    for source in root.rglob("*.py"):
        if "tests" in source.parts or source.name == "registry.py":
            continue
        if "register_message_type(" in source.read_text(encoding="utf-8"):
            callers.add(".".join(source.relative_to(root.parent).with_suffix("").parts))
    handlers = {t.handler.__module__ for t in registered_types()}
    assert callers, "no module registers a message type: the scan is broken"
    assert callers <= handlers, f"registered no type: {sorted(callers - handlers)}"
    apps = {t.name.split(".")[0] for t in registered_types()}
    assert {
        "directory",
        "enforcement",
        "matching",
        "monitoring",
        "plan",
        "prevention",
        "repatriation",
        "ping",
        "keys",
    } <= apps


@pytest.mark.parametrize("entry", registered_types(), ids=lambda t: f"{t.name}-v{t.schema_version}")
def test_the_schema_refuses_a_field_outside_its_allow_list(entry):
    body = build(dict(entry.json_schema))
    validate_body(entry, body)  # the built body itself is valid
    paths = list(object_paths(body))
    assert paths[0] == ()  # the top level is always tried
    accepted = []
    for path in paths:
        try:
            validate_body(entry, with_extra(body, path))
        except SchemaInvalid:
            continue
        accepted.append("/".join(map(str, path)) or "(top level)")
    assert not accepted, f"{entry.name} accepts an extra field at {accepted}"


def test_the_walk_catches_an_open_schema():
    """The check above can fail: a schema open at a nested level is caught there."""
    from jsonschema import Draft202012Validator

    from ctip.exchange.registry import MessageType

    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "officer": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
    }
    entry = MessageType("test.open", 1, schema, print, False, Draft202012Validator(schema))
    body = build(schema)
    refused = []
    for path in object_paths(body):
        try:
            validate_body(entry, with_extra(body, path))
        except SchemaInvalid:
            refused.append(path)
    assert refused == [()]  # the top level refuses it, the open "officer" does not
