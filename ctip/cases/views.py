"""Persons, screenings, cases: thin views over the services. Personal fields only for roles
that may see them; every display of them is audited. One URL serves the page or its htmx
fragment."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ctip.accounts import permissions
from ctip.accounts.models import Role, User
from ctip.accounts.permissions import permission
from ctip.audit.services import audit_view
from ctip.cases import (
    documents,
    formdefs,
    imports,
    places,
    repatriation,
    retention,
    selectors,
    services,
)
from ctip.cases.forms import (
    AssignForm,
    BreakGlassForm,
    CaseOpenForm,
    ClosureForm,
    ConsentForm,
    DecideForm,
    DocumentForm,
    ImportForm,
    LegalHoldForm,
    NoteForm,
    OverrideForm,
    PersonForm,
    ReferralForm,
    ReferralStatusForm,
    ScreeningStartForm,
    SealForm,
    ServiceReceivedForm,
    TransferForm,
    WithdrawForm,
)
from ctip.cases.idform import evaluate, language_of
from ctip.cases.models import (
    CaseDocument,
    CaseNote,
    Consent,
    EventKind,
    LegalHold,
    Person,
    Referral,
    Screening,
    ScreeningResult,
    Stage,
)
from ctip.cases.sop import current_sop

LIST_PII_FIELDS = ("name_km", "name_zh", "name_latin")


def _lang() -> str:
    return language_of(translation.get_language())


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{m}" for msgs in exc.message_dict.values() for m in msgs]
    return [str(m) for m in exc.messages]


# --- Persons ------------------------------------------------------------------------------


def _search(request) -> tuple[dict, str]:
    """The list's filters, and the name searched for. A name travels only in a POST body,
    never in the URL, where browser history, proxies and Referer headers would keep it
    (DP-6); filters without personal data may stay in the query string."""
    if request.method == "POST":
        return request.POST, request.POST.get("q", "").strip()[:200]
    return request.GET, ""


@permission("person", permissions.VIEW)
@require_http_methods(["GET", "POST"])
def person_list(request):
    user = request.user
    params, query = _search(request)
    page = Paginator(selectors.person_list(user=user, query=query), 25).get_page(params.get("page"))
    sees_pii = permissions.sees_pii(user)
    if sees_pii:
        audit_view(actor=user, objects=page.object_list, fields=LIST_PII_FIELDS, request=request)
    template = "cases/_person_rows.html" if request.htmx else "cases/person_list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "query": query,
            # The pager's other filters: none on this list (set, so that no missing variable
            # is logged at DEBUG with the context, which holds the name searched for).
            "stage": "",
            "mine": False,
            "closed": False,
            "filters": "",
            "sees_pii": sees_pii,
            "can_create": permissions.can(user, "person", "create"),
        },
    )


@permission("person", permissions.VIEW)
@require_GET
def person_detail(request, pk):
    person = selectors.access_person(request.user, pk, request=request)
    return render(request, "cases/person_detail.html", _person_context(request, person))


def _person_context(request, person, *, hold_form=None) -> dict:
    user = request.user
    fields = permissions.visible_fields(user, Person.PII_FIELDS, Person.PII_FIELDS)
    shown = [f for f in fields if getattr(person, f)]
    audit_view(actor=user, objects=[person], fields=shown, request=request)
    rows = [(Person._meta.get_field(f).verbose_name, getattr(person, f)) for f in fields]
    if "origin_code" in fields and person.origin_code:
        rows.append((_("place of origin (reference)"), places.label(person.origin_code)))
    return {
        "person": person,
        "rows": rows,
        "sees_pii": permissions.sees_pii(user),
        "province": places.label(person.origin_province) if person.origin_province else "",
        "screenings": selectors.screening_list(user=user, person=person),
        "cases": selectors.case_list(user=user, include_closed=True).filter(person=person),
        "can_screen": permissions.can(user, "screening", permissions.CREATE),
        "start_form": ScreeningStartForm(),
        "can_match": permissions.can(user, "matching", permissions.VIEW),
        **_holds_context(request, person=person, form=hold_form),
    }


@permission("person", permissions.CREATE)
@require_http_methods(["GET", "POST"])
def person_create(request):
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {
            k: ("" if v is None and k in Person.PII_FIELDS else v)
            for k, v in form.cleaned_data.items()
        }
        person = services.person_create(
            user=request.user, data=services.PersonInput(**data), request=request
        )
        return redirect("cases:person_detail", pk=person.pk)
    return render(
        request,
        "cases/person_form.html",
        {"form": form, "provinces": places.provinces("KH") + places.provinces("CN")},
        status=400 if form.errors else 200,
    )


# --- Screenings ---------------------------------------------------------------------------


@permission("screening", permissions.VIEW)
@require_GET
def screening_list(request):
    user = request.user
    result = request.GET.get("result", "")
    page = Paginator(
        selectors.screening_list(
            user=user, result=result if result in ScreeningResult.values else ""
        ),
        25,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/screening_list.html",
        {"page": page, "results": ScreeningResult.choices, "result": result},
    )


@permission("screening", permissions.CREATE)
@require_POST
def screening_start(request, person_pk):
    person = selectors.access_person(request.user, person_pk, request=request)
    form = ScreeningStartForm(request.POST)
    source = form.cleaned_data["source"] if form.is_valid() else "device"
    screening = services.screening_start(
        user=request.user, person=person, source=source, request=request
    )
    return redirect("cases:screening_detail", pk=screening.pk)


def _form_sections(definition, answers: dict, errors: dict, lang: str) -> list[dict]:
    """The form's sections and questions for the template, in the user's language, with the
    questions that do not apply hidden (the server decides; no script is needed)."""
    sections = []
    known: dict = {}
    for section in definition.sections:
        if section.identity:
            continue
        section_on = evaluate(section.relevant, known)
        questions = []
        for q in section.questions:
            own = evaluate(q.relevant, known)  # the section hides the rest
            on = section_on and own
            value = answers.get(q.id)
            if on and value not in (None, "", []):
                known[q.id] = value
            choices = [
                {
                    "value": c.value,
                    "label": definition.choice_text(q, c.value, lang),
                    "checked": value == c.value or (isinstance(value, list) and c.value in value),
                }
                for c in definition.choices(q)
            ]
            questions.append(
                {
                    "q": q,
                    "label": q.text(lang),
                    "value": "" if value is None else value,
                    "choices": choices,
                    "errors": errors.get(q.id, []),
                    "hidden": not own,
                    "relevant": json.dumps(q.relevant) if q.relevant else "",
                    "widget": _widget(q, choices),
                }
            )
        sections.append(
            {
                "section": section,
                "label": section.text(lang),
                "hidden": not section_on,
                "relevant": json.dumps(section.relevant) if section.relevant else "",
                "questions": questions,
            }
        )
    return sections


def _widget(q, choices) -> str:
    if q.type == "select_one":
        return "radio" if len(choices) <= 4 else "select"
    if q.type == "select_multiple":
        return "checkbox"
    if q.type == "text" and q.long:
        return "textarea"
    return {"integer": "number", "date": "date"}.get(q.type, "text")


def _posted_answers(request, definition) -> dict:
    raw = {}
    for q in definition.questions(include_identity=False):
        if q.type == "select_multiple":
            raw[q.id] = request.POST.getlist(q.id)
        elif q.id in request.POST:
            raw[q.id] = request.POST.get(q.id, "")
    return raw


def _render_screening(request, screening, *, answers=None, errors=None, status=200):
    definition = formdefs.definition_of(screening.form_version)
    lang = _lang()
    user = request.user
    sees = permissions.sees_pii(user)
    if sees:
        audit_view(actor=user, objects=[screening], fields=Screening.PII_FIELDS, request=request)
    answers = services.screening_answers(screening) if answers is None and sees else answers or {}
    score = services.screening_score(screening) if sees else None
    context = {
        "screening": screening,
        "definition": definition,
        "title": definition.title_text(lang),
        "sections": _form_sections(definition, answers, errors or {}, lang) if sees else [],
        "errors": errors or {},
        "sees_pii": sees,
        "reasons": score.reasons(definition, lang) if score else [],
        "result_text": definition.result_text(screening.result, lang) if screening.result else "",
        "can_edit": screening.is_draft and permissions.can(user, "screening", "change"),
        "can_open_case": (
            not screening.is_draft
            and screening.result in services.OPENING_RESULTS
            and permissions.can(user, "case", "create")
            and not hasattr(screening, "case")
        ),
        "open_form": CaseOpenForm(
            initial={"track": "cross_border" if _foreign(screening) else "in_country"}
        ),
        "saved_at": timezone.now() if request.method == "POST" else None,
    }
    # An autosave (htmx) gets only the draft status and the questions' errors, swapped out
    # of band: the form itself is never replaced under the user's fingers.
    template = "cases/_draft_saved.html" if request.htmx else "cases/screening_detail.html"
    return render(request, template, context, status=status)


def _foreign(screening) -> bool:
    from django.conf import settings

    return screening.person.nationality not in ("", settings.CTIP_NODE)


@permission("screening", permissions.VIEW)
@require_GET
def screening_detail(request, pk):
    screening = selectors.access_screening(request.user, pk, request=request)
    return _render_screening(request, screening)


@permission("screening", permissions.CHANGE)
@require_POST
def screening_draft(request, pk):
    """Save a draft (htmx on every change, or the "Save draft" button without script)."""
    screening = selectors.access_screening(
        request.user, pk, action=permissions.CHANGE, request=request
    )
    definition = formdefs.definition_of(screening.form_version)
    raw = _posted_answers(request, definition)
    try:
        result = services.screening_save_draft(
            user=request.user, screening=screening, raw=raw, lang=_lang(), request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
        return redirect("cases:screening_detail", pk=screening.pk)
    if request.htmx:
        return _render_screening(request, screening, answers=raw, errors=result.errors)
    messages.success(request, _("Draft saved."))
    return redirect("cases:screening_detail", pk=screening.pk)


@permission("screening", permissions.CHANGE)
@require_POST
def screening_submit(request, pk):
    screening = selectors.access_screening(
        request.user, pk, action=permissions.CHANGE, request=request
    )
    definition = formdefs.definition_of(screening.form_version)
    raw = _posted_answers(request, definition)
    try:
        services.screening_submit(
            user=request.user, screening=screening, raw=raw, lang=_lang(), request=request
        )
    except services.FormErrors as exc:
        services.screening_save_draft(
            user=request.user, screening=screening, raw=raw, lang=_lang(), request=request
        )
        messages.error(request, _("Some answers need attention; see the marked questions."))
        return _render_screening(request, screening, answers=raw, errors=exc.fields, status=400)
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
        return redirect("cases:screening_detail", pk=screening.pk)
    messages.success(request, _("Screening submitted."))
    return redirect("cases:screening_detail", pk=screening.pk)


@permission("screening", permissions.VIEW)
@require_GET
def paper_form(request):
    """The printable bilingual form (Khmer|English or Chinese|English side by side)."""
    pair = request.GET.get("pair", "km")
    lang = "zh-hans" if pair == "zh" else "km"
    definition = formdefs.current_definition()
    sections = []
    for section in definition.sections:
        sections.append(
            {
                "local": section.text(lang),
                "en": section.text("en"),
                "questions": [
                    {
                        "q": q,
                        "local": q.text(lang),
                        "en": q.text("en"),
                        "choices": [
                            (
                                definition.choice_text(q, c.value, lang),
                                definition.choice_text(q, c.value, "en"),
                            )
                            for c in definition.choices(q)
                        ],
                        "indicator": q.is_indicator,
                    }
                    for q in section.questions
                ],
            }
        )
    return render(
        request,
        "cases/paper_form.html",
        {
            "definition": definition,
            "sections": sections,
            "pair": pair,
            "local_lang": lang,
            "title_local": definition.title_text(lang),
            "title_en": definition.title_text("en"),
        },
    )


@permission("screening", "import")
@require_http_methods(["GET", "POST"])
def screening_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    problems = []
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > imports.MAX_ROWS * 20_000:
                raise imports.ImportError_(_("The file is too large."))
            rows = imports.read_rows(upload.name, upload.read())
            report = imports.screenings_import(
                user=request.user,
                rows=rows,
                lang=_lang(),
                dry_run=form.cleaned_data["dry_run"],
                request=request,
            )
        except imports.ImportError_ as exc:
            problems, status = [str(exc)], 400
        except imports.ImportRejected as exc:
            report, problems, status = exc.report, exc.report.lines(), 400
    return render(
        request,
        "cases/screening_import.html",
        {
            "form": form,
            "report": report,
            "problems": problems,
            "definition": formdefs.current_definition(),
        },
        status=status,
    )


# --- Cases --------------------------------------------------------------------------------


@permission("case", permissions.VIEW)
@require_http_methods(["GET", "POST"])
def case_list(request, overdue: bool = False):
    user = request.user
    params, query = _search(request)
    stage = params.get("stage", "")
    stage = stage if stage in Stage.values else ""
    mine, closed = params.get("mine") == "1", params.get("closed") == "1"
    qs = selectors.case_list(
        user=user, stage=stage, overdue=overdue, mine=mine, include_closed=closed, query=query
    )
    page = Paginator(qs, 25).get_page(params.get("page"))
    sees = permissions.sees_pii(user)
    if sees:
        audit_view(
            actor=user,
            objects=[c.person for c in page.object_list],
            fields=LIST_PII_FIELDS,
            request=request,
        )
    template = "cases/_case_rows.html" if request.htmx else "cases/case_list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "sees_pii": sees,
            "stages": Stage.choices,
            "stage": stage,
            "query": query,
            "mine": mine,
            "closed": closed,
            "filters": urlencode(
                {
                    k: v
                    for k, v in (
                        ("stage", stage),
                        ("mine", "1" if mine else ""),
                        ("closed", "1" if closed else ""),
                    )
                    if v
                }
            ),
            "overdue": overdue,
            "now": timezone.now(),
        },
    )


@permission("case", permissions.VIEW)
@require_http_methods(["GET", "POST"])
def overdue_list(request):
    return case_list(request, overdue=True)


@permission("case", permissions.CREATE)
@require_POST
def case_open(request, screening_pk):
    screening = selectors.access_screening(request.user, screening_pk, request=request)
    form = CaseOpenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the track."))
        return redirect("cases:screening_detail", pk=screening.pk)
    try:
        case = services.case_open(
            user=request.user,
            person=screening.person,
            screening=screening,
            track=form.cleaned_data["track"],
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
        return redirect("cases:screening_detail", pk=screening.pk)
    messages.success(request, _("Case %(ref)s opened.") % {"ref": case.reference})
    return redirect("cases:case_detail", pk=case.pk)


def _case_context(request, case, **forms):
    user = request.user
    sees = permissions.sees_pii(user)
    sop = current_sop()
    notes = list(case.notes.select_related("created_by")) if sees else []
    consents = list(case.consents.all())
    docs = list(case.documents.defer("content"))
    referrals = list(case.referrals.select_related("service"))
    received = list(case.services.all())
    if sees:
        audit_view(actor=user, objects=[case.person], fields=LIST_PII_FIELDS, request=request)
        for group, fields in (
            (notes, CaseNote.PII_FIELDS),
            (docs, CaseDocument.PII_FIELDS),
            (consents, Consent.PII_FIELDS),
        ):
            audit_view(actor=user, objects=group, fields=fields, request=request)
    from ctip.directory.models import Service

    service_choices = Service.objects.exclude(registration_status__in=["suspended", "withdrawn"])
    next_stage = sop.next_stage(case.track, case.stage)
    colleagues = User.objects.filter(
        agency=case.owner_agency,
        is_active=True,
        role_assignments__role__in=[Role.CASEWORKER, Role.SUPERVISOR],
    ).distinct()
    from ctip.exchange.selectors import case_message_history

    rep = getattr(case, "repatriation", None)
    rep_steps = repatriation.step_bodies(rep) if rep is not None else []
    if rep_steps and sees:
        audit_view(actor=user, objects=[s for s, _b in rep_steps], fields=["body"], request=request)

    return {
        "case": case,
        "sees_pii": sees,
        "timeline": selectors.case_timeline(case),
        # What crossed the border for this case (metadata only; access checked above).
        "rows": case_message_history(user=user, case_ref=case.reference),
        "notes": notes,
        "consents": consents,
        "documents": docs,
        "referrals": referrals,
        "services": received,
        "rule": sop.rule(case.stage),
        "track_stages": [(s, Stage(s).label) for s in sop.tracks[case.track]],
        "next_stage": Stage(next_stage).label if next_stage else "",
        "next_is_closed": next_stage == Stage.CLOSED,
        "missing": [services.describe_requirement(m) for m in services.missing_records(case)],
        "overdue": case.is_overdue(),
        "can_change": permissions.can(user, "case", permissions.CHANGE) and not case.is_closed,
        "can_seal": permissions.can(user, "case", permissions.SEAL),
        "note_form": forms.get("note_form") or NoteForm(),
        "document_form": forms.get("document_form") or DocumentForm(),
        "consent_form": forms.get("consent_form")
        or ConsentForm(
            initial={
                "given_on": timezone.localdate(),
                "recipient_country": services.other_country(),
            }
        ),
        "referral_form": forms.get("referral_form") or ReferralForm(services=service_choices),
        "service_form": forms.get("service_form")
        or ServiceReceivedForm(
            kinds=_service_kinds(), initial={"started_on": timezone.localdate()}
        ),
        "closure_form": ClosureForm(),
        "override_form": forms.get("override_form") or OverrideForm(),
        "assign_form": AssignForm(users=colleagues),
        "transfer_form": forms.get("transfer_form")
        or TransferForm(agencies=selectors.transfer_agencies(case=case), users=colleagues),
        "pending_transfer": case.transfers.filter(status="proposed")
        .select_related("to_agency")
        .first(),
        "seal_form": SealForm(),
        "withdraw_form": WithdrawForm(),
        "status_form": ReferralStatusForm(),
        "repatriation": rep,
        "rep_steps": rep_steps if sees else [(s, {}) for s, _b in rep_steps],
        "rep_sendable": [
            (spec, repatriation.form_fields(spec))
            for spec in repatriation.sendable_steps(case, rep)
        ]
        if permissions.can(user, "case", permissions.CHANGE)
        else [],
        "rep_overdue": rep.is_overdue() if rep else False,
        "pending_closure": case.approvals.filter(kind="case_closure", status="pending").exists(),
        **_holds_context(request, case=case, form=forms.get("hold_form")),
    }


def _service_kinds():
    from ctip.directory.models import ServiceType

    return ServiceType.choices


@permission("case", permissions.VIEW)
@require_GET
def case_detail(request, pk):
    case = selectors.access_case(request.user, pk, request=request)
    return render(request, "cases/case_detail.html", _case_context(request, case))


def _case_action(request, pk, action: str = permissions.CHANGE):
    return selectors.access_case(request.user, pk, action=action, request=request)


def _back(case):
    return redirect("cases:case_detail", pk=case.pk)


@permission("case", permissions.CHANGE)
@require_POST
def case_advance(request, pk):
    case = _case_action(request, pk)
    try:
        case = services.case_advance(user=request.user, case=case, request=request)
        messages.success(
            request, _("The case moved to: %(stage)s.") % {"stage": case.get_stage_display()}
        )
    except services.ConsentBlocked as exc:
        messages.error(request, str(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    return _back(case)


@permission("case", permissions.CHANGE)
@require_POST
def case_note(request, pk):
    case = _case_action(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.case_add_note(
            user=request.user, case=case, text=form.cleaned_data["text"], request=request
        )
        messages.success(request, _("Note added."))
        return _back(case)
    return render(
        request, "cases/case_detail.html", _case_context(request, case, note_form=form), status=400
    )


@permission("case", permissions.CHANGE)
@require_POST
def case_document(request, pk):
    case = _case_action(request, pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > documents.max_bytes():
            form.add_error(
                "file",
                _("The file is too large: at most %(mb)s MB.")
                % {"mb": documents.max_bytes() // 2**20},
            )
        else:
            try:
                services.case_add_document(
                    user=request.user,
                    case=case,
                    kind=form.cleaned_data["kind"],
                    filename=upload.name,
                    content=upload.read(),
                    request=request,
                )
                messages.success(request, _("Document stored (encrypted)."))
                return _back(case)
            except documents.UploadRejected as exc:
                form.add_error("file", str(exc))
    return render(
        request,
        "cases/case_detail.html",
        _case_context(request, case, document_form=form),
        status=400,
    )


@permission("case", permissions.VIEW)
@require_GET
def case_document_download(request, pk, document_pk):
    case = selectors.access_case(request.user, pk, request=request)
    if not permissions.sees_pii(request.user):
        raise permissions.deny(
            request.user, "case_document", permissions.VIEW, document_pk, request
        )
    # A document whose case was crypto-shredded has no bytes left to send: not found.
    document = case.documents.filter(pk=document_pk, data_key__shredded_at__isnull=True).first()
    if document is None:
        raise permissions.deny(
            request.user, "case_document", permissions.VIEW, document_pk, request
        )
    audit_view(actor=request.user, objects=[document], fields=["content"], request=request)
    response = HttpResponse(documents.open_content(document), content_type=document.content_type)
    # An opaque name: never the person's name or the original file name (DP-6).
    name = f"{case.reference}-{str(document.pk)[:8]}.{document.extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@permission("case", permissions.CHANGE)
@require_POST
def case_consent(request, pk):
    case = _case_action(request, pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        data["data_categories"] = tuple(data["data_categories"])
        try:
            services.consent_record(
                user=request.user, case=case, data=services.ConsentInput(**data), request=request
            )
            messages.success(request, _("Consent recorded."))
            return _back(case)
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
    return render(
        request,
        "cases/case_detail.html",
        _case_context(request, case, consent_form=form),
        status=400,
    )


@permission("case", permissions.CHANGE)
@require_POST
def consent_withdraw(request, pk, consent_pk):
    case = _case_action(request, pk)
    consent = case.consents.filter(pk=consent_pk).first()
    if consent is None:
        raise permissions.deny(request.user, "consent", permissions.CHANGE, consent_pk, request)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.consent_withdraw(
            user=request.user, consent=consent, reason=reason, request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(request, _withdrawal_message(case, consent))
    return _back(case)


def _withdrawal_message(case, consent) -> str:
    """What the withdrawal stopped (DP-8), from its timeline event, which holds the counts of
    the ``outbox_cancelled`` audit row: the queued messages cancelled, and those the other
    country had already received (not retracted: no retraction request is sent yet)."""
    event = (
        case.events.filter(kind=EventKind.CONSENT_WITHDRAWN, details__consent=str(consent.pk))
        .order_by("-seq")
        .first()
    )
    details = event.details if event is not None else {}
    cancelled = int(details.get("messages_cancelled", 0))
    delivered = int(details.get("messages_already_delivered", 0))
    country = consent.get_recipient_country_display()
    parts = [_("Consent withdrawn.")]
    if cancelled:
        parts.append(
            ngettext(
                "%(count)d message waiting to be sent to %(country)s was cancelled.",
                "%(count)d messages waiting to be sent to %(country)s were cancelled.",
                cancelled,
            )
            % {"count": cancelled, "country": country}
        )
    else:
        parts.append(
            _("No message waiting to be sent to %(country)s relied on it.") % {"country": country}
        )
    if delivered:
        parts.append(
            ngettext(
                "%(count)d message had already been delivered to %(country)s and was not "
                "retracted.",
                "%(count)d messages had already been delivered to %(country)s and were not "
                "retracted.",
                delivered,
            )
            % {"count": delivered, "country": country}
        )
    return " ".join(parts)


@permission("case", permissions.CHANGE)
@require_POST
def case_referral(request, pk):
    from ctip.directory.models import Service

    case = _case_action(request, pk)
    form = ReferralForm(request.POST, services=Service.objects.all())
    if form.is_valid():
        service = Service.objects.get(pk=form.cleaned_data["service"])
        try:
            services.referral_create(
                user=request.user,
                case=case,
                service=service,
                note=form.cleaned_data["note"],
                request=request,
            )
            messages.success(
                request, _("Referral sent to %(service)s.") % {"service": service.name}
            )
        except services.ConsentBlocked as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, " ".join(_errors(exc)))
        return _back(case)
    return render(
        request,
        "cases/case_detail.html",
        _case_context(request, case, referral_form=form),
        status=400,
    )


@permission("case", permissions.CHANGE)
@require_POST
def referral_status(request, referral_pk):
    """The case's agency, or the agency providing the service, moves a referral on."""
    user = request.user
    referral = Referral.objects.select_related("case", "service").filter(pk=referral_pk).first()
    allowed = referral is not None and (
        selectors.case_list(user=user, include_closed=True).filter(pk=referral.case_id).exists()
        or referral.service.provider_id == user.agency_id
    )
    if not allowed:
        raise permissions.deny(user, "referral", permissions.CHANGE, referral_pk, request)
    form = ReferralStatusForm(request.POST)
    if form.is_valid():
        try:
            services.referral_update(
                user=user, referral=referral, status=form.cleaned_data["status"], request=request
            )
            messages.success(request, _("Referral updated."))
        except ValidationError as exc:
            messages.error(request, " ".join(_errors(exc)))
    if (
        referral.service.provider_id == user.agency_id
        and referral.case.owner_agency_id != user.agency_id
    ):
        return redirect("cases:referrals_received")
    return redirect("cases:case_detail", pk=referral.case_id)


