"""Sign-in, sign-out and failed sign-in go into the audit log; a sign-in lock (django-axes)
is a security event and an alert to the data protection officers. No name typed at sign-in
is kept: an account is named by its id, another name by a keyed token (``lockout``)."""

from __future__ import annotations

import time

from axes.helpers import get_cool_off, get_failure_limit
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from ctip.accounts.lockout import name_token, typed_name
from ctip.audit.models import Action
from ctip.audit.services import audit_record, audit_security_event


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session["ctip_login_at"] = request.session["ctip_seen_at"] = now
    audit_record(actor=user, action=Action.LOGIN, obj=user, request=request)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action=Action.LOGOUT, obj=user, request=request)


def _account_named(name: str | None):
    """The account a typed name belongs to, or None (a name longer than any username
    belongs to none and is not looked up)."""
    from ctip.accounts.models import User

    if not name or len(name) > User._meta.get_field("username").max_length:
        return None
    return User.objects.filter(username=name).only("pk").first()


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    """A failed sign-in names the account by its id; a name that is no account is kept only
    as a keyed token (``lockout.name_token``), never as typed: it may be a password typed
    into the wrong field. The token is the same for the same name, so a DPO can still see
    one unknown name tried again and again. The password is never kept."""
    name = typed_name(credentials=credentials)
    account = _account_named(name)
    details: dict[str, object] = {"account_exists": account is not None}
    if account is None and name:
        details["name_token"] = name_token(name)
    audit_record(
        actor=None,
        action=Action.LOGIN_FAILED,
        object_type="accounts.user",
        object_id=str(account.pk) if account else "",
        details=details,
        request=request,
    )


@receiver(user_locked_out)
def on_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    """SECURITY.md #30: the lock is recorded and the DPOs are told, once per lock.

    django-axes sends this signal when a failure reaches the limit, and again for every try
    while the lock holds (each one counted, and extending the lock); only the failure that
    reached the limit begins a lock. (The count starts again once a lock has expired.)"""
    failures = getattr(request, "axes_failures_since_start", None)
    if request is None or failures is None:
        return  # axes refused a try during the lock without counting it
    if failures != get_failure_limit(request, getattr(request, "axes_credentials", None)):
        return
    from ctip.accounts.alerts import LOCKED_OUT, alert_lockout

    # ``username`` is axes' key (the name's token, ``lockout.axes_username``); the name
    # typed is in the credentials axes keeps on the request.
    name = typed_name(credentials=getattr(request, "axes_credentials", None))
    account = _account_named(name)
    cool_off = get_cool_off(request)
    # The name typed is not repeated here (it may be a password typed in the wrong field):
    # an existing account is named by its id, another name by its token, and the address
    # is the row's own column.
    details: dict[str, object] = {
        "account_exists": account is not None,
        "failures": failures,
        "unlocks_after_minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
    }
    if account is None and name:
        details["name_token"] = name_token(name)
    event = audit_security_event(
        actor=None,
        event=LOCKED_OUT,
        object_type="accounts.user",
        object_id=str(account.pk) if account else "",
        details=details,
        request=request,
    )
    account_id = account.pk if account else None
    transaction.on_commit(
        lambda: alert_lockout(event_seq=event.seq, account_id=account_id, cool_off=cool_off)
    )
