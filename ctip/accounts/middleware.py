"""Session rules: two-factor before anything else, idle and absolute expiry."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from ctip.accounts.permissions import needs_two_factor

# Paths a signed-in user may reach before finishing two-factor sign-in.
OPEN_PREFIXES = (
    # Signing in and out only: the accounts pages under /accounts/users/ need the factor.
    "/accounts/login/",
    "/accounts/verify/",
    "/accounts/logout/",
    "/i18n/",
    "/static/",
    "/healthz",
    "/api/",  # the API refuses unverified sessions itself (VerifiedSessionAuthentication)
    "/exchange/inbox",  # authenticated by the envelope
    "/exchange/keys",  # public keys
)


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            expired = self._expired(request)
            if expired:
                logout(request)
                return redirect(f"{reverse('accounts:login')}?expired={expired}")
            if (
                needs_two_factor(user)
                and not user.is_verified()
                and not request.path.startswith(OPEN_PREFIXES)
            ):
                return redirect("accounts:verify")
        return self.get_response(request)

    @staticmethod
    def _expired(request) -> str:
        now = int(time.time())
        session = request.session
        started = session.get("ctip_login_at")
        seen = session.get("ctip_seen_at")
        if started is None:
            session["ctip_login_at"] = session["ctip_seen_at"] = now
            return ""
        if now - started > settings.SESSION_COOKIE_AGE:
            return "absolute"
        if seen is not None and now - seen > settings.CTIP_SESSION_IDLE_SECONDS:
            return "idle"
        if seen is None or now - seen >= 30:  # write at most every 30 s
            session["ctip_seen_at"] = now
        return ""
