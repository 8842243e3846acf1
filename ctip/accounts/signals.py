"""Sign-in, sign-out and failed sign-in go into the audit log."""

from __future__ import annotations

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from ctip.audit.models import Action
from ctip.audit.services import audit_record


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


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # The username tried is kept (it is an account name, not personal data of a victim);
    # the password never is.
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        actor=None,
        action=Action.LOGIN_FAILED,
        object_type="accounts.user",
        details={"username": username},
        request=request,
    )
