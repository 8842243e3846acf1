"""Message types and the consent hook. Domain apps register here; exchange knows no domain app.

A domain app registers each of its message types once, from its ``AppConfig.ready``::

    from ctip.exchange.registry import register_message_type

    register_message_type(
        "case_information", 1, CASE_INFORMATION_SCHEMA, handle_case_information,
        personal_data=True,
    )

The JSON Schema is the allow-list of what the body may hold (SECURITY.md DP-3): it is
checked when a message is created *and* when one arrives. A type whose bodies hold
personal data cannot be put in the outbox unless the consent checker allows it for the
case, the recipient country and the purpose (DP-1); until the cases app installs its
checker with :func:`set_consent_checker`, every such message is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from ctip.exchange.core import SchemaInvalid, UnknownMessageType, UnknownSchemaVersion

__all__ = [
    "IncomingMessage",
    "MessageType",
    "consent_allows",
    "get_consent_checker",
    "message_type",
    "register_message_type",
    "registered_types",
    "set_consent_checker",
    "validate_body",
]

TYPE_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")


@dataclass(frozen=True)
class IncomingMessage:
    """What a handler gets: a verified, schema-valid message, inside the receiving transaction."""

    msg_id: str
    sender: str
    msg_type: str
    schema_version: int
    body: dict[str, Any]
    case_ref: str | None
    purpose: str | None
    in_reply_to: str | None
    signer_kid: str
    sent_at: datetime
    transport: str


Handler = Callable[[IncomingMessage], None]
ConsentChecker = Callable[[str, str, str], bool]


@dataclass(frozen=True)
class MessageType:
    name: str
    schema_version: int
    json_schema: Mapping[str, Any]
    handler: Handler
    personal_data: bool
    validator: Draft202012Validator = field(repr=False, compare=False)


_TYPES: dict[tuple[str, int], MessageType] = {}


def register_message_type(
    type: str,  # noqa: A002 - the envelope's own name for it
    schema_version: int,
    json_schema: Mapping[str, Any],
    handler: Handler,
    personal_data: bool,
) -> MessageType:
    """Register a type and version with its JSON Schema and handler.

    Registering the same (type, version) again with the same handler is a no-op (apps may
    be set up twice in one process); with a different handler it is an error.
    """
    if not isinstance(type, str) or len(type) > 80 or not TYPE_NAME.fullmatch(type):
        raise ValueError(f"message type {type!r} must be dotted lower_snake_case, <= 80 chars")
    if (
        not isinstance(schema_version, int)
        or isinstance(schema_version, bool)
        or schema_version < 1
    ):
        raise ValueError("schema_version must be an int >= 1")
    if not isinstance(personal_data, bool):
        raise ValueError("personal_data must be True or False")
    if not callable(handler):
        raise ValueError("handler must be callable")
    try:
        Draft202012Validator.check_schema(json_schema)
    except SchemaError as exc:
        raise ValueError(
            f"invalid JSON Schema for {type} v{schema_version}: {exc.message}"
        ) from None
    if json_schema.get("type") != "object":
        raise ValueError("a message body schema must describe a JSON object")
    key = (type, schema_version)
    existing = _TYPES.get(key)
    if existing is not None:
        if existing.handler is handler and existing.personal_data == personal_data:
            return existing
        raise ValueError(f"message type {type} v{schema_version} is already registered")
    entry = MessageType(
        type, schema_version, json_schema, handler, personal_data, Draft202012Validator(json_schema)
    )
    _TYPES[key] = entry
    return entry


def unregister_message_type(type: str, schema_version: int) -> None:  # noqa: A002
    """For tests that register a type of their own."""
    _TYPES.pop((type, schema_version), None)


def registered_types() -> list[MessageType]:
    return [_TYPES[key] for key in sorted(_TYPES)]


def message_type(type: str, schema_version: int) -> MessageType:  # noqa: A002
    """The registered type, or the refusal that travels back in a signed receipt."""
    entry = _TYPES.get((type, schema_version))
    if entry is not None:
        return entry
    if any(name == type for name, _ in _TYPES):
        raise UnknownSchemaVersion(f"{type} has no schema version {schema_version}")
    raise UnknownMessageType(f"no message type {type!r} is registered")


def validate_body(entry: MessageType, body: Any) -> None:
    """Validate a body; the error names the path and the rule, never the value (it may be PII)."""
    error = next(iter(sorted(entry.validator.iter_errors(body), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(body)"
        raise SchemaInvalid(
            f"{entry.name} v{entry.schema_version}: {where} fails {error.validator}"
        )


# --- Consent (SECURITY.md DP-1, matrix #22) ---------------------------------------------------


def _refuse_everything(case_ref: str, recipient_country: str, purpose: str) -> bool:
    """The default until the cases app installs the real check: nothing personal leaves."""
    return False


_consent_checker: ConsentChecker = _refuse_everything


def set_consent_checker(checker: ConsentChecker | None) -> None:
    """Install ``checker(case_ref, recipient_country, purpose) -> bool`` (None: refuse all)."""
    global _consent_checker
    if checker is not None and not callable(checker):
        raise ValueError("the consent checker must be callable")
    _consent_checker = checker or _refuse_everything


def get_consent_checker() -> ConsentChecker:
    """The checker in use (tests put it back after replacing it)."""
    return _consent_checker


def consent_allows(case_ref: str, recipient_country: str, purpose: str) -> bool:
    """True only if the checker says so; a checker that fails counts as a refusal."""
    if not case_ref or not purpose:
        return False
    try:
        return _consent_checker(case_ref, recipient_country, purpose) is True
    except Exception:  # noqa: BLE001 - fail closed: an error in the check never lets data out
        return False
