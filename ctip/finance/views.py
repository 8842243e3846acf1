"""Finance pages: meetings and who pays what, donors, statements, the reintegration budget.

The M&E officer (the NCCT secretariat) records; supervisors and node administrators look.
A form with errors is shown again with them, answering 400.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ctip.accounts import permissions
from ctip.accounts.models import Country
from ctip.accounts.permissions import permission
from ctip.audit.models import Action
from ctip.audit.services import audit_record, audit_view
from ctip.finance import core, forms, selectors, services, sources, statements
from ctip.finance.models import EntryKind

R = "finance"
VIEW, CREATE, CHANGE = permissions.VIEW, permissions.CREATE, permissions.CHANGE


def _can(request, action: str) -> bool:
    return permissions.can(request.user, R, action)


def _rate(cd: dict) -> services.RateInput:
    return services.RateInput(
        rate=cd.get("rate") or None,
        rate_base=cd.get("rate_base") or "",
        rate_date=cd.get("rate_date"),
    )


# --- Index --------------------------------------------------------------------------------


@permission(R, VIEW)
@require_GET
def index(request):
    user = request.user
    years = selectors.meeting_years(user=user)
    try:
        year = int(request.GET.get("year", "") or 0) or None
    except ValueError:
        year = None
    meetings = list(selectors.meeting_list(user=user, year=year)[:200])
    budgets = [(b, selectors.budget_status(b)) for b in selectors.budget_list(user=user)[:20]]
    return render(
        request,
        "finance/index.html",
        {
            "meetings": meetings,
            "years": years,
            "year": year,
            "budgets": budgets,
            "can_create": _can(request, CREATE),
            "parties": Country.choices,
        },
    )


@permission(R, CREATE)
@require_http_methods(["GET", "POST"])
def meeting_create(request):
    form = forms.MeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(
                user=request.user, data=services.MeetingInput(**form.cleaned_data), request=request
            )
        except ValidationError as error:
            forms.apply_errors(form, error)
        else:
            messages.success(request, _("Meeting recorded."))
            return redirect("finance:meeting_detail", pk=meeting.pk)
    return render(
        request, "finance/meeting_form.html", {"form": form}, status=400 if form.errors else 200
    )


@permission(R, CREATE)
@require_http_methods(["GET", "POST"])
def meeting_from_source(request):
    """Take a finance meeting from a training or a law-enforcement meeting."""
    form = forms.SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            meeting = services.meeting_from_source(
                user=request.user,
                source_type=cd["source_type"],
                source_id=cd["source_id"],
                reporting_currency=cd["reporting_currency"],
                request=request,
            )
        except ValidationError as error:
            forms.apply_errors(form, error)
        else:
            messages.success(request, _("Meeting recorded."))
            return redirect("finance:meeting_detail", pk=meeting.pk)
    taken = selectors.meetings_by_source()
    rows = [(m, taken.get((m.source_type, m.source_id))) for m in sources.available(request.user)]
    return render(
        request,
        "finance/source_list.html",
        {"rows": rows, "form": form, "currencies": forms.Currency.choices},
        status=400 if form.errors else 200,
    )


# --- One meeting --------------------------------------------------------------------------


def _meeting_page(request, meeting, bound: dict | None = None, status: int = 200):
    user = request.user
    may_change = _can(request, CHANGE) and selectors.may_change(user, meeting)
    can_change = may_change and not meeting.is_cancelled
    try:
        allocation = selectors.meeting_allocation(meeting)
        allocation_error = None
    except core.InvalidInput as error:  # recorded data no longer fits (e.g. a rate removed)
        allocation, allocation_error = None, error
    items = list(meeting.cost_items.all())
    commitments = list(selectors.commitments_for(meeting))
    bound = bound or {}
    members = [m for d in meeting.delegations.all() for m in d.members.all()]
    if may_change:
        shown = [m for m in members if m.contact]
        audit_view(actor=user, objects=shown, fields=["contact"], request=request)
    results = {i.line.id: i for i in allocation.items} if allocation else {}
    member_bound = bound.get("member_delegation")
    delegations = [
        (
            d,
            bound["member"]
            if member_bound == d.pk
            else forms.MemberForm(prefix="member", auto_id=f"id_{d.country}_%s"),
        )
        for d in meeting.delegations.all()
    ]
    rows = [(item, results.get(str(item.pk))) for item in items]
    context = {
        "meeting": meeting,
        "rows": rows,
        "allocation": allocation,
        "allocation_error": allocation_error,
        "can_change": can_change,
        "may_change": may_change,
        "show_contacts": may_change,
        "parties": sorted(meeting.party_codes(), key=["KH", "CN"].index),
        "rules": core.get_ruleset(meeting.ruleset),
        "delegation_form": bound.get("delegation") or forms.DelegationForm(),
        "delegations": delegations,
        "totals": _totals(meeting, allocation) if allocation else [],
        "programme_form": bound.get("programme") or forms.ProgrammeForm(),
        "cost_form": bound.get("cost")
        or forms.CostItemForm(initial={"currency": meeting.reporting_currency}),
        "exception_form": bound.get("exception") or forms.ExceptionForm(items=items),
        "coverage_form": bound.get("coverage")
        or forms.CoverageForm(items=items, commitments=commitments),
        "commitments": commitments,
    }
    return render(request, "finance/meeting_detail.html", context, status=status)


def _totals(meeting, allocation: core.MeetingAllocation) -> list[tuple]:
    names = {
        core.donor_key(str(c.commitment.donor_id)): c.commitment.donor.name_local
        for item in meeting.cost_items.all()
        for c in item.coverages.all()
    }
    labels = dict(Country.choices)
    return [
        (
            labels.get(key) or names.get(key, key),
            borne,
            allocation.paid.get(key),
            allocation.net[key],
        )
        for key, borne in allocation.borne.items()
    ]


@permission(R, VIEW)
@require_GET
def meeting_detail(request, pk):
    meeting = selectors.access_meeting(request.user, pk, request=request)
    return _meeting_page(request, meeting)


def _post(request, pk, key, form, call, done: str, extra: dict | None = None):
    """Shared handling of the forms on a meeting's page."""
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    if form.is_valid():
        try:
            call(meeting, form.cleaned_data)
        except ValidationError as error:
            forms.apply_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(reverse("finance:meeting_detail", args=[meeting.pk]) + f"#{key}")
    meeting = selectors.access_meeting(request.user, pk, request=request)
    return _meeting_page(request, meeting, {key: form, **(extra or {})}, status=400)


