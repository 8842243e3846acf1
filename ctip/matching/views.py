"""Review queue: duplicate candidates, both records side by side (only the fields the user
may see, every display audited), the evidence per field, and confirm / reject / not sure.
A person's matching page: its duplicate candidates, merge history and unmerge, cross-border
match queries about it and the identity follow-up on a candidate. Thin views: parse, check
access, call a service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ctip.accounts import permissions
from ctip.accounts.permissions import permission
from ctip.audit.services import audit_view
from ctip.cases.models import Person
from ctip.cases.selectors import access_person
from ctip.core.crypto import CryptoError
from ctip.matching import forms, selectors, services, xborder
from ctip.matching.models import CandidateStatus

RESOURCE = services.RESOURCE
FIELD_NAMES = {
    "name": gettext_lazy("Name"),
    "name_zh": gettext_lazy("Name (in Chinese characters on one side only)"),
    "birth": gettext_lazy("Birth"),
    "sex": gettext_lazy("Sex"),
    "nationality": gettext_lazy("Nationality"),
    "place": gettext_lazy("Place of origin"),
}

# The engine's level labels (ctip/matching/core/engine.py), translated for display; a test
# checks that every label of the engine is here.
LEVEL_TEXT = {
    "no name part in common": gettext_lazy("no name part in common"),
    "one name part in common (or one typing slip apart)": gettext_lazy(
        "one name part in common (or one typing slip apart)"
    ),
    "the name parts sound alike": gettext_lazy("the name parts sound alike"),
    "one part agrees, the others sound somewhat alike": gettext_lazy(
        "one part agrees, the others sound somewhat alike"
    ),
    "one part agrees, the others sound alike": gettext_lazy(
        "one part agrees, the others sound alike"
    ),
    "the name parts agree, some with a typing slip": gettext_lazy(
        "the name parts agree, some with a typing slip"
    ),
    "the parts of the shorter name all agree": gettext_lazy(
        "the parts of the shorter name all agree"
    ),
    "every name part agrees": gettext_lazy("every name part agrees"),
    "births more than two years apart": gettext_lazy("births more than two years apart"),
    "births within two years": gettext_lazy("births within two years"),
    "birth ranges overlap": gettext_lazy("birth ranges overlap"),
    "birth dates one typing slip apart": gettext_lazy("birth dates one typing slip apart"),
    "birth ranges centred within a year and a half": gettext_lazy(
        "birth ranges centred within a year and a half"
    ),
    "same birth date": gettext_lazy("same birth date"),
    "differs": gettext_lazy("differs"),
    "same": gettext_lazy("same"),
    "similar": gettext_lazy("similar"),
    "very similar": gettext_lazy("very similar"),
    "different provinces": gettext_lazy("different provinces"),
    "same province": gettext_lazy("same province"),
    "same district": gettext_lazy("same district"),
    "same commune": gettext_lazy("same commune"),
}


# Purposes of an identity request and the codes of a refusal (ctip/matching/xborder.py),
# translated for display; a test checks that every code is here.
PURPOSE_TEXT = {
    "nationality_verification": gettext_lazy("nationality verification"),
    "family_tracing": gettext_lazy("family tracing"),
    "repatriation": gettext_lazy("repatriation"),
}
REFUSAL_TEXT = {
    "unknown_handle": gettext_lazy("no such candidate (unknown or not given to this country)"),
    "expired": gettext_lazy("the candidate handle has expired"),
    "not_disclosed": gettext_lazy("not disclosed (no consent for this purpose, or sealed)"),
    "rate_limited": gettext_lazy("too many requests; ask again later"),
    "bad_request": gettext_lazy("the request was not understood"),
}
# Why the peer did not answer a match query (ANSWER_SCHEMA's "refused" in xborder.py).
QUERY_REFUSAL_TEXT = {
    "rate_limited": gettext_lazy("the other country receives too many queries; ask again later"),
    "unknown_key": gettext_lazy("the encoding key is unknown or expired on the other side"),
    "bad_query": gettext_lazy("the query was not understood"),
}
# The newest queries shown on a person's page (older ones: ``ctip match answers``).
QUERIES_SHOWN = 20
# The most probable duplicate candidates shown on a person's page (all: the review queue).
CANDIDATES_SHOWN = 20


@require_GET
@permission(RESOURCE, permissions.VIEW)
def index(request):
    status = request.GET.get("status", CandidateStatus.OPEN)
    if status not in CandidateStatus.values:
        status = CandidateStatus.OPEN
    page = Paginator(selectors.candidate_list(user=request.user, status=status), 50).get_page(
        request.GET.get("page")
    )
    template = "matching/_rows.html" if request.htmx else "matching/index.html"
    return render(
        request,
        template,
        {"page": page, "status": status, "statuses": CandidateStatus.choices},
    )


@require_GET
@permission(RESOURCE, permissions.VIEW)
def candidate_detail(request, pk):
    candidate = selectors.access_candidate(request.user, pk, request=request)
    fields = selectors.visible_compared_fields(request.user)
    left, right = candidate.left, candidate.right
    shown = [f for f in fields if f in Person.PII_FIELDS]
    audit_view(actor=request.user, objects=[left, right], fields=shown, request=request)
    labels = {
        f.name: f.verbose_name for f in Person._meta.get_fields() if hasattr(f, "verbose_name")
    }
    labels["birth_display"] = _("Birth")
    rows = [(labels.get(f, f), _display(left, f), _display(right, f)) for f in fields]
    evidence = [
        (FIELD_NAMES.get(name, name), LEVEL_TEXT.get(label, label), weight)
        for name, label, weight in candidate.evidence
    ]
    return render(
        request,
        "matching/candidate.html",
        {
            "candidate": candidate,
            "rows": rows,
            "evidence": evidence,
            "can_decide": permissions.can(request.user, RESOURCE, permissions.CHANGE),
            "decisions": [
                (CandidateStatus.CONFIRMED, _("Same person: merge")),
                (CandidateStatus.REJECTED, _("Different people")),
                (CandidateStatus.UNSURE, _("Not sure")),
            ],
        },
    )


def _display(person: Person, field: str) -> str:
    if field == "sex":
        return person.get_sex_display()
    if person.data_key.shredded_at:  # erased at the end of its retention: fields blanked
        return _("(erased)")
    try:
        value = getattr(person, field, "")
    except CryptoError:  # its data key was destroyed (crypto-shredded)
        return _("(erased)")
    return "" if value is None else str(value)


@require_POST
@permission(RESOURCE, permissions.CHANGE)
def candidate_decide(request, pk):
    candidate = selectors.access_candidate(request.user, pk, request=request)
    try:
        services.candidate_decide(
            user=request.user,
            candidate=candidate,
            decision=request.POST.get("decision", ""),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("matching:candidate", pk=candidate.pk)
    messages.success(request, _("Decision recorded."))
    return redirect("matching:index")


@require_GET
@permission(RESOURCE, permissions.VIEW)
def person_history(request, pk):
    """The person's matching page: its duplicate candidates (references only), its merge
    history, the match queries sent about it and the identities asked of the other country."""
    person = access_person(request.user, pk, request=request)
    links = selectors.person_links(user=request.user, person=person)
    shown = ["name_latin"] if permissions.sees_pii(request.user) else []
    audit_view(
        actor=request.user, objects={lnk.person for lnk in links}, fields=shown, request=request
    )
    # Identities the other country disclosed for this person (sent identity requests).
    asked = xborder.identity_requests(user=request.user, person=person)
    readable = permissions.sees_pii(request.user)
    disclosed = [a for a in asked if readable and selectors.readable(a, "identity")]
    audit_view(actor=request.user, objects=disclosed, fields=["identity"], request=request)
    return render(
        request,
        "matching/person.html",
        {
            "person": person,
            "links": [
                (lnk, selectors.readable(lnk.person, "name_latin") if shown else None)
                for lnk in links
            ],
            "identity_requests": [
                (
                    a,
                    xborder.identity_of(a) if a in disclosed else {},
                    PURPOSE_TEXT.get(a.purpose, a.purpose),
                    REFUSAL_TEXT.get(a.refused, a.refused),
                )
                for a in asked
            ],
            **_candidates_of(request.user, person),
            "shows_names": bool(shown),
            "merged": any(lnk.active and lnk.person_id == person.pk for lnk in links),
            "can_change": permissions.can(request.user, RESOURCE, permissions.CHANGE),
            **_queries_context(request.user, person),
        },
    )


def _candidates_of(user, person: Person) -> dict:
    """The person's duplicate candidates in any state, most probable first, each with the
    other record: only pairs of which the user may see both persons (the review queue's
    rule), references only (nothing to audit)."""
    rows = list(
        selectors.candidate_list(user=user, status="").filter(Q(left=person) | Q(right=person))[
            : CANDIDATES_SHOWN + 1
        ]
    )
    return {
        "candidates": [
            (c, c.right if c.left_id == person.pk else c.left) for c in rows[:CANDIDATES_SHOWN]
        ],
        "more_candidates": len(rows) > CANDIDATES_SHOWN,
    }


def _can_ask(user) -> bool:
    """Sending from this page: a change on the matching page, and the service's own right."""
    return permissions.can(user, RESOURCE, permissions.CHANGE) and permissions.can(
        user, "matching_query", permissions.CREATE
    )


