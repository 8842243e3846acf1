"""Forms of the enforcement pages. They parse input only; the rules are in services.py."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Country
from ctip.enforcement.models import (
    HearingMode,
    LeCaseStatus,
    LegalBasis,
    Offence,
    OperationKind,
    Outcome,
    ParticipantRole,
    ProtectiveMeasure,
    SecondLanguage,
    SuspectRole,
    SuspectStatus,
    TaskforceRole,
    TestimonyStatus,
    Urgency,
    VictimRole,
)


class DateInput(forms.DateInput):
    input_type = "date"


class _MemberChoice(forms.ModelChoiceField):
    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            # A malformed id reads like an unknown one (and never echoes what was typed).
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None

    def label_from_instance(self, obj) -> str:
        return f"{obj.focal_person.name} · {obj.focal_person.agency.name} ({obj.country})"


class MemberForm(forms.Form):
    focal_person = forms.ModelChoiceField(label=_("Focal person"), queryset=None)
    taskforce_role = forms.ChoiceField(label=_("Role in the taskforce"), choices=TaskforceRole)
    since = forms.DateField(label=_("Member since"), widget=DateInput)
    user = forms.ModelChoiceField(label=_("User account"), queryset=None, required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, focal_persons, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["focal_person"].queryset = focal_persons
        self.fields["focal_person"].label_from_instance = lambda fp: f"{fp.name} · {fp.title}"
        self.fields["user"].queryset = users


class SopForm(forms.Form):
    version = forms.RegexField(
        label=_("Version"), regex=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$", max_length=40
    )
    title_en = forms.CharField(label=_("Title (English)"), max_length=200)
    title_km = forms.CharField(label=_("Title (Khmer)"), max_length=200, required=False)
    title_zh_hans = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    body_en = forms.CharField(label=_("Text (English)"), widget=forms.Textarea)
    body_km = forms.CharField(label=_("Text (Khmer)"), widget=forms.Textarea, required=False)
    body_zh_hans = forms.CharField(label=_("Text (Chinese)"), widget=forms.Textarea, required=False)


class FinaliseForm(forms.Form):
    meeting = forms.ModelChoiceField(label=_("Joint taskforce meeting"), queryset=None)

    def __init__(self, *args, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings
        self.fields["meeting"].label_from_instance = lambda m: f"{m.title} ({m.starts_on})"


class LeCaseForm(forms.Form):
    offences = forms.MultipleChoiceField(
        label=_("Offences"), choices=Offence, widget=forms.CheckboxSelectMultiple
    )
    status = forms.ChoiceField(label=_("Status"), choices=LeCaseStatus, initial="open")
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea, required=False)
    locations = forms.CharField(label=_("Places involved"), required=False, max_length=2000)


class SuspectForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    aliases = forms.CharField(label=_("Aliases"), max_length=500, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=SuspectRole)
    status = forms.ChoiceField(label=_("Status"), choices=SuspectStatus, initial="identified")
    nationality = forms.CharField(
        label=_("Nationality (country code)"), max_length=2, required=False
    )
    birth_year = forms.IntegerField(
        label=_("Year of birth"), min_value=1900, max_value=2100, required=False
    )
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)


class VictimForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=VictimRole)
    case_reference = forms.CharField(
        label=_("Victim case reference"),
        max_length=24,
        required=False,
        help_text=_("Only a victim case you may open can be linked; nothing of it is copied."),
    )


class OperationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=OperationKind)
    date = forms.DateField(label=_("Date"), widget=DateInput)
    country = forms.ChoiceField(label=_("Country"), choices=Country)
    place = forms.CharField(label=_("Place"), max_length=500, required=False)
    persons_rescued = forms.IntegerField(label=_("Persons rescued"), min_value=0, initial=0)
    arrests = forms.IntegerField(label=_("Arrests"), min_value=0, initial=0)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)


class RequestForm(forms.Form):
    counterpart = _MemberChoice(
        label=_("Counterpart"),
        queryset=None,
        empty_label=None,
        error_messages={
            "invalid_choice": _(
                "Unknown counterpart: choose an active taskforce member of the other country."
            )
        },
    )
    asked = forms.CharField(label=_("Information asked for"), widget=forms.Textarea)
    legal_basis = forms.ChoiceField(
        label=_("Legal basis"), choices=[("", "---------"), *LegalBasis.choices], required=False
    )
    legal_basis_detail = forms.CharField(
        label=_("Legal basis (detail)"), max_length=300, required=False
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency, initial="routine")
    deadline = forms.DateField(label=_("Answer wanted by"), widget=DateInput)
    victim_case_reference = forms.CharField(
        label=_("About the victim case (optional)"),
        max_length=24,
        required=False,
        help_text=_("Sent only if the victim consented to case information for that country."),
    )

    def __init__(self, *args, counterparts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counterpart"].queryset = counterparts
        # An id that is not in the list is refused by the service with its own message.
        self.fields["counterpart"].required = False


class AnswerForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome)
    answer = forms.CharField(label=_("Answer"), widget=forms.Textarea, required=False)


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    host_country = forms.ChoiceField(label=_("Host country"), choices=Country)
    place = forms.CharField(label=_("Place"), max_length=200)
    starts_on = forms.DateField(label=_("First day"), widget=DateInput)
    ends_on = forms.DateField(label=_("Last day"), widget=DateInput)
    second_language = forms.ChoiceField(
        label=_("Second language of the minutes"), choices=SecondLanguage
    )
    agenda = forms.CharField(label=_("Agenda"), widget=forms.Textarea, required=False)
    le_cases = forms.ModelMultipleChoiceField(
        label=_("Cases to address"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    case_references = forms.CharField(
        label=_("The other country's case references"),
        required=False,
        max_length=500,
        help_text=_("Separated by commas."),
    )

    def __init__(self, *args, cases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["le_cases"].queryset = cases


class ParticipantForm(forms.Form):
    member = _MemberChoice(label=_("Taskforce member"), queryset=None, required=False)
    name = forms.CharField(label=_("Or name"), max_length=200, required=False)
    organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    country = forms.ChoiceField(label=_("Country"), choices=Country)
    role = forms.ChoiceField(label=_("Role"), choices=ParticipantRole, initial="member")

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members


class MinutesForm(forms.Form):
    minutes_en = forms.CharField(label=_("Minutes (English)"), widget=forms.Textarea)
    minutes_second = forms.CharField(label=_("Minutes (second language)"), widget=forms.Textarea)
    decisions = forms.CharField(
        label=_("Decisions (one a line)"), widget=forms.Textarea, required=False
    )


class ActionItemForm(forms.Form):
    text = forms.CharField(label=_("Action"), widget=forms.Textarea)
    owner = _MemberChoice(label=_("Owner"), queryset=None, required=False)
    owner_name = forms.CharField(label=_("Or owner's name"), max_length=200, required=False)
    due_on = forms.DateField(label=_("Due"), widget=DateInput)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members


class TestimonyForm(forms.Form):
    witness = forms.ModelChoiceField(label=_("Victim or witness"), queryset=None)
    court = forms.CharField(label=_("Court"), max_length=200)
    hearing_country = forms.ChoiceField(label=_("Country of the hearing"), choices=Country)
    hearing_mode = forms.ChoiceField(label=_("Hearing"), choices=HearingMode)
    hearing_date = forms.DateField(label=_("Hearing date"), widget=DateInput, required=False)
    protective_measures = forms.MultipleChoiceField(
        label=_("Protective measures"),
        choices=ProtectiveMeasure,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    consent_given = forms.BooleanField(label=_("The person consented"), required=False)
    consent_on = forms.DateField(label=_("Consent given on"), widget=DateInput, required=False)
    consent_language = forms.CharField(
        label=_("Language of consent"), max_length=10, required=False
    )
    interpreter_used = forms.BooleanField(label=_("Interpreter used"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=TestimonyStatus, initial="requested")
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)

    def __init__(self, *args, witnesses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["witness"].queryset = witnesses