@permission(R, CHANGE)
@require_POST
def delegation_add(request, pk):
    def call(meeting, cd):
        services.delegation_add(
            user=request.user, meeting=meeting, country=cd["country"], request=request
        )

    return _post(
        request, pk, "delegation", forms.DelegationForm(request.POST), call, _("Delegation added.")
    )


@permission(R, CHANGE)
@require_POST
def member_add(request, pk):
    delegation = selectors.access_delegation(request.user, pk, request=request)
    form = forms.MemberForm(request.POST, prefix="member", auto_id=f"id_{delegation.country}_%s")

    def call(meeting, cd):
        services.member_add(
            user=request.user,
            delegation=delegation,
            data=_member_input(cd),
            request=request,
        )

    return _post(
        request,
        delegation.meeting_id,
        "member",
        form,
        call,
        _("Member added."),
        {"member_delegation": delegation.pk},
    )


@permission(R, CHANGE)
@require_POST
def programme_add(request, pk):
    def call(meeting, cd):
        services.programme_item_add(
            user=request.user,
            meeting=meeting,
            day=cd["day"],
            title=cd["title"],
            starts_at=cd["starts_at"],
            request=request,
        )

    return _post(
        request,
        pk,
        "programme",
        forms.ProgrammeForm(request.POST),
        call,
        _("Programme item added."),
    )


@permission(R, CHANGE)
@require_POST
def cost_item_add(request, pk):
    def call(meeting, cd):
        services.cost_item_add(
            user=request.user,
            meeting=meeting,
            data=_cost_input(cd),
            request=request,
        )

    return _post(
        request, pk, "cost", forms.CostItemForm(request.POST), call, _("Cost item recorded.")
    )