@permission("case", permissions.VIEW)
@require_GET
def referrals_received(request):
    """Referrals to services this agency provides: no personal data, the case reference only."""
    return render(
        request,
        "cases/referrals_received.html",
        {
            "referrals": selectors.referrals_received(user=request.user),
            "status_form": ReferralStatusForm(),
        },
    )


@permission("case", permissions.CHANGE)
@require_POST
def case_service(request, pk):
    case = _case_action(request, pk)
    form = ServiceReceivedForm(request.POST, kinds=_service_kinds())
    if form.is_valid():
        try:
            services.service_record(
                user=request.user,
                case=case,
                data=services.ServiceInput(**form.cleaned_data),
                request=request,
            )
            messages.success(request, _("Service recorded."))
            return _back(case)
        except ValidationError as exc:
            messages.error(request, " ".join(_errors(exc)))
    return render(
        request,
        "cases/case_detail.html",
        _case_context(request, case, service_form=form),
        status=400,
    )


@permission("case", permissions.CHANGE)
@require_POST
def case_closure(request, pk):
    case = _case_action(request, pk)
    form = ClosureForm(request.POST)
    if form.is_valid():
        try:
            services.case_request_closure(
                user=request.user, case=case, request=request, **form.cleaned_data
            )
            messages.success(request, _("Closure requested: a supervisor will decide."))
        except ValidationError as exc:
            messages.error(request, " ".join(_errors(exc)))
    else:
        messages.error(request, _("Give the reason for closure."))
    return _back(case)


