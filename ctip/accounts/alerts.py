"""Alerts to the node's data protection officers about security events.

The same channel as the break-glass alert (``cases.services.alert_dpo``): an e-mail to every
active data protection officer with an address, carrying references only (ids, counts,
times), never a name, a password, an address or free text (DP-6). An alert that cannot go
out is recorded as a security event (``dpo_alert_not_sent``), not pretended.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from django.conf import settings
from django.core.mail import send_mail

from ctip.accounts.models import Role, User
from ctip.audit.models import Action, AuditEvent
from ctip.audit.services import audit_security_event

LOCKED_OUT = "account_locked_out"


def dpo_addresses() -> list[str]:
    return list(
        User.objects.filter(role_assignments__role=Role.DATA_PROTECTION_OFFICER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def alert_dpos(*, subject: str, body: str, object_type: str, object_id: str, about: str) -> int:
    """Send one alert to the DPOs; returns how many messages went out (0 or 1)."""
    recipients = dpo_addresses()
    sent = 0
    if recipients:
        try:
            sent = send_mail(
                subject=f"[CTIP {settings.CTIP_NODE}] {subject}",
                message=body,
                from_email=None,
                recipient_list=recipients,
            )
        except (OSError, ValueError):
            sent = 0
    if not sent:
        audit_security_event(
            actor=None,
            event="dpo_alert_not_sent",
            object_type=object_type,
            object_id=object_id,
            details={"recipients": len(recipients), "about": about},
        )
    return sent


def alert_lockout(*, event_seq: int, account_id: int | None, cool_off: timedelta | None) -> int:
    """Tell the DPOs that sign-in was locked after too many failures (SECURITY.md #30).

    A lock of an existing account is always told. Locks of names that are no account
    (someone trying names) are told once per cool-off period: the audit log keeps each one.
    """
    event = AuditEvent.objects.get(seq=event_seq)
    # No cool-off (``AXES_COOLOFF_TIME = None``) means locked until reset by hand.
    window = cool_off or timedelta(minutes=30)
    minutes = int(window.total_seconds() // 60)
    unlocks = (
        f"It unlocks by itself after {minutes} minutes."
        if cool_off
        else "It stays locked until a node administrator unlocks it."
    )
    at = event.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    failures = event.details.get("failures")
    if account_id is not None:
        subject = "A user account was locked after failed sign-ins"
        body = (
            f"The account with id {account_id} was locked at {at} after {failures} failed "
            f"sign-ins. {unlocks}\n"
            f"The audit log holds the event (number {event_seq}) and where the attempts came "
            f"from. A node administrator sees the account at /accounts/users/{account_id}/ "
            "and can unlock it or end its sessions there (or: ctip user unlock).\n"
            "This message holds no username, password or address on purpose."
        )
    else:
        earlier = AuditEvent.objects.filter(
            action=Action.SECURITY,
            details__event=LOCKED_OUT,
            object_id="",
            at__gte=event.at - window,
            seq__lt=event_seq,
        )
        if earlier.exists():
            return 0  # told already in this period; the audit log has this one too
        subject = "Sign-in locked for a name that is no account"
        body = (
            f"Sign-in was locked at {at} after {failures} failed attempts with an account name "
            "that does not exist on this node: someone may be trying names. Further such "
            f"locks in the next {minutes} minutes are in the audit log (event "
            f"'{LOCKED_OUT}'), without another message.\n"
            f"The audit log holds this event (number {event_seq}) and where it came from.\n"
            "This message holds no name, password or address on purpose."
        )
    return alert_dpos(
        subject=subject,
        body=body,
        object_type="accounts.user",
        object_id="" if account_id is None else str(account_id),
        about=LOCKED_OUT,
    )
