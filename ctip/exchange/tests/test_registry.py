"""Message types, their JSON Schemas, and the consent gate at outbox insert (matrix #22, #24)."""

from __future__ import annotations

import pytest

from ctip.audit.models import Action, AuditEvent
from ctip.exchange import registry, services
from ctip.exchange.core import SchemaInvalid, UnknownMessageType, UnknownSchemaVersion
from ctip.exchange.errors import ConsentRefused
from ctip.exchange.models import LogEntry, OutboxMessage

CASE_SCHEMA = {
    "type": "object",
    "properties": {
        "name_latin": {"type": "string", "maxLength": 200},
        "place_of_origin": {"type": "string", "maxLength": 200},
    },
    "required": ["name_latin"],
    "additionalProperties": False,
}


def _ignore(message):
    return None


@pytest.fixture
def case_type():
    registry.register_message_type("test.case_information", 1, CASE_SCHEMA, _ignore, True)
    yield
    registry.unregister_message_type("test.case_information", 1)


@pytest.fixture
def installed_checker():
    """Tests replace the consent checker (the cases app installs the real one); put it back."""
    previous = registry.get_consent_checker()
    yield
    registry.set_consent_checker(previous)


@pytest.fixture
def consent(installed_checker):
    decisions = []

    def checker(case_ref, country, purpose):
        decisions.append((case_ref, country, purpose))
        return (case_ref, country, purpose) == ("KH-C-0001", "CN", "repatriation")

    registry.set_consent_checker(checker)
    return decisions


def send_case(**kwargs):
    kwargs.setdefault("case_ref", "KH-C-0001")
    kwargs.setdefault("purpose", "repatriation")
    kwargs.setdefault("body", {"name_latin": "CHAN SOKHA"})
    return services.message_send(
        actor=kwargs.pop("actor", None),
        to="CN",
        msg_type="test.case_information",
        enqueue=False,
        **kwargs,
    )


def test_builtin_types_are_registered():
    names = {(t.name, t.schema_version, t.personal_data) for t in registry.registered_types()}
    assert {("ping", 1, False), ("keys.update", 1, False)} <= names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Bad Name", 1, {"type": "object"}), "lower_snake_case"),
        (("ok", 0, {"type": "object"}), "schema_version"),
        (("ok", 1, {"type": "array"}), "JSON object"),
        (("ok", 1, {"type": "object", "properties": {"a": {"type": "nope"}}}), "invalid JSON"),
    ],
)
def test_registration_is_checked(args, message):
    with pytest.raises(ValueError, match=message):
        registry.register_message_type(*args, handler=_ignore, personal_data=False)


def test_registering_twice(case_type):
    again = registry.register_message_type("test.case_information", 1, CASE_SCHEMA, _ignore, True)
    assert again.handler is _ignore
    with pytest.raises(ValueError, match="already registered"):
        registry.register_message_type("test.case_information", 1, CASE_SCHEMA, print, True)


def test_lookup_names_what_is_unknown(case_type):
    with pytest.raises(UnknownMessageType):
        registry.message_type("nope", 1)
    with pytest.raises(UnknownSchemaVersion):
        registry.message_type("test.case_information", 2)


def test_schema_errors_name_the_path_never_the_value(case_type):
    entry = registry.message_type("test.case_information", 1)
    with pytest.raises(SchemaInvalid) as info:
        registry.validate_body(entry, {"name_latin": "CHAN SOKHA", "narrative": "SECRET STORY"})
    assert "additionalProperties" in str(info.value)
    assert "SECRET" not in str(info.value) and "CHAN" not in str(info.value)
    with pytest.raises(SchemaInvalid, match="name_latin fails type"):
        registry.validate_body(entry, {"name_latin": 7})


@pytest.mark.django_db
def test_default_consent_checker_refuses_and_nothing_is_queued(
    cn_peer, case_type, caseworker_a, installed_checker
):
    """Matrix #22: without a consent checker installed, no personal data leaves."""
    registry.set_consent_checker(None)
    with pytest.raises(ConsentRefused, match="nothing was queued"):
        send_case(actor=caseworker_a)
    assert OutboxMessage.objects.count() == 0 and LogEntry.objects.count() == 0
    event = AuditEvent.objects.get(action=Action.SECURITY, details__event="consent_refused")
    assert event.actor_username == "caseworker_a"
    assert (event.object_type, event.object_id) == ("exchange.message", "KH-C-0001")
    assert event.details == {
        "event": "consent_refused",
        "type": "test.case_information",
        "to": "CN",
        "purpose": "repatriation",
    }
    assert "CHAN" not in str(event.details)


@pytest.mark.django_db
def test_a_consent_refusal_is_kept_when_the_callers_transaction_rolls_back(
    cn_peer, case_type, caseworker_a, installed_checker
):
    """The refusal is a refused attempt: a service that sends in its own transaction and
    lets the refusal propagate rolls back, the security event stays (once)."""
    from django.db import transaction

    registry.set_consent_checker(None)
    with pytest.raises(ConsentRefused), transaction.atomic():
        send_case(actor=caseworker_a)
    assert OutboxMessage.objects.count() == 0
    assert AuditEvent.objects.filter(details__event="consent_refused").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"case_ref": "KH-C-0002"},  # another case
        {"purpose": "prosecution"},  # another purpose
        {"case_ref": ""},  # no case at all
        {"purpose": ""},
    ],
)
def test_consent_must_cover_case_and_purpose(cn_peer, case_type, consent, change):
    with pytest.raises(ConsentRefused):
        send_case(**change)
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_consent_given_lets_the_message_through(cn_peer, case_type, consent):
    msg = send_case()
    assert consent == [("KH-C-0001", "CN", "repatriation")]
    assert (msg.status, msg.case_ref, msg.purpose) == ("pending", "KH-C-0001", "repatriation")
    created = AuditEvent.objects.get(action=Action.CREATE, object_type="exchange.outboxmessage")
    assert created.fields == ["body"]  # personal data was written (encrypted)


@pytest.mark.django_db
def test_a_failing_consent_checker_fails_closed(cn_peer, case_type, installed_checker):
    def broken(*args):
        raise RuntimeError("database down")

    registry.set_consent_checker(broken)
    with pytest.raises(ConsentRefused):
        send_case()


@pytest.mark.django_db
def test_schema_blocks_a_field_outside_the_allow_list(cn_peer, case_type, consent):
    """Matrix #24: a non-allow-listed field (e.g. a narrative) never reaches an envelope."""
    with pytest.raises(SchemaInvalid):
        send_case(body={"name_latin": "X", "narrative": "what happened"})
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_unknown_type_cannot_be_queued(cn_peer):
    with pytest.raises(UnknownMessageType):
        services.message_send(actor=None, to="CN", msg_type="nope", body={}, enqueue=False)
    assert OutboxMessage.objects.count() == 0


def test_non_personal_types_need_no_consent():
    assert registry.message_type("ping", 1).personal_data is False
    assert registry.consent_allows("", "CN", "x") is False