@permission("case", permissions.CHANGE)
@require_POST
def case_override(request, pk):
    case = _case_action(request, pk)
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.consent_override_request(
                user=request.user, case=case, request=request, **form.cleaned_data
            )
            messages.success(request, _("Override requested: a supervisor will decide."))
            return _back(case)
        except ValidationError as exc:
            messages.error(request, " ".join(_errors(exc)))
    return render(
        request,
        "cases/case_detail.html",
        _case_context(request, case, override_form=form),
        status=400,
    )


@permission("case", permissions.CHANGE)
@require_POST
def case_assign(request, pk):
    case = _case_action(request, pk)
    assignee = User.objects.filter(
        pk=request.POST.get("assignee") or 0, agency=case.owner_agency
    ).first()
    if assignee is None:
        messages.error(request, _("Choose a caseworker of the agency."))
        return _back(case)
    try:
        services.case_assign(user=request.user, case=case, assignee=assignee, request=request)
        messages.success(request, _("Case assigned to %(user)s.") % {"user": assignee.username})
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    return _back(case)


@permission("case", permissions.SEAL)
@require_POST
def case_seal(request, pk):
    case = _case_action(request, pk, action=permissions.VIEW)
    form = SealForm(request.POST)
    if form.is_valid():
        services.case_set_sealed(
            user=request.user,
            case=case,
            sealed=not case.sealed,
            reason=form.cleaned_data["reason"],
            request=request,
        )
        messages.success(request, _("Sealing changed."))
    else:
        messages.error(request, _("Give the reason for sealing."))
    return _back(case)


