"""Sign-in locks (django-axes, SECURITY.md #30) that keep no typed name.

django-axes counts failed sign-ins per name typed, in its own table
(``AccessAttempt.username``). Someone who types their password into the name field would
leave it there in clear, so axes is given a keyed token of the name instead
(``AXES_USERNAME_CALLABLE = "ctip.accounts.lockout.axes_username"``): one name gives one
token, so the count and the lock per account work as before, and the table holds no name.
The same token stands for a name that is no account in the audit log's failed sign-ins, so
repeated tries of one unknown name can be followed without keeping the name.

The token is ``index_token`` (an HMAC under the node's index key, on the name with case,
width and spaces normalised) with its own purpose string: it cannot be turned back into
the name, nor compared with tokens made for another purpose (search, certificates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ctip.core.crypto import index_token

NAME_PURPOSE = "accounts.sign-in-name"


def name_token(name: str) -> str:
    """The keyed token of a name typed at sign-in (32 hex characters)."""
    return index_token(name, NAME_PURPOSE)


def typed_name(request=None, credentials: dict | None = None) -> str | None:
    """The name typed at sign-in, from the credentials given to ``authenticate`` or, as
    django-axes does without them, from the form."""
    if credentials:
        name = credentials.get("username")
    else:
        name = getattr(request, "POST", {}).get("username") if request is not None else None
    return None if name is None else str(name)


def axes_username(request, credentials: dict | None = None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: what django-axes stores and counts by, in place of the
    name typed. ``None`` (no name at all) makes axes record nothing, as it would."""
    name = typed_name(request, credentials)
    return None if name is None else name_token(name)


@dataclass(frozen=True)
class LockState:
    failures: int  # failed sign-ins that count now (within the cool-off period)
    limit: int
    last_failure: datetime | None

    @property
    def locked(self) -> bool:
        return self.failures >= self.limit


def lock_state(username: str) -> LockState:
    """How many failed sign-ins count against ``username`` now, as django-axes counts them
    (``AXES_LOCKOUT_PARAMETERS = ["username"]``: all addresses together)."""
    from axes.helpers import get_cool_off, get_failure_limit
    from axes.models import AccessAttempt
    from django.db.models import Max, Sum
    from django.utils import timezone

    attempts = AccessAttempt.objects.filter(username=name_token(username))
    cool_off: timedelta | None = get_cool_off(None)
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    found = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    return LockState(
        failures=found["failures"] or 0,
        limit=get_failure_limit(None, None),
        last_failure=found["last"],
    )
