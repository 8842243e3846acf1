"""Sign-in (password, then the authenticator code), sign-out; the node administrator's
accounts pages (who has an account, ending a user's sessions, lifting a sign-in lock)."""

from __future__ import annotations

from django.contrib import auth, messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token

from ctip.accounts import lockout, permissions, selectors, services
from ctip.accounts.forms import LoginForm, VerifyForm
from ctip.accounts.permissions import needs_two_factor, permission, public
from ctip.audit.services import audit_security_event


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return ""


@public
@require_http_methods(["GET", "POST"])
def login_view(request):
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        user = auth.authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if user is not None:
            auth.login(request, user)
            if needs_two_factor(user):
                return redirect(f"{reverse('accounts:verify')}?next={_next_url(request)}")
            return redirect(_next_url(request) or "core:home")
        error = _("The username or password is not right.")
    expired = request.GET.get("expired")
    notice = ""
    if expired == "idle":
        notice = _("You were signed out after 15 minutes without activity.")
    elif expired == "absolute":
        notice = _("You were signed out: a session lasts at most 8 hours.")
    status = 400 if error else 200
    return render(
        request,
        "accounts/login.html",
        {"form": form, "error": error, "notice": notice, "next": _next_url(request)},
        status=status,
    )


@public
@require_http_methods(["GET", "POST"])
def verify_view(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if not needs_two_factor(user) or user.is_verified():
        return redirect(_next_url(request) or "core:home")
    form = VerifyForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            request.session.cycle_key()
            return redirect(_next_url(request) or "core:home")
        audit_security_event(actor=user, event="two_factor_failed", request=request)
        error = _("That code is not valid. Codes change every 30 seconds and work once.")
    has_device = user.totpdevice_set.filter(confirmed=True).exists()
    return render(
        request,
        "accounts/verify.html",
        {"form": form, "error": error, "has_device": has_device, "next": _next_url(request)},
        status=400 if error else 200,
    )


@public
@require_POST
def logout_view(request):
    auth.logout(request)
    return redirect("accounts:login")


# --- The node administrator's accounts pages ---------------------------------------------


@permission("user", permissions.VIEW)
@require_GET
def user_list(request):
    users = selectors.user_list(user=request.user)
    sessions = services.stored_sessions()
    rows = [
        {
            "user": u,
            "roles": sorted(a.get_role_display() for a in u.role_assignments.all()),
            "sessions": None if sessions is None else len(sessions.get(str(u.pk), ())),
        }
        for u in users
    ]
    return render(request, "accounts/user_list.html", {"rows": rows})


@permission("user", permissions.VIEW)
@require_GET
def user_detail(request, pk: int):
    account = selectors.access_user(request.user, pk, request=request)
    sessions = services.stored_sessions()
    return render(
        request,
        "accounts/user_detail.html",
        {
            "account": account,
            "roles": sorted(a.get_role_display() for a in account.role_assignments.all()),
            "sessions": None if sessions is None else len(sessions.get(str(account.pk), ())),
            "may_end": permissions.can(request.user, "user", permissions.CHANGE),
            "lock": lockout.lock_state(account.username),
        },
    )


@permission("user", permissions.CHANGE)
@require_POST
def user_end_sessions(request, pk: int):
    account = selectors.access_user(request.user, pk, action=permissions.CHANGE, request=request)
    ended = services.user_sessions_end(actor=request.user, user=account, request=request)
    if account.pk == request.user.pk:
        # Our own session is among those ended: sign out now, not at the next request.
        auth.logout(request)
        return redirect("accounts:login")
    messages.success(
        request,
        _("All sessions of %(username)s were ended (%(count)s open).")
        % {"username": account.username, "count": ended},
    )
    return redirect("accounts:user_detail", pk=account.pk)


@permission("user", permissions.CHANGE)
@require_POST
def user_unlock(request, pk: int):
    account = selectors.access_user(request.user, pk, action=permissions.CHANGE, request=request)
    if services.user_unlock(actor=request.user, user=account, request=request):
        messages.success(
            request,
            _("Sign-in to %(username)s is unlocked: the failed attempts are forgotten.")
            % {"username": account.username},
        )
    else:
        messages.info(request, _("%(username)s was not locked.") % {"username": account.username})
    return redirect("accounts:user_detail", pk=account.pk)
