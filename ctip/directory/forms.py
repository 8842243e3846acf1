"""Forms of the directory. They parse input; the rules live in the models and services,
whose field errors are put back on the form (``add_errors``)."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Agency
from ctip.directory.codes import LANGUAGES
from ctip.directory.models import (
    FocalPerson,
    FollowUpStatus,
    LanguageLevel,
    Responsibility,
    Service,
    ServiceType,
    StandardsChecklist,
)
from ctip.directory.services import FOCAL_PERSON_FIELDS, SERVICE_FIELDS

LANGUAGE_CHOICES = [(code, name) for code, name in LANGUAGES.items()]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def split_list(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n;]", value or "") if part.strip()]


def add_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form, by field where the form has it."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, messages in exc.message_dict.items():
        target = name if name in form.fields and name != NON_FIELD_ERRORS else None
        for message in messages:
            form.add_error(target, message)


def own_agencies():
    return Agency.objects.filter(country=settings.CTIP_NODE).order_by("code")


class _EntryForm(forms.Form):
    model = None
    field_names: tuple[str, ...] = ()
    list_fields: tuple[str, ...] = ()

    def __init__(self, *args, instance=None, **kwargs):
        initial = kwargs.pop("initial", {}) or {}
        if instance is not None:
            initial = {**self.initial_from(instance), **initial}
        super().__init__(*args, initial=initial, **kwargs)
        generated = fields_for_model(
            self.model,
            fields=[f for f in self.field_names if f not in self.declared_fields],
        )
        for name in self.field_names:
            if name not in self.fields:
                self.fields[name] = generated[name]
        self.order_fields(self.field_names)
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3

    def initial_from(self, instance) -> dict:
        data = {name: getattr(instance, name) for name in self.field_names}
        for name in self.list_fields:
            data[name] = ", ".join(getattr(instance, name) or [])
        return data

    def changes(self, instance=None) -> dict:
        return dict(self.cleaned_data)


class ServiceForm(_EntryForm):
    model = Service
    field_names = SERVICE_FIELDS
    list_fields = ("nationalities", "coverage_areas")

    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Agency.objects.none())
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    nationalities = forms.CharField(
        label=_("Nationalities served"),
        required=False,
        help_text=_("ISO country codes separated by commas, e.g. KH, CN. Empty: any."),
    )
    coverage_areas = forms.CharField(
        label=_("Coverage areas"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Provinces or cities, separated by commas."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = own_agencies()

    def initial_from(self, instance) -> dict:
        data = super().initial_from(instance)
        data["languages"] = list(instance.languages)
        return data

    def clean_nationalities(self):
        return [code.upper() for code in split_list(self.cleaned_data["nationalities"])]

    def clean_coverage_areas(self):
        return split_list(self.cleaned_data["coverage_areas"])


class FocalPersonForm(_EntryForm):
    model = FocalPerson
    field_names = tuple(f for f in FOCAL_PERSON_FIELDS if f != "languages")

    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.none())
    responsibilities = forms.MultipleChoiceField(
        label=_("Responsibilities"),
        choices=Responsibility.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = own_agencies()
        instance = kwargs.get("instance")
        levels = {}
        if instance is not None:
            levels = {item["code"]: item["level"] for item in instance.languages}
        for code, name in LANGUAGES.items():
            self.fields[f"lang_{code}"] = forms.ChoiceField(
                label=name,
                required=False,
                choices=[("", "—"), *LanguageLevel.choices],
                initial=levels.get(code, ""),
            )

    @property
    def language_fields(self):
        return [self[f"lang_{code}"] for code in LANGUAGES]

    @property
    def entry_fields(self):
        return [self[name] for name in self.field_names]

    def clean(self):
        data = super().clean()
        data["languages"] = [
            {"code": code, "level": data.pop(f"lang_{code}")}
            for code in LANGUAGES
            if data.get(f"lang_{code}")
        ]
        for code in LANGUAGES:
            data.pop(f"lang_{code}", None)
        return data

    def add_error(self, field, error):
        if field == "languages":
            field = None
        super().add_error(field, error)


class PublicSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    kind = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("Focal persons and services")),
            ("focal", _("Focal persons")),
            ("service", _("Services")),
        ],
    )
    type = forms.ChoiceField(
        label=_("Service type"),
        required=False,
        choices=[("", _("Any service")), *ServiceType.choices],
    )
    country = forms.ChoiceField(
        label=_("Country"),
        required=False,
        choices=[("", _("Both countries")), ("KH", _("Cambodia")), ("CN", _("China"))],
    )
    lang = forms.ChoiceField(
        label=_("Speaks"), required=False, choices=[("", _("Any language")), *LANGUAGE_CHOICES]
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {"q": "", "kind": "", "type": "", "country": "", "lang": ""}
        return self.cleaned_data


class AssessmentForm(forms.Form):
    """One score field (and one evidence field) per standard of the checklist."""

    assessed_on = forms.DateField(label=_("Assessed on"), widget=DATE)
    assessing_agency = forms.ModelChoiceField(
        label=_("Assessing agency"), queryset=Agency.objects.none()
    )
    team = forms.CharField(label=_("Assessment team"), required=False, max_length=300)
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Do not write residents' names or details."),
    )
    next_assessment_due = forms.DateField(
        label=_("Next assessment due"), required=False, widget=DATE
    )

    NA = "na"

    def __init__(self, *args, checklist: StandardsChecklist, **kwargs):
        super().__init__(*args, **kwargs)
        self.checklist = checklist
        self.fields["assessing_agency"].queryset = own_agencies()
        self.standards = list(checklist.standards.all())
        for standard in self.standards:
            choices = [("", "—")]
            choices += [
                (str(n), f"{n} · {checklist.scale_label(n)}")
                for n in range(standard.scale_min, standard.scale_max + 1)
            ]
            if standard.may_be_not_applicable:
                choices.append((self.NA, _("Not applicable")))
            self.fields[f"score_{standard.code}"] = forms.ChoiceField(
                label=f"{standard.code} {standard.title}", choices=choices
            )
            self.fields[f"evidence_{standard.code}"] = forms.CharField(
                label=_("Evidence"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def rows(self):
        """(standard, score field, evidence field), grouped for the template by area."""
        return [(s, self[f"score_{s.code}"], self[f"evidence_{s.code}"]) for s in self.standards]

    def score_inputs(self):
        from ctip.directory.services import ScoreInput

        out = []
        for standard in self.standards:
            raw = self.cleaned_data.get(f"score_{standard.code}", "")
            evidence = self.cleaned_data.get(f"evidence_{standard.code}", "")
            if raw == self.NA:
                out.append(ScoreInput(standard.code, None, True, evidence))
            elif raw != "":
                out.append(ScoreInput(standard.code, int(raw), False, evidence))
        return out

    def add_error(self, field, error):
        if field and field.startswith("not_applicable_"):
            field = "score_" + field.removeprefix("not_applicable_")
        super().add_error(field if field in self.fields or field is None else None, error)


class FollowUpForm(forms.Form):
    action = forms.CharField(label=_("Action"), widget=forms.Textarea(attrs={"rows": 2}))
    responsible = forms.CharField(label=_("Responsible"), max_length=200)
    due_on = forms.DateField(label=_("Due on"), widget=DATE)
    standard = forms.ModelChoiceField(label=_("Standard"), required=False, queryset=None)

    def __init__(self, *args, checklist: StandardsChecklist, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["standard"].queryset = checklist.standards.all()
        self.fields["standard"].label_from_instance = lambda s: f"{s.code} {s.title}"


class FollowUpCloseForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Close as"),
        choices=[(FollowUpStatus.DONE, _("Done")), (FollowUpStatus.CANCELLED, _("Cancelled"))],
    )
    completed_on = forms.DateField(label=_("On"), widget=DATE)
    outcome = forms.CharField(label=_("Outcome"), widget=forms.Textarea(attrs={"rows": 2}))
