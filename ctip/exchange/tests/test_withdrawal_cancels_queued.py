"""DP-8, matrix #23 (the outbox part): a withdrawal cancels what still waits in the outbox.

KH is the country where a Chinese national was found; the repatriation steps go into the
real outbox through the real consent gate, and the real relay delivers to a fake CN node on
loopback (the outside world). What must hold: a queued message that relied on the withdrawn
consent is cancelled in the withdrawal's own transaction and never reaches the peer, not
even through a sender that loaded it before the withdrawal, a retry or a bundle file;
messages about another person, non-personal ones and delivered ones are left as they are;
one audit row per withdrawal names the counts and no personal data.
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ctip.audit.models import Action, AuditEvent
from ctip.cases import repatriation as rp
from ctip.cases import services as cases
from ctip.cases.models import Consent, EventKind
from ctip.cases.tests.conftest import VICTIM_ANSWERS
from ctip.exchange import registry, selectors, services
from ctip.exchange.models import OutboxMessage
from ctip.exchange.transport import post_envelope

pytestmark = pytest.mark.django_db

NV, REP = "nationality_verification", "repatriation"
CANARY = "Canarywithdraw Qzvx"
OTHER_CANARY = "Canaryother Jxwq"
TEST_TYPE = "test.personal_note"


def _case(user, name: str, document: str):
    person = cases.person_create(
        user=user,
        data=cases.PersonInput(
            name_latin=name, sex="male", birth_year=1999, nationality="CN", document_number=document
        ),
    )
    screening = cases.screening_start(user=user, person=person)
    cases.screening_submit(user=user, screening=screening, raw=dict(VICTIM_ANSWERS))
    return cases.case_open(user=user, person=person, screening=screening, track="cross_border")


def _consent(case, user, purpose, categories):
    return cases.consent_record(
        user=user,
        case=case,
        data=cases.ConsentInput(
            decision="given",
            purpose=purpose,
            recipient_country="CN",
            data_categories=tuple(categories),
            given_on=timezone.localdate(),
            how_given="written",
            language="zh",
        ),
    )


@pytest.fixture
def case(caseworker_a, cn_peer):
    case = _case(caseworker_a, CANARY, "E11112222")
    _consent(case, caseworker_a, NV, ["identity", "origin", "documents"])
    _consent(case, caseworker_a, REP, ["identity", "documents", "case_progress"])
    return case


@pytest.fixture
def other_case(caseworker_a, cn_peer):
    other = _case(caseworker_a, OTHER_CANARY, "E33334444")
    _consent(other, caseworker_a, NV, ["identity", "origin", "documents"])
    return other


@pytest.fixture
def personal_type():
    """A personal-data type any message can be queued as, with or without a consent_ref."""
    schema = {
        "type": "object",
        "properties": {"note": {"type": "string"}},
        "additionalProperties": False,
    }
    registry.register_message_type(TEST_TYPE, 1, schema, lambda message: None, True)
    yield
    registry.unregister_message_type(TEST_TYPE, 1)


def notify(case, user) -> OutboxMessage:
    """The first step of the flow: personal data, relying on the NV consent."""
    rp.step_send(user=user, case=case, step="case_notification", data={"found_in": "KH-18"})
    return OutboxMessage.objects.filter(case_ref=case.reference).latest("seq")


def nv_consent(case) -> Consent:
    return case.consents.get(purpose=NV)


def withdraw(case, user) -> Consent:
    return cases.consent_withdraw(user=user, consent=nv_consent(case), reason="wants to stay")


def cancel_audit() -> AuditEvent:
    return AuditEvent.objects.get(action=Action.UPDATE, details__event="outbox_cancelled")


def delivered_ids(fake_cn) -> set[str]:
    return {message.msg_id for message in fake_cn.received}


def fresh(msg: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=msg.pk)


def test_withdrawal_cancels_the_queued_message_and_it_is_never_delivered(
    case, other_case, caseworker_a, cn_peer, fake_cn
):
    queued = notify(case, caseworker_a)
    assert queued.consent_ref == str(nv_consent(case).pk) and queued.status == "pending"
    about_other = notify(other_case, caseworker_a)
    ping = services.message_send(
        actor=None,
        to="CN",
        msg_type="ping",
        body={"nonce": "00000000deadbeef"},
        case_ref=case.reference,
        purpose=NV,
        enqueue=False,
    )

    withdraw(case, caseworker_a)

    cancelled = fresh(queued)
    assert (cancelled.status, cancelled.last_error) == ("cancelled", "consent_withdrawn")
    assert cancelled.cancelled_at is not None and cancelled.attempts == 0
    assert fresh(about_other).status == "pending"  # another person
    assert fresh(ping).status == "pending"  # no personal data
    notice = OutboxMessage.objects.get(msg_type=rp.WITHDRAWN_TYPE)
    assert notice.status == "pending"  # the peer is still told (without personal data)

    report = services.outbox_relay(peer=cn_peer)
    assert str(queued.pk) not in delivered_ids(fake_cn)
    assert delivered_ids(fake_cn) == {str(about_other.pk), str(ping.pk), str(notice.pk)}
    assert report.waiting == 0 and report.stopped_by == ""  # it does not block the queue
    assert fresh(queued).status == "cancelled"

    # Neither "retry now", a later relay nor a bundle file brings it back.
    assert services.outbox_retry_now(actor=None, peer=cn_peer) == 0
    services.outbox_relay(peer=cn_peer, now=services.now_ts() + 86_400)
    bundle = services.bundle_export(actor=None, to="CN")
    assert bundle.count == 0
    assert str(queued.pk) not in delivered_ids(fake_cn)
    assert fresh(queued).status == "cancelled" and fresh(queued).tokens.count() == 1

    event = cancel_audit()
    assert event.actor_username == "caseworker_a"
    assert (event.object_type, event.object_id) == ("exchange.outbox", str(nv_consent(case).pk))
    assert event.details == {
        "event": "outbox_cancelled",
        "reason": "consent_withdrawn",
        "to": "CN",
        "cancelled": 1,
        "attempted": 0,
        "already_delivered": 0,
        "messages": [str(queued.pk)],
        "delivered_messages": [],
    }
    assert CANARY not in json.dumps(event.details) and "E11112222" not in json.dumps(event.details)
    timeline = case.events.filter(kind=EventKind.CONSENT_WITHDRAWN).get()
    assert timeline.details["messages_cancelled"] == 1
    assert timeline.details["messages_already_delivered"] == 0


def test_a_message_that_names_no_consent_is_cancelled_by_case_and_purpose(
    case, caseworker_a, cn_peer, fake_cn, personal_type
):
    def queue(purpose, consent_ref=""):
        return services.message_send(
            actor=None,
            to="CN",
            msg_type=TEST_TYPE,
            body={"note": "x"},
            case_ref=case.reference,
            purpose=purpose,
            consent_ref=consent_ref,
            enqueue=False,
        )

    unknown_basis = queue(NV)  # e.g. queued from the command line without --consent-ref
    made_up_basis = queue(NV, consent_ref="not-a-recorded-consent")
    other_purpose = queue(REP)  # the repatriation consent still holds
    relied_on_rep = queue(NV, consent_ref=str(case.consents.get(purpose=REP).pk))

    withdraw(case, caseworker_a)

    assert fresh(unknown_basis).status == "cancelled"
    assert fresh(made_up_basis).status == "cancelled"
    assert fresh(other_purpose).status == "pending"
    # It names another recorded consent, so the outbox can tell it did not rely on this one
    # (it is stopped at send time instead: no consent covers NV any more, see below).
    assert fresh(relied_on_rep).status == "pending"
    assert cancel_audit().details["cancelled"] == 2

    services.outbox_relay(peer=cn_peer)
    assert delivered_ids(fake_cn) == {str(other_purpose.pk)}
    assert fresh(relied_on_rep).status == "cancelled"
    assert fresh(relied_on_rep).last_error == "consent_no_longer_valid"


def test_a_delivered_message_is_reported_not_changed(case, caseworker_a, cn_peer, fake_cn):
    sent = notify(case, caseworker_a)
    services.outbox_relay(peer=cn_peer)
    before = fresh(sent)
    assert before.status == "acknowledged" and str(sent.pk) in delivered_ids(fake_cn)

    withdraw(case, caseworker_a)

    after = fresh(sent)
    assert (after.status, after.receipt, after.cancelled_at) == (
        "acknowledged",
        before.receipt,
        None,
    )
    details = cancel_audit().details
    assert (details["cancelled"], details["already_delivered"]) == (0, 1)
    assert details["delivered_messages"] == [str(sent.pk)]
    timeline = case.events.filter(kind=EventKind.CONSENT_WITHDRAWN).get()
    assert timeline.details["messages_already_delivered"] == 1


@pytest.mark.parametrize("hours_later", [0, 12], ids=["token-fresh", "token-resealed"])
def test_a_sender_holding_the_message_does_not_send_it(
    case, caseworker_a, cn_peer, fake_cn, hours_later
):
    """The relay loaded the message (it is the head of the queue), then the withdrawal
    committed, then the relay calls the send function with what it loaded. A later consent
    covers the purpose again, so the consent check at send would let it pass: only the
    cancelled state stops it (the message relied on the consent that was withdrawn)."""
    relied_on = nv_consent(case)
    notify(case, caseworker_a)
    _consent(case, caseworker_a, NV, ["identity", "origin", "documents"])
    held = (
        cn_peer.outbox.filter(status__in=OutboxMessage.UNDELIVERED)
        .select_related("peer", "data_key")
        .order_by("seq")
        .first()
    )
    assert held.consent_ref == str(relied_on.pk)
    cases.consent_withdraw(user=caseworker_a, consent=relied_on)
    assert held.status == "pending"  # what the sender still believes
    assert registry.consent_allows(case.reference, "CN", NV)  # the later consent

    delivery = services.deliver(held, now=services.now_ts() + hours_later * 3600)

    assert delivery.outcome == "skipped"
    assert fake_cn.requests == 0 and delivered_ids(fake_cn) == set()
    after = fresh(held)
    assert (after.status, after.attempts) == ("cancelled", 0)


def test_a_copy_already_on_the_wire_is_recorded_as_delivered_and_flagged(
    case, caseworker_a, cn_peer, fake_cn
):
    """The one window the outbox cannot close: the sender claimed the message and is
    posting it when the withdrawal commits. The peer's receipt is kept as evidence, the
    message is recorded as delivered (it was), and the DPO sees a security event."""
    msg = notify(case, caseworker_a)

    def post_while_withdrawing(url, token, *, timeout):
        withdraw(case, caseworker_a)
        return post_envelope(url, token, timeout=timeout)

    delivery = services.deliver(fresh(msg), post=post_while_withdrawing)

    assert delivery.outcome == "acknowledged" and str(msg.pk) in delivered_ids(fake_cn)
    details = cancel_audit().details
    assert (details["cancelled"], details["attempted"]) == (1, 1)
    after = fresh(msg)
    assert after.status == "acknowledged" and after.cancelled_at is not None and after.receipt
    flagged = AuditEvent.objects.get(
        action=Action.SECURITY, details__event="cancelled_message_delivered"
    )
    assert flagged.object_id == str(msg.pk) and flagged.details["case_ref"] == case.reference
    assert services.log_verify().ok


def test_the_send_path_asks_the_consent_again(case, caseworker_a, cn_peer, fake_cn):
    """A consent withdrawn by another route than ``consent_withdraw`` (as the handler of a
    peer's withdrawal notice marks the mirrored consent) leaves the message in the queue;
    the sender asks the consent gate again before the message leaves."""
    msg = notify(case, caseworker_a)
    Consent.objects.filter(pk=nv_consent(case).pk).update(withdrawn_at=timezone.now())

    report = services.outbox_relay(peer=cn_peer)

    assert delivered_ids(fake_cn) == set() and report.waiting == 0
    after = fresh(msg)
    assert (after.status, after.last_error) == ("cancelled", "consent_no_longer_valid")
    event = AuditEvent.objects.get(action=Action.SECURITY, details__event="consent_refused_at_send")
    assert event.object_id == str(msg.pk) and CANARY not in json.dumps(event.details)


def test_withdrawal_and_cancellation_are_one_transaction(
    case, caseworker_a, cn_peer, fake_cn, monkeypatch
):
    msg = notify(case, caseworker_a)
    real_audit = services.audit_record

    def failing_audit(**kwargs):
        if (kwargs.get("details") or {}).get("event") == "outbox_cancelled":
            raise RuntimeError("audit log unavailable")  # after the outbox rows were updated
        return real_audit(**kwargs)

    monkeypatch.setattr(services, "audit_record", failing_audit)
    with pytest.raises(RuntimeError):
        withdraw(case, caseworker_a)

    assert nv_consent(case).withdrawn_at is None  # the withdrawal was rolled back
    assert (fresh(msg).status, fresh(msg).cancelled_at) == ("pending", None)
    assert not case.events.filter(kind=EventKind.CONSENT_WITHDRAWN).exists()
    assert not OutboxMessage.objects.filter(msg_type=rp.WITHDRAWN_TYPE).exists()

    monkeypatch.undo()
    withdraw(case, caseworker_a)
    assert fresh(msg).status == "cancelled"
    with pytest.raises(ValidationError):  # and only once
        withdraw(case, caseworker_a)


def test_cancelled_messages_are_shown_as_such(case, caseworker_a, cn_peer, client_of, node_admin):
    msg = notify(case, caseworker_a)
    withdraw(case, caseworker_a)
    admin = client_of(node_admin)

    rows = admin.get("/api/v1/exchange/outbox?status=cancelled").json()["results"]
    assert [(r["msg_id"], r["status"], r["reason"]) for r in rows] == [
        (str(msg.pk), "cancelled", "consent_withdrawn")
    ]
    assert rows[0]["cancelled_at"]
    assert admin.get("/api/v1/exchange/peers").json()[0]["counts"]["cancelled"] == 1
    page = admin.get("/exchange/outbox/?status=cancelled").content.decode()
    assert "cancelled, not to be sent" in page and "consent_withdrawn" in page
    assert CANARY not in page
    index = admin.get("/exchange/").content.decode()
    assert "Cancelled (consent withdrawn)" in index
    history = selectors.case_message_history(user=caseworker_a, case_ref=case.reference)
    assert ("out", "cancelled", "cancelled, not to be sent") in {
        (r.direction, r.status, r.status_label) for r in history
    }
