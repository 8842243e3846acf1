"""Forms of the training pages. They parse input only; the rules are in services.py."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Agency, Country, User
from ctip.training.models import (
    VERSION_PATTERN,
    Chapter,
    Language,
    ManualStatus,
    ManualVersion,
    MaterialKind,
    ParticipantSex,
    RevocationReason,
    TargetGroup,
    TrainingType,
)

SCORE = {"min_value": 0, "max_value": 100, "max_digits": 5, "decimal_places": 2}


class DateInput(forms.DateInput):
    input_type = "date"


class ManualForm(forms.Form):
    version = forms.RegexField(
        label=_("Version"), regex=VERSION_PATTERN, max_length=40, help_text=_("e.g. 2026.1")
    )
    title_en = forms.CharField(label=_("Title (English)"), max_length=200)
    title_km = forms.CharField(label=_("Title (Khmer)"), max_length=200, required=False)
    title_zh_hans = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    languages = forms.MultipleChoiceField(
        label=_("Published in"),
        choices=Language.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=Language.values,
    )


class NewVersionForm(forms.Form):
    version = forms.RegexField(label=_("New version"), regex=VERSION_PATTERN, max_length=40)


class ChapterForm(forms.Form):
    number = forms.IntegerField(label=_("Number"), min_value=1, max_value=999)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    body_en = forms.CharField(label=_("Text (English)"), required=False, widget=forms.Textarea)
    title_km = forms.CharField(label=_("Title (Khmer)"), max_length=200, required=False)
    body_km = forms.CharField(label=_("Text (Khmer)"), required=False, widget=forms.Textarea)
    title_zh_hans = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    body_zh_hans = forms.CharField(label=_("Text (Chinese)"), required=False, widget=forms.Textarea)
    form_version = forms.CharField(
        label=_("Identification form version taught"),
        max_length=40,
        required=False,
        help_text=_("The version string of the form, e.g. 2026.1"),
    )
    form_sha256 = forms.CharField(
        label=_("SHA-256 of that form version"),
        max_length=64,
        required=False,
        help_text=_("Optional: pins the exact form file both countries use."),
    )
    sop_version = forms.CharField(
        label=_("SOP version taught"),
        max_length=40,
        required=False,
        help_text=_("The version of the SOP configuration, e.g. 2026.1-default"),
    )


class TrainingForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    type = forms.ChoiceField(label=_("Type"), choices=TrainingType.choices)
    host_country = forms.ChoiceField(label=_("Host country"), choices=Country.choices)
    place = forms.CharField(label=_("Place"), max_length=200)
    start_date = forms.DateField(label=_("First day"), widget=DateInput)
    end_date = forms.DateField(label=_("Last day"), widget=DateInput)
    organizers = forms.ModelMultipleChoiceField(
        label=_("Other organising agencies"),
        queryset=Agency.objects.all(),
        required=False,
        help_text=_("Your own agency always organises the trainings you create."),
    )
    target_groups = forms.MultipleChoiceField(
        label=_("Target groups"),
        choices=TargetGroup.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    trainers = forms.CharField(
        label=_("Trainers (one per line)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    manual = forms.ModelChoiceField(
        label=_("Manual version used"),
        queryset=ManualVersion.objects.filter(status=ManualStatus.PUBLISHED),
        required=False,
    )
    min_attendance_percent = forms.IntegerField(
        label=_("Attendance needed for a certificate (%)"), min_value=0, max_value=100, initial=80
    )
    pass_mark = forms.DecimalField(label=_("Post-test pass mark (0–100)"), required=False, **SCORE)
    certificate_valid_months = forms.IntegerField(
        label=_("Certificates valid for (months)"),
        required=False,
        min_value=1,
        max_value=240,
        help_text=_("Leave empty for certificates without an end date."),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The last day cannot be before the first day."))
        return data


class SessionForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput)
    title = forms.CharField(label=_("Topic"), max_length=200)
    hours = forms.DecimalField(
        label=_("Hours"), required=False, min_value=0, max_value=24, decimal_places=1
    )
    chapter = forms.ModelChoiceField(
        label=_("Manual chapter taught"),
        queryset=Chapter.objects.none(),
        required=False,
    )

    def __init__(self, *args, training=None, **kwargs):
        super().__init__(*args, **kwargs)
        if training is not None and training.manual_id:
            self.fields["chapter"].queryset = Chapter.objects.filter(manual=training.manual_id)


class MaterialForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=MaterialKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    link = forms.URLField(label=_("Link"), required=False, max_length=500, assume_scheme="https")


class ParticipantForm(forms.Form):
    """An official who is a user of this node (pick the username), or an external one."""

    full_name = forms.CharField(label=_("Full name (as on the certificate)"), max_length=200)
    username = forms.CharField(
        label=_("Username on this node"),
        required=False,
        max_length=150,
        help_text=_("For officials with an account here; leave empty for external participants."),
    )
    agency_name = forms.CharField(label=_("Agency"), required=False, max_length=200)
    country = forms.ChoiceField(
        label=_("Country"), choices=[("", "—"), *Country.choices], required=False
    )
    position = forms.CharField(label=_("Position"), required=False, max_length=200)
    contact = forms.CharField(label=_("Contact (e-mail or phone)"), required=False, max_length=200)
    sex = forms.ChoiceField(
        label=_("Sex"), choices=[("", "—"), *ParticipantSex.choices], required=False
    )
    pre_score = forms.DecimalField(label=_("Pre-test score (0–100)"), required=False, **SCORE)
    post_score = forms.DecimalField(label=_("Post-test score (0–100)"), required=False, **SCORE)

    def clean(self):
        data = super().clean()
        username = data.get("username")
        data["user"] = None
        if username:
            data["user"] = User.objects.filter(username=username, is_active=True).first()
            if data["user"] is None:
                self.add_error("username", _("No active user of this node has this username."))
        else:
            if not data.get("agency_name"):
                self.add_error("agency_name", _("Give the agency of an external participant."))
            if not data.get("country"):
                self.add_error("country", _("Give the country of an external participant."))
        return data


class ScoresForm(forms.Form):
    pre_score = forms.DecimalField(label=_("Pre-test score (0–100)"), required=False, **SCORE)
    post_score = forms.DecimalField(label=_("Post-test score (0–100)"), required=False, **SCORE)


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=RevocationReason.choices)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Participant list (.csv or .xlsx)"))
    dry_run = forms.BooleanField(
        label=_("Check only (dry run): save nothing"), required=False, initial=True
    )


class VerifyForm(forms.Form):
    code = forms.CharField(label=_("Verification code"), max_length=40)