# --- Legal holds (DP-7, docs/retention.md) -------------------------------------------------


def _holds_context(request, *, case=None, person=None, form=None) -> dict:
    """The legal-hold section of a case's or a person's page: the holds in force, their
    reason only for a role that sees personal fields (and only while the record's key still
    opens it), and the actions for those who may place and release holds."""
    user = request.user
    record = case or person
    holds, by_other = selectors.legal_holds_in_force(case=case, person=person)
    shows_reason = bool(
        permissions.visible_fields(user, LegalHold.PII_FIELDS, LegalHold.PII_FIELDS)
    )
    readable = [h for h in holds if shows_reason and h.data_key.shredded_at is None]
    if readable:
        audit_view(actor=user, objects=readable, fields=["reason"], request=request)
    kind = "case" if case is not None else "person"
    allowed = retention.legal_hold_allowed(user)
    return {
        "holds": [
            {
                "hold": h,
                "reason": h.reason if h in readable else None,
                "release_url": reverse(f"cases:{kind}_hold_release", args=[record.pk, h.pk]),
            }
            for h in holds
        ],
        "held_by_other": by_other,
        "shows_hold_reason": shows_reason,
        "can_release_hold": allowed,
        # One hold in force per record; an erased record cannot be held any more.
        "can_place_hold": allowed and not holds and record.data_key.shredded_at is None,
        "hold_form": form or LegalHoldForm(),
        "hold_url": reverse(f"cases:{kind}_hold", args=[record.pk]),
    }