@permission(R, CHANGE)
@require_POST
def exception_add(request, pk):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    form = forms.ExceptionForm(request.POST, items=list(meeting.cost_items.all()))

    def call(meeting, cd):
        services.exception_record(
            user=request.user,
            meeting=meeting,
            data=services.ExceptionInput(
                share_kh=cd["share_kh"],
                share_cn=cd["share_cn"],
                reason=cd["reason"],
                agreed_by=cd["agreed_by"],
                agreed_on=cd["agreed_on"],
                cost_item_id=cd["cost_item"] or None,
                category=cd["category"],
                for_party=cd["for_party"],
                document=cd["document"],
            ),
            request=request,
        )

    return _post(request, pk, "exception", form, call, _("Written exception recorded."))


@permission(R, CHANGE)
@require_POST
def coverage_add(request, pk):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    items = list(meeting.cost_items.all())
    form = forms.CoverageForm(
        request.POST, items=items, commitments=selectors.commitments_for(meeting)
    )

    def call(meeting, cd):
        item = next(i for i in items if str(i.pk) == cd["cost_item"])  # the form checked it
        services.coverage_record(
            user=request.user,
            cost_item=item,
            commitment_id=cd["commitment"],
            amount=cd["amount"],
            rate=_rate(cd),
            request=request,
        )

    return _post(request, pk, "coverage", form, call, _("Donor coverage recorded."))


# --- Changing and deleting ---------------------------------------------------------------


def _edit_page(request, form, title: str, back: str, status: int = 200, intro: str = ""):
    return render(
        request,
        "finance/edit_form.html",
        {"form": form, "title": title, "back": back, "intro": intro},
        status=status,
    )


def _refused(request, meeting_pk, error: ValidationError):
    """A change the services refused (a deletion that would lose history …): the meeting's
    page again, with the reason, answering 400."""
    for text in error.messages:
        messages.error(request, text)
    meeting = selectors.access_meeting(request.user, meeting_pk, request=request)
    return _meeting_page(request, meeting, status=400)


def _back(meeting_pk, anchor: str = "") -> str:
    return reverse("finance:meeting_detail", args=[meeting_pk]) + (f"#{anchor}" if anchor else "")


@permission(R, CHANGE)
@require_http_methods(["GET", "POST"])
def meeting_edit(request, pk):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    form = forms.MeetingForm(request.POST or None, initial=forms.meeting_initial(meeting))
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_update(
                user=request.user,
                meeting=meeting,
                data=services.MeetingInput(**form.cleaned_data),
                request=request,
            )
        except ValidationError as error:
            forms.apply_errors(form, error)
        else:
            messages.success(request, _("Meeting changed."))
            return redirect("finance:meeting_detail", pk=meeting.pk)
    return _edit_page(
        request,
        form,
        _("Change the meeting"),
        _back(meeting.pk),
        status=400 if form.errors else 200,
    )


@permission(R, CHANGE)
@require_POST
def meeting_cancel(request, pk):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    form = forms.CancelForm(request.POST)
    if not form.is_valid():
        return _refused(request, meeting.pk, ValidationError(form.errors["reason"]))
    try:
        services.meeting_cancel(
            user=request.user, meeting=meeting, reason=form.cleaned_data["reason"], request=request
        )
    except ValidationError as error:
        return _refused(request, meeting.pk, error)
    messages.success(request, _("Meeting cancelled."))
    return redirect("finance:meeting_detail", pk=meeting.pk)


def _confirmed(request) -> bool:
    return forms.ConfirmForm(request.POST).is_valid()


NOT_CONFIRMED = ValidationError(_("Tick the box to confirm the deletion."))


@permission(R, CHANGE)
@require_POST
def meeting_delete(request, pk):
    meeting = selectors.access_meeting(request.user, pk, action=CHANGE, request=request)
    if not _confirmed(request):
        return _refused(request, meeting.pk, NOT_CONFIRMED)
    try:
        services.meeting_delete(user=request.user, meeting=meeting, request=request)
    except ValidationError as error:
        return _refused(request, meeting.pk, error)
    messages.success(request, _("Meeting deleted."))
    return redirect("finance:index")


@permission(R, CHANGE)
@require_POST
def delegation_delete(request, pk):
    delegation = selectors.access_delegation(request.user, pk, request=request)
    if not _confirmed(request):
        return _refused(request, delegation.meeting_id, NOT_CONFIRMED)
    try:
        services.delegation_delete(user=request.user, delegation=delegation, request=request)
    except ValidationError as error:
        return _refused(request, delegation.meeting_id, error)
    messages.success(request, _("Delegation removed."))
    return redirect(_back(delegation.meeting_id, "delegation"))