def _queries_context(user, person: Person) -> dict:
    """The person's sent match queries with their candidates (handles and scores: no
    personal data), and the forms to send a query and to ask who is behind a handle."""
    sent = selectors.sent_queries(user=user, person=person, limit=QUERIES_SHOWN)
    can_ask = _can_ask(user)
    peers = selectors.query_peers(user=user) if can_ask else []
    return {
        "sent_queries": [
            (
                s,
                QUERY_REFUSAL_TEXT.get(s.query.refused, s.query.refused),
                [
                    (
                        c,
                        PURPOSE_TEXT.get(c.asked.purpose, c.asked.purpose) if c.asked else "",
                        REFUSAL_TEXT.get(c.asked.refused, c.asked.refused) if c.asked else "",
                    )
                    for c in s.candidates
                ],
            )
            for s in sent
        ],
        "more_queries": len(sent) == QUERIES_SHOWN,
        "sees_queries": permissions.can(user, "matching_query", permissions.VIEW),
        "can_ask": can_ask,
        "query_form": forms.QueryForm(peers=peers) if peers else None,
        "purposes": list(PURPOSE_TEXT.items()),
    }


@require_POST
@permission(RESOURCE, permissions.CHANGE)
def person_unmerge(request, pk):
    person = access_person(request.user, pk, request=request)
    try:
        services.person_unmerge(user=request.user, person=person, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The record was taken out of the merged person."))
    return redirect("matching:person", pk=person.pk)


@require_POST
@permission(RESOURCE, permissions.CHANGE)
def person_query(request, pk):
    """Send a match query about the person to the chosen peer (keyed encodings only)."""
    person = access_person(request.user, pk, request=request)
    form = forms.QueryForm(request.POST, peers=selectors.query_peers(user=request.user))
    if not form.is_valid():
        messages.error(request, _("Choose a country this node shares an encoding key with."))
        return redirect("matching:person", pk=person.pk)
    to = form.cleaned_data["to"]
    try:
        xborder.query_send(user=request.user, person=person, to=to, request=request)
    except xborder.QueryRefused as exc:
        messages.error(
            request,
            _("The match query was not sent: %(reason)s") % {"reason": " ".join(exc.messages)},
        )
    else:
        messages.success(
            request,
            _("Match query sent to %(peer)s. Its answer will be listed here.") % {"peer": to},
        )
    return redirect("matching:person", pk=person.pk)


@require_POST
@permission(RESOURCE, permissions.CHANGE)
def person_identity(request, pk):
    """Ask the peer who is behind one candidate handle of this person's queries. A handle
    of another person's query, or of none, is "not found" (and logged) before the service
    is reached; the service decides the rest (consent on the peer, rate limits)."""
    person = access_person(request.user, pk, request=request)
    form = forms.IdentityForm(request.POST, purposes=PURPOSE_TEXT.items())
    handle = request.POST.get("handle", "")
    candidate = (
        selectors.sent_candidate(user=request.user, person=person, handle=handle)
        if isinstance(handle, str) and handle
        else None
    )
    if candidate is None:
        raise permissions.deny(
            request.user, "matching_handle", permissions.VIEW, handle, request=request
        )
    if not form.is_valid():
        messages.error(
            request,
            _("Choose a purpose: %(purposes)s.")
            % {"purposes": ", ".join(str(t) for t in PURPOSE_TEXT.values())},
        )
        return redirect("matching:person", pk=person.pk)
    if not candidate.live:
        messages.error(
            request,
            _(
                "This candidate can no longer be asked about: its handle has expired. Send a new "
                "match query."
            ),
        )
        return redirect("matching:person", pk=person.pk)
    try:
        xborder.identity_request_send(
            user=request.user,
            handle=candidate.handle,
            purpose=form.cleaned_data["purpose"],
            request=request,
        )
    except xborder.QueryRefused as exc:
        messages.error(
            request,
            _("The identity request was not sent: %(reason)s") % {"reason": " ".join(exc.messages)},
        )
    else:
        messages.success(
            request,
            _(
                "Identity request sent. The other country answers only if the person agreed to "
                "this purpose; the answer will be listed here."
            ),
        )
    return redirect("matching:person", pk=person.pk)