def _hold_refuse_unless_allowed(request, action: str, object_id=None) -> None:
    """The role check before anything else, so that a role without the right learns nothing
    (not even which field is missing): the one "not found", logged."""
    if not retention.legal_hold_allowed(request.user):
        raise permissions.deny(request.user, "legal_hold", action, object_id, request)


def _hold_place(request, *, case=None, person=None) -> LegalHoldForm | None:
    """Place the hold the posted form asks for on a record fetched through ``access_*``:
    None when placed, else the form with its errors."""
    _hold_refuse_unless_allowed(request, permissions.CREATE)
    form = LegalHoldForm(request.POST)
    if not form.is_valid():
        return form
    try:
        retention.legal_hold_place(
            user=request.user,
            reason=form.cleaned_data["reason"],
            case=case,
            person=person,
            request=request,
        )
    except ValidationError as exc:
        held = LegalHold.objects.filter(released_at__isnull=True, case=case, person=person)
        if held.exists():  # placed by someone else meanwhile (one hold in force per record)
            form.add_error(None, _("This record is already under a legal hold."))
        elif hasattr(exc, "error_dict"):
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            form.add_error(None, exc.messages)
        return form
    messages.success(
        request, _("Legal hold placed: the retention purge keeps this record until released.")
    )
    return None