def _member_input(cd) -> services.MemberInput:
    return services.MemberInput(
        name=cd["name"],
        user_id=cd["user"].pk if cd["user"] else None,
        position=cd["position"],
        organisation=cd["organisation"],
        role=cd["role"],
        contact=cd["contact"],
    )


@permission(R, CHANGE)
@require_http_methods(["GET", "POST"])
def member_edit(request, pk):
    member = selectors.access_member(request.user, pk, request=request)
    meeting_pk = member.delegation.meeting_id
    if member.contact:  # the form shows the contact details to the editor
        audit_view(actor=request.user, objects=[member], fields=["contact"], request=request)
    form = forms.MemberForm(request.POST or None, initial=forms.member_initial(member))
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(
                user=request.user,
                member=member,
                data=_member_input(form.cleaned_data),
                request=request,
            )
        except ValidationError as error:
            forms.apply_errors(form, error)
        else:
            messages.success(request, _("Member changed."))
            return redirect(_back(meeting_pk, f"delegation-{member.delegation.country}"))
    return _edit_page(
        request,
        form,
        _("Change a delegation member"),
        _back(meeting_pk, "delegation"),
        status=400 if form.errors else 200,
    )


@permission(R, CHANGE)
@require_POST
def member_delete(request, pk):
    member = selectors.access_member(request.user, pk, request=request)
    meeting_pk = member.delegation.meeting_id
    if not _confirmed(request):
        return _refused(request, meeting_pk, NOT_CONFIRMED)
    try:
        services.member_delete(user=request.user, member=member, request=request)
    except ValidationError as error:
        return _refused(request, meeting_pk, error)
    messages.success(request, _("Member removed."))
    return redirect(_back(meeting_pk, "delegation"))


def _cost_input(cd) -> services.CostItemInput:
    return services.CostItemInput(
        category=cd["category"],
        amount=cd["amount"],
        currency=cd["currency"],
        incurred_by=cd["incurred_by"],
        for_party=cd["for_party"],
        description=cd["description"],
        incurred_on=cd["incurred_on"],
        rate=_rate(cd),
    )


@permission(R, CHANGE)
@require_http_methods(["GET", "POST"])
def cost_item_edit(request, pk):
    item = selectors.access_cost_item(request.user, pk, request=request)
    form = forms.CostItemForm(request.POST or None, initial=forms.cost_initial(item))
    if request.method == "POST" and form.is_valid():
        try:
            services.cost_item_update(
                user=request.user, item=item, data=_cost_input(form.cleaned_data), request=request
            )
        except ValidationError as error:
            forms.apply_errors(form, error)
        else:
            messages.success(request, _("Cost item changed."))
            return redirect(_back(item.meeting_id, "cost"))
    return _edit_page(
        request,
        form,
        _("Change a cost item"),
        _back(item.meeting_id, "cost"),
        status=400 if form.errors else 200,
        intro=_("The item is checked again as a new one would be; its allocation follows."),
    )


@permission(R, CHANGE)
@require_POST
def cost_item_delete(request, pk):
    item = selectors.access_cost_item(request.user, pk, request=request)
    if not _confirmed(request):
        return _refused(request, item.meeting_id, NOT_CONFIRMED)
    try:
        services.cost_item_delete(user=request.user, item=item, request=request)
    except ValidationError as error:
        return _refused(request, item.meeting_id, error)
    messages.success(request, _("Cost item deleted."))
    return redirect(_back(item.meeting_id, "cost"))


# --- Statements ---------------------------------------------------------------------------


def _party(party: str) -> str:
    if party not in core.PARTY_LANGUAGE:
        raise permissions.NotFound()
    return party


@permission(R, VIEW)
@require_GET
def meeting_statement(request, pk, party):
    party = _party(party)
    meeting = selectors.access_meeting(request.user, pk, request=request)
    if party not in meeting.party_codes():
        raise permissions.NotFound()
    statement = statements.meeting_statement(meeting, selectors.meeting_allocation(meeting), party)
    return render(
        request, "finance/statement_meeting.html", {"s": statement, "lang2": statement.language}
    )


