"""The exchange endpoints a peer calls (public keys, inbox) and the pages of the node
administrator (who runs the link) and the data protection officer (who reviews it)."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ctip.accounts import permissions
from ctip.accounts.permissions import needs_two_factor, permission, public
from ctip.exchange import selectors, services
from ctip.exchange.core import MAX_TOKEN_BYTES, public_jwks
from ctip.exchange.errors import ExchangeError, KeysUnavailable
from ctip.exchange.models import OutboxStatus, Peer, Transport


def two_factor_verified(view):
    """The /exchange/ prefix is open to half-signed-in sessions (for the inbox), so the
    pages check the second factor themselves."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if needs_two_factor(user) and not user.is_verified():
            return redirect("accounts:verify")
        return view(request, *args, **kwargs)

    return wrapped


# --- What the peer node calls ----------------------------------------------------------------


# Public by design: a peer fetches these keys and trusts them only if they match the
# fingerprint its operator was given out of band (ctip peer add --fingerprint).
@public
@never_cache
@require_GET
def keys(request):
    try:
        ring = services.our_keys()
    except KeysUnavailable:
        return JsonResponse({"error": "exchange keys are not set up on this node"}, status=503)
    return JsonResponse(public_jwks(ring.public()))


# Public, because the envelope authenticates itself: only a token encrypted to our key and
# signed by a key pinned for a peer is processed; anything else gets a signed refusal and a
# security event. No session or cookie is involved, hence no CSRF token either.
@csrf_exempt
@public
@never_cache
@require_POST
def inbox(request):
    declared = request.META.get("CONTENT_LENGTH") or "0"
    too_large = not declared.isdigit() or int(declared) > MAX_TOKEN_BYTES
    token = b"" if too_large else request.read(MAX_TOKEN_BYTES + 1)
    if too_large or len(token) > MAX_TOKEN_BYTES:
        # Refused before reading it all: there is no digest to sign a receipt over.
        code = services.refuse_oversize(
            transport=Transport.HTTP, declared=declared, request=request
        )
        return JsonResponse({"status": "rejected", "reason_code": code}, status=413)
    try:
        result = services.envelope_receive(token=token, transport=Transport.HTTP, request=request)
    except KeysUnavailable:
        return JsonResponse(
            {"status": "unavailable", "reason_code": "keys_unavailable"}, status=503
        )
    body = {"status": result.status, "reason_code": result.reason_code, "receipt": result.receipt}
    return JsonResponse(body, status=400 if result.status == "rejected" else 200)


# --- Pages --------------------------------------------------------------------------------------


@permission("exchange", permissions.VIEW)
@two_factor_verified
@require_GET
def index(request):
    user = request.user
    return render(
        request,
        "exchange/index.html",
        {
            "identity": selectors.own_identity(user=user),
            "peers": selectors.peer_overview(user=user),
            "outbox": selectors.outbox_list(user=user)[:10],
            "inbox": selectors.inbox_list(user=user)[:10],
            "refusals": [selectors.RefusalRow.of(e) for e in selectors.refusals(user=user)[:10]],
            "can_change": permissions.can(user, "exchange", permissions.CHANGE),
        },
    )


@permission("exchange", permissions.VIEW)
@two_factor_verified
@require_GET
def outbox(request):
    status = request.GET.get("status", "")
    status = status if status in OutboxStatus.values else ""
    page = Paginator(selectors.outbox_list(user=request.user, status=status), 50).get_page(
        request.GET.get("page")
    )
    template = "exchange/_outbox_rows.html" if request.htmx else "exchange/outbox.html"
    return render(
        request,
        template,
        {"page": page, "status": status, "statuses": OutboxStatus.choices},
    )


@permission("exchange", permissions.VIEW)
@two_factor_verified
@require_GET
def inbox_page(request):
    page = Paginator(selectors.inbox_list(user=request.user), 50).get_page(request.GET.get("page"))
    template = "exchange/_inbox_rows.html" if request.htmx else "exchange/inbox.html"
    return render(request, template, {"page": page})


@permission("exchange", permissions.VIEW)
@two_factor_verified
@require_GET
def refusal_list(request):
    page = Paginator(selectors.refusals(user=request.user), 50).get_page(request.GET.get("page"))
    rows = [selectors.RefusalRow.of(event) for event in page.object_list]
    return render(request, "exchange/refusals.html", {"page": page, "rows": rows})


def _peer_or_404(request, node_id: str) -> Peer:
    peer = Peer.objects.filter(node_id=node_id).first()
    if peer is None:
        raise permissions.deny(request.user, "exchange", permissions.CHANGE, node_id, request)
    return peer


@permission("exchange", permissions.CHANGE)
@two_factor_verified
@require_POST
def peer_retry(request, node_id: str):
    peer = _peer_or_404(request, node_id)
    count = services.outbox_retry_now(actor=request.user, peer=peer, request=request)
    messages.success(
        request,
        _("%(count)s waiting messages for %(peer)s will be sent now.")
        % {
            "count": count,
            "peer": peer.node_id,
        },
    )
    return redirect("exchange:index")


@permission("exchange", permissions.CHANGE)
@two_factor_verified
@require_POST
def peer_ping(request, node_id: str):
    peer = _peer_or_404(request, node_id)
    try:
        result = services.ping(actor=request.user, to=peer.node_id, request=request)
    except ExchangeError as exc:
        messages.error(
            request,
            _("Ping to %(peer)s failed: %(reason)s")
            % {
                "peer": peer.node_id,
                "reason": str(exc),
            },
        )
    else:
        messages.success(
            request,
            _("%(peer)s answered with a signed receipt in %(ms).0f ms.")
            % {"peer": peer.node_id, "ms": result.rtt_ms},
        )
    return redirect("exchange:index")
