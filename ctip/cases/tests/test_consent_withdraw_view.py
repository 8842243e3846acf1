"""The case page's "withdraw consent" button (DP-8): the confirmation says how many messages
still waiting in the outbox were cancelled, and how many the other country had already
received (not retracted) — the counts of the withdrawal's timeline event and of its
``outbox_cancelled`` audit row. In the user's language, with plural forms.

Attacks: another agency's caseworker, a role without the change right and a signed-out
browser withdraw nothing and are told nothing; a second withdrawal is refused."""

from __future__ import annotations

import secrets

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ctip.audit.models import Action, AuditEvent
from ctip.cases import services
from ctip.cases.models import Consent, EventKind
from ctip.exchange import services as exchange
from ctip.exchange.models import OutboxMessage, OutboxStatus
from ctip.testing.peers import pin_offline_peer

pytestmark = pytest.mark.django_db

NV = "nationality_verification"


@pytest.fixture
def consent(case_a, caseworker_a) -> Consent:
    pin_offline_peer("CN")  # messages wait in the outbox: nothing is delivered
    return services.consent_record(
        user=caseworker_a,
        case=case_a,
        data=services.ConsentInput(
            decision="given",
            purpose=NV,
            recipient_country="CN",
            data_categories=("identity", "origin", "documents"),
            given_on=timezone.localdate(),
            how_given="written",
            language="km",
        ),
    )


def queue(consent: Consent, *, delivered: bool = False) -> OutboxMessage:
    """A message to CN that relied on the consent; ``delivered``: the peer acknowledged it
    (the other node is the outside world here)."""
    msg = exchange.message_send(
        actor=None,
        to="CN",
        msg_type="ping",
        body={"nonce": secrets.token_hex(8)},
        case_ref=consent.case.reference,
        purpose=NV,
        consent_ref=str(consent.pk),
        enqueue=False,
    )
    if delivered:
        OutboxMessage.objects.filter(pk=msg.pk).update(
            status=OutboxStatus.ACKNOWLEDGED, receipt="the peer's signed receipt"
        )
    return msg


def withdraw(client: Client, consent: Consent, **headers):
    url = reverse("cases:consent_withdraw", args=[consent.case_id, consent.pk])
    return client.post(url, {"reason": "wants to stay"}, **headers)


def shown(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_message_counts_the_cancelled_and_the_delivered(consent, caseworker_a, client_of):
    waiting = [queue(consent), queue(consent)]
    delivered = queue(consent, delivered=True)

    response = withdraw(client_of(caseworker_a), consent)

    assert response.status_code == 302
    assert response.url == reverse("cases:case_detail", args=[consent.case_id])
    assert shown(response) == [
        "Consent withdrawn. 2 messages waiting to be sent to China were cancelled. "
        "1 message had already been delivered to China and was not retracted."
    ]
    statuses = {m.pk: m.status for m in OutboxMessage.objects.all()}
    assert [statuses[m.pk] for m in waiting] == ["cancelled", "cancelled"]
    assert statuses[delivered.pk] == "acknowledged"
    # The same counts as the audit row and the timeline.
    audit = AuditEvent.objects.get(action=Action.UPDATE, details__event="outbox_cancelled")
    assert (audit.details["cancelled"], audit.details["already_delivered"]) == (2, 1)
    event = consent.case.events.get(kind=EventKind.CONSENT_WITHDRAWN)
    assert (event.details["messages_cancelled"], event.details["messages_already_delivered"]) == (
        2,
        1,
    )


def test_one_cancelled_is_singular_and_nothing_delivered_is_not_mentioned(
    consent, caseworker_a, client_of
):
    queue(consent)
    response = withdraw(client_of(caseworker_a), consent)
    assert shown(response) == [
        "Consent withdrawn. 1 message waiting to be sent to China was cancelled."
    ]


def test_nothing_waiting_is_said(consent, caseworker_a, client_of):
    response = withdraw(client_of(caseworker_a), consent)
    assert shown(response) == [
        "Consent withdrawn. No message waiting to be sent to China relied on it."
    ]
    assert Consent.objects.get(pk=consent.pk).withdrawn_at is not None


@pytest.mark.parametrize(
    ("language", "expected"),
    [("km", "សារ 2"), ("zh-hans", "2 条")],
)
def test_the_message_is_translated(consent, caseworker_a, client_of, language, expected):
    queue(consent), queue(consent)
    (message,) = shown(withdraw(client_of(caseworker_a), consent, HTTP_ACCEPT_LANGUAGE=language))
    assert expected in message and "cancelled" not in message


def test_a_second_withdrawal_is_refused(consent, caseworker_a, client_of):
    client = client_of(caseworker_a)
    client.get(withdraw(client, consent).url)  # the case page shows (and uses up) its message
    queue(consent)  # queued after the withdrawal (e.g. by a command): not this button's
    again = shown(withdraw(client, consent))
    assert again == ["This consent was already withdrawn."]
    assert OutboxMessage.objects.get().status == "pending"


def test_others_withdraw_nothing_and_are_told_nothing(consent, caseworker_b, me_officer, client_of):
    msg = queue(consent)
    for user in (caseworker_b, me_officer):
        response = withdraw(client_of(user), consent)
        assert response.status_code == 404, user
        assert shown(response) == []
    signed_out = withdraw(Client(), consent)
    assert signed_out.status_code == 302 and "login" in signed_out.url
    assert Consent.objects.get(pk=consent.pk).withdrawn_at is None
    assert OutboxMessage.objects.get(pk=msg.pk).status == "pending"
    assert not AuditEvent.objects.filter(details__event="outbox_cancelled").exists()