def _hold_release(request, holds, hold_pk) -> None:
    """Release one of ``holds`` (those of a record fetched through ``access_*``)."""
    _hold_refuse_unless_allowed(request, permissions.CHANGE, hold_pk)
    hold = holds.filter(pk=hold_pk).first()
    if hold is None:
        raise permissions.deny(request.user, "legal_hold", permissions.CHANGE, hold_pk, request)
    try:
        retention.legal_hold_release(user=request.user, hold=hold, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(request, _("Legal hold released."))


@permission("case", permissions.VIEW)
@require_POST
def case_hold(request, pk):
    case = selectors.access_case(request.user, pk, request=request)
    form = _hold_place(request, case=case)
    if form is None:
        return _back(case)
    return render(
        request, "cases/case_detail.html", _case_context(request, case, hold_form=form), status=400
    )


@permission("case", permissions.VIEW)
@require_POST
def case_hold_release(request, pk, hold_pk):
    case = selectors.access_case(request.user, pk, request=request)
    _hold_release(request, case.legal_holds.all(), hold_pk)
    return _back(case)


@permission("person", permissions.VIEW)
@require_POST
def person_hold(request, pk):
    person = selectors.access_person(request.user, pk, request=request)
    form = _hold_place(request, person=person)
    if form is None:
        return redirect("cases:person_detail", pk=person.pk)
    return render(
        request,
        "cases/person_detail.html",
        _person_context(request, person, hold_form=form),
        status=400,
    )


@permission("person", permissions.VIEW)
@require_POST
def person_hold_release(request, pk, hold_pk):
    person = selectors.access_person(request.user, pk, request=request)
    _hold_release(request, person.legal_holds.all(), hold_pk)
    return redirect("cases:person_detail", pk=person.pk)


# --- Approvals and break-glass ------------------------------------------------------------


@permission("case", permissions.VIEW)
@require_GET
def approvals(request):
    user = request.user
    to_decide = list(selectors.approvals_to_decide(user=user))
    to_review = list(selectors.dpo_review_queue(user=user))
    audit_view(actor=user, objects=to_decide + to_review, fields=["reason"], request=request)
    return render(
        request,
        "cases/approvals.html",
        {"to_decide": to_decide, "to_review": to_review, "form": DecideForm()},
    )


@permission("case", "approve")
@require_POST
def approval_decide(request, pk):
    approval = selectors.access_approval(request.user, pk, request=request)
    form = DecideForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.approval_decide(
            user=request.user,
            approval=approval,
            approve=request.POST.get("decision") == "approve",
            note=note,
            request=request,
        )
        messages.success(request, _("Decision recorded."))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(
            request, " ".join(_errors(exc)) if isinstance(exc, ValidationError) else str(exc)
        )
    return redirect("cases:approvals")


@permission("case", "review")
@require_POST
def approval_review(request, pk):
    approval = selectors.access_approval(request.user, pk, request=request)
    form = DecideForm(request.POST)
    try:
        services.approval_review(
            user=request.user,
            approval=approval,
            note=form.cleaned_data["note"] if form.is_valid() else "",
            request=request,
        )
        messages.success(request, _("Review recorded."))
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    return redirect("cases:approvals")


@permission("case", "break_glass")
@require_http_methods(["GET", "POST"])
def break_glass(request):
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.break_glass_request(user=request.user, request=request, **form.cleaned_data)
        messages.success(
            request,
            _(
                "Request sent. A supervisor decides; the data protection officer is told "
                "of every approval."
            ),
        )
        return redirect("cases:case_list")
    return render(
        request, "cases/break_glass.html", {"form": form}, status=400 if form.errors else 200
    )


# --- Transfers between agencies, reminders ------------------------------------------------


@permission("case", permissions.CHANGE)
@require_POST
def case_transfer(request, pk):
    case = _case_action(request, pk)
    colleagues = User.objects.filter(agency=case.owner_agency, is_active=True)
    agencies = selectors.transfer_agencies(case=case)
    form = TransferForm(request.POST, agencies=agencies, users=colleagues)
    if not form.is_valid():
        messages.error(request, _("Choose the receiving agency and give the reason."))
        return _back(case)
    try:
        transfer = services.case_transfer_propose(
            user=request.user,
            case=case,
            to_agency=agencies.get(pk=form.cleaned_data["to_agency"]),
            reason=form.cleaned_data["reason"],
            keep_access=list(colleagues.filter(pk__in=form.cleaned_data["keep_access"])),
            request=request,
        )
        messages.success(
            request,
            _("Transfer proposed to %(agency)s: it waits for them to accept.")
            % {"agency": transfer.to_agency.name},
        )
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    return _back(case)


@permission("case", permissions.VIEW)
@require_GET
def transfers(request):
    user = request.user
    incoming = list(selectors.transfers_incoming(user=user))
    outgoing = list(selectors.transfers_outgoing(user=user))
    audit_view(actor=user, objects=incoming + outgoing, fields=["reason"], request=request)
    return render(
        request,
        "cases/transfers.html",
        {"incoming": incoming, "outgoing": outgoing, "form": DecideForm()},
    )


@permission("case", permissions.CREATE)
@require_POST
def transfer_decide(request, pk):
    transfer = selectors.access_transfer(request.user, pk, incoming=True, request=request)
    form = DecideForm(request.POST)
    accept = request.POST.get("decision") == "accept"
    try:
        services.case_transfer_decide(
            user=request.user,
            transfer=transfer,
            accept=accept,
            note=form.cleaned_data["note"] if form.is_valid() else "",
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
        return redirect("cases:transfers")
    if accept:
        messages.success(request, _("Transfer accepted: the case is now your agency's."))
        return redirect("cases:case_detail", pk=transfer.case_id)
    messages.success(request, _("Transfer declined."))
    return redirect("cases:transfers")


@permission("case", permissions.CHANGE)
@require_POST
def transfer_cancel(request, pk):
    transfer = selectors.access_transfer(request.user, pk, incoming=False, request=request)
    try:
        services.case_transfer_cancel(user=request.user, transfer=transfer, request=request)
        messages.success(request, _("Transfer cancelled."))
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    return redirect("cases:case_detail", pk=transfer.case_id)


@permission("case", permissions.VIEW)
@require_GET
def reminders(request):
    rows = list(selectors.my_reminders(user=request.user)[:200])
    return render(request, "cases/reminders.html", {"reminders": rows, "now": timezone.now()})


# --- Repatriation (issue 8) ---------------------------------------------------------------


@permission("case", permissions.CHANGE)
@require_POST
def repatriation_step(request, pk, step):
    case = _case_action(request, pk)
    spec = repatriation.STEPS.get(step)
    if spec is None:
        raise permissions.NotFound()
    try:
        repatriation.step_send(
            user=request.user,
            case=case,
            step=step,
            data=repatriation.parse_form(spec, request.POST),
            request=request,
        )
        messages.success(request, _("Sent to the other country: %(step)s.") % {"step": spec.label})
    except services.ConsentBlocked as exc:
        messages.error(request, str(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    return _back(case)


@permission("case", permissions.VIEW)
@require_GET
def repatriation_board(request):
    user = request.user
    waiting_on = request.GET.get("waiting_on", "")
    focal = request.GET.get("focal", "").strip()[:150]
    overdue = request.GET.get("overdue") == "1"
    rows = list(
        selectors.repatriation_board(
            user=user, overdue=overdue, waiting_on=waiting_on, focal=focal
        )[:500]
    )
    now = timezone.now()
    by_focal: dict[str, int] = {}
    for r in rows:
        if r.is_overdue(now):
            key = r.case.assigned_to.username if r.case.assigned_to else "-"
            by_focal[key] = by_focal.get(key, 0) + 1
    return render(
        request,
        "cases/repatriation_board.html",
        {
            "rows": [(r, r.is_overdue(now), r.elapsed_days(now)) for r in rows],
            "by_focal": sorted(by_focal.items()),
            "waiting_on": waiting_on,
            "focal": focal,
            "overdue": overdue,
            "steps": {k: v.label for k, v in repatriation.STEPS.items()},
        },
    )


HANDOVER_STEPS = ("plan_proposal", "plan_acceptance", "handover_record", "handover_confirmation")


def _labels(text) -> dict:
    out = {}
    for code in ("en", "km", "zh-hans"):
        with translation.override(code):
            out[code.split("-")[0]] = str(text)
    return out


@permission("case", permissions.VIEW)
@require_GET
def handover_print(request, pk):
    """The handover record in two languages (Khmer | Chinese, with English), printed from the
    message bodies the nodes exchanged, with their digests for comparison."""
    case = selectors.access_case(request.user, pk, request=request)
    rep = getattr(case, "repatriation", None)
    if rep is None or not permissions.sees_pii(request.user):
        raise permissions.NotFound()
    sections = []
    for record, body in repatriation.step_bodies(rep):
        if record.step not in HANDOVER_STEPS:
            continue
        rows = []
        for key, value in body.items():
            if key == "shared_ref":
                continue
            if isinstance(value, dict):
                value = " · ".join(str(v) for v in value.values() if v)
            elif isinstance(value, list):
                value = ", ".join(
                    v.get("name", "") if isinstance(v, dict) else str(v) for v in value
                )
            rows.append((_labels(repatriation.FIELD_LABELS.get(key, key)), value))
        sections.append(
            {
                "title": _labels(repatriation.STEPS[record.step].label),
                "record": record,
                "rows": rows,
            }
        )
    audit_view(
        actor=request.user,
        objects=[s["record"] for s in sections],
        fields=["body"],
        request=request,
    )
    return render(
        request,
        "cases/handover_print.html",
        {
            "case": case,
            "rep": rep,
            "sections": sections,
            "heading": _labels(gettext_lazy("Handover record")),
            "shared": _labels(gettext_lazy("Shared case reference")),
            "signature": _labels(gettext_lazy("Signature")),
            "now": timezone.now(),
        },
    )