@permission(R, VIEW)
@require_GET
def meeting_statement_export(request, pk, party, fmt):
    party = _party(party)
    meeting = selectors.access_meeting(request.user, pk, request=request)
    if party not in meeting.party_codes():
        raise permissions.NotFound()
    statement = statements.meeting_statement(meeting, selectors.meeting_allocation(meeting), party)
    header, rows = statements.meeting_table(statement)
    en, local = statements.bilingual("statement", statement.language)
    title = f"{en} / {local} · {meeting.title} · {party}"
    filename = f"statement-{meeting.starts_on:%Y%m%d}-{str(meeting.pk)[:8]}-{party}.{fmt}"
    return _export(request, fmt, title, header, rows, filename, meeting, party)


def _export(request, fmt, title, header, rows, filename, obj, party, object_type=""):
    if fmt == "csv":
        body, kind = statements.to_csv(title, header, rows), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body = statements.to_xlsx(title, header, rows)
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise permissions.NotFound()
    audit_record(
        actor=request.user,
        action=Action.EXPORT,
        obj=obj,
        object_type=object_type,
        object_id="" if obj is not None else filename,
        details={"statement": party, "format": fmt},
        request=request,
    )
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _year_statement(request, year: int, party: str):
    meetings = [
        (m, selectors.meeting_allocation(m))
        for m in selectors.meeting_queryset().filter(starts_on__year=year).order_by("starts_on")
    ]
    return statements.year_statement(year, party, meetings)


@permission(R, VIEW)
@require_GET
def year_statement(request, year, party):
    party = _party(party)
    statement = _year_statement(request, year, party)
    return render(
        request, "finance/statement_year.html", {"s": statement, "lang2": statement.language}
    )


@permission(R, VIEW)
@require_GET
def year_statement_export(request, year, party, fmt):
    party = _party(party)
    statement = _year_statement(request, year, party)
    header, rows = statements.year_table(statement)
    en, local = statements.bilingual("year_statement", statement.language)
    title = f"{en} / {local} · {year} · {party}"
    filename = f"statement-{year}-{party}.{fmt}"
    return _export(request, fmt, title, header, rows, filename, None, party, "finance.year")


# --- Donors -------------------------------------------------------------------------------


@permission(R, VIEW)
@require_http_methods(["GET", "POST"])
def donor_list(request):
    form = forms.DonorForm(request.POST or None)
    if request.method == "POST":
        permissions.require(request.user, R, CREATE, request=request)
        if form.is_valid():
            try:
                donor = services.donor_create(
                    user=request.user,
                    data=services.DonorInput(**form.cleaned_data),
                    request=request,
                )
            except ValidationError as error:
                forms.apply_errors(form, error)
            else:
                messages.success(request, _("Donor recorded."))
                return redirect("finance:donor_detail", pk=donor.pk)
    donors = list(selectors.donor_list(user=request.user))
    rows = [(d, selectors.commitment_use(d.commitments.all())) for d in donors]
    return render(
        request,
        "finance/donor_list.html",
        {"rows": rows, "form": form, "can_create": _can(request, CREATE)},
        status=400 if form.errors else 200,
    )


def _donor_page(request, donor, form=None, status=200):
    return render(
        request,
        "finance/donor_detail.html",
        {
            "donor": donor,
            "uses": selectors.commitment_use(donor.commitments.all()),
            "form": form
            or forms.CommitmentForm(meetings=selectors.meeting_list(user=request.user)),
            "can_create": _can(request, CREATE),
        },
        status=status,
    )


@permission(R, VIEW)
@require_GET
def donor_detail(request, pk):
    return _donor_page(request, selectors.access_donor(request.user, pk, request=request))


@permission(R, CREATE)
@require_POST
def commitment_add(request, pk):
    donor = selectors.access_donor(request.user, pk, action=CREATE, request=request)
    form = forms.CommitmentForm(request.POST, meetings=selectors.meeting_list(user=request.user))
    if form.is_valid():
        cd = form.cleaned_data
        try:
            services.commitment_create(
                user=request.user,
                donor=donor,
                data=services.CommitmentInput(
                    amount=cd["amount"],
                    currency=cd["currency"],
                    committed_on=cd["committed_on"],
                    meeting_id=cd["meeting"] or None,
                    plan_activity=cd["plan_activity"],
                    reference=cd["reference"],
                ),
                request=request,
            )
        except ValidationError as error:
            forms.apply_errors(form, error)
        else:
            messages.success(request, _("Commitment recorded."))
            return redirect("finance:donor_detail", pk=donor.pk)
    donor = selectors.access_donor(request.user, pk, request=request)
    return _donor_page(request, donor, form, status=400)


# --- Reintegration budget -----------------------------------------------------------------


@permission(R, VIEW)
@require_http_methods(["GET", "POST"])
def budget_list(request):
    form = forms.AllocationForm(
        request.POST or None,
        initial={"country": request.user.country or "", "year": timezone.localdate().year},
    )
    if request.method == "POST":
        permissions.require(request.user, R, CREATE, request=request)
        if form.is_valid():
            try:
                allocation = services.budget_allocation_create(
                    user=request.user,
                    data=services.AllocationInput(**form.cleaned_data),
                    request=request,
                )
            except ValidationError as error:
                forms.apply_errors(form, error)
            else:
                messages.success(request, _("Budget recorded."))
                return redirect("finance:budget_detail", pk=allocation.pk)
    budgets = [(b, selectors.budget_status(b)) for b in selectors.budget_list(user=request.user)]
    return render(
        request,
        "finance/budget_list.html",
        {"budgets": budgets, "form": form, "can_create": _can(request, CREATE)},
        status=400 if form.errors else 200,
    )


def _budget_page(request, allocation, form=None, status=200):
    commitments = [e for e in allocation.entries.all() if e.kind == EntryKind.COMMITMENT]
    budget = selectors.budget_status(allocation)
    case_query = (request.GET.get("case") or "").strip().upper()[:40]
    return render(
        request,
        "finance/budget_detail.html",
        {
            "allocation": allocation,
            "status": budget,
            "support": selectors.case_support(allocation, budget),
            "case_query": case_query,
            "case_records": selectors.case_records(allocation, case_query) if case_query else None,
            "entries": list(allocation.entries.all()),
            "form": form
            or forms.EntryForm(commitments=commitments, initial={"currency": allocation.currency}),
            "can_change": _can(request, CHANGE) and selectors.may_change(request.user, allocation),
            "today": timezone.localdate(),
            "currencies": forms.Currency.choices,
        },
        status=status,
    )


@permission(R, VIEW)
@require_GET
def budget_detail(request, pk):
    return _budget_page(request, selectors.access_budget(request.user, pk, request=request))


@permission(R, CHANGE)
@require_POST
def budget_entry_add(request, pk):
    allocation = selectors.access_budget(request.user, pk, action=CHANGE, request=request)
    commitments = [e for e in allocation.entries.all() if e.kind == EntryKind.COMMITMENT]
    form = forms.EntryForm(request.POST, commitments=commitments)
    if form.is_valid():
        cd = form.cleaned_data
        try:
            services.budget_entry_add(
                user=request.user,
                allocation=allocation,
                data=services.EntryInput(
                    kind=cd["kind"],
                    case_reference=cd["case_reference"],
                    support=cd["support"],
                    amount=cd["amount"],
                    currency=cd["currency"],
                    entry_date=cd["entry_date"],
                    against_id=cd["against"] or None,
                    referral_reference=cd["referral_reference"],
                    rate=_rate(cd),
                    referral_id=cd["referral_id"],
                    service_id=cd["service_id"],
                ),
                request=request,
            )
        except ValidationError as error:
            forms.apply_errors(form, error)
        else:
            allocation = selectors.access_budget(request.user, pk, request=request)
            status = selectors.budget_status(allocation)
            messages.success(request, _("Entry recorded."))
            if status.level != core.Level.OK:
                messages.warning(request, _alert_text(status))
            return redirect("finance:budget_detail", pk=allocation.pk)
    allocation = selectors.access_budget(request.user, pk, request=request)
    return _budget_page(request, allocation, form, status=400)


def _alert_text(status: core.BudgetStatus) -> str:
    if status.level == core.Level.OVERCOMMITTED:
        return _("The budget is over-committed: more is spent and promised than allocated.")
    if status.level == core.Level.EXHAUSTED:
        return _("Nothing is left of the budget.")
    return _("Only %(percent)s %% of the budget is left.") % {"percent": status.remaining_percent}
