from django import forms
from django.utils.translation import gettext_lazy as _

from ctip.cases.models import DocumentType, Sex
from ctip.cases.places import place


class PersonForm(forms.Form):
    name_km = forms.CharField(label=_("Name in Khmer script"), required=False, max_length=200)
    name_zh = forms.CharField(label=_("Name in Chinese characters"), required=False, max_length=200)
    name_latin = forms.CharField(label=_("Name in Latin letters"), required=False, max_length=200)
    aliases = forms.CharField(label=_("Other names"), required=False, max_length=500)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.UNKNOWN)
    birth_year = forms.IntegerField(
        label=_("Birth year"), required=False, min_value=1900, max_value=2100
    )
    birth_month = forms.IntegerField(
        label=_("Birth month"), required=False, min_value=1, max_value=12
    )
    birth_day = forms.IntegerField(label=_("Birth day"), required=False, min_value=1, max_value=31)
    age_estimate = forms.IntegerField(
        label=_("Estimated age"), required=False, min_value=0, max_value=120
    )
    nationality = forms.ChoiceField(
        label=_("Nationality"),
        required=False,
        choices=[("", "—"), ("KH", _("Cambodian")), ("CN", _("Chinese")), ("XX", _("Other"))],
    )
    document_type = forms.ChoiceField(
        label=_("Identity document"), required=False, choices=[("", "—"), *DocumentType.choices]
    )
    document_number = forms.CharField(label=_("Document number"), required=False, max_length=60)
    contact = forms.CharField(label=_("Contact"), required=False, max_length=200)
    family_contacts = forms.CharField(label=_("Family contacts"), required=False, max_length=500)
    origin_code = forms.CharField(
        label=_("Place of origin: reference code (province, district, commune or city)"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"list": "place-codes"}),
    )
    place_of_origin = forms.CharField(
        label=_("Place of origin: village and address"), required=False, max_length=200
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self):
        data = super().clean()
        if not any(data.get(f) for f in ("name_km", "name_zh", "name_latin")):
            raise forms.ValidationError(_("Give the name in at least one script."))
        if data.get("birth_month") and not data.get("birth_year"):
            self.add_error("birth_month", _("A birth month needs a birth year."))
        if data.get("birth_day") and not data.get("birth_month"):
            self.add_error("birth_day", _("A birth day needs a birth month."))
        code = (data.get("origin_code") or "").strip().upper()
        if code and place(code) is None:
            self.add_error("origin_code", _("Unknown place code."))
        data["origin_code"] = code
        return data


# --- Case workflow forms ------------------------------------------------------------------
from ctip.cases.models import (  # noqa: E402 - grouped with the forms that use them
    ClosureReason,
    ConsentDecision,
    ConsentPurpose,
    DataCategory,
    DocumentKind,
    HowGiven,
    ReferralStatus,
    ScreeningSource,
    Track,
)

COUNTRIES = [("KH", _("Cambodia")), ("CN", _("China"))]
LANGUAGES = [("km", _("Khmer")), ("zh", _("Chinese")), ("en", _("English")), ("other", _("Other"))]


class ScreeningStartForm(forms.Form):
    source = forms.ChoiceField(
        label=_("How is the form filled in?"),
        choices=[c for c in ScreeningSource.choices if c[0] != ScreeningSource.IMPORT],
        initial=ScreeningSource.DEVICE,
    )


class CaseOpenForm(forms.Form):
    track = forms.ChoiceField(label=_("Track"), choices=Track.choices)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of document"), choices=DocumentKind.choices)
    file = forms.FileField(label=_("File (PDF, JPEG or PNG)"))


class ConsentForm(forms.Form):
    decision = forms.ChoiceField(label=_("The person"), choices=ConsentDecision.choices)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    recipient_country = forms.ChoiceField(label=_("Recipient country"), choices=COUNTRIES)
    recipient_agency = forms.CharField(
        label=_("Recipient agency code (empty: any competent agency)"),
        required=False,
        max_length=40,
    )
    data_categories = forms.MultipleChoiceField(
        label=_("Kinds of information"),
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    given_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    how_given = forms.ChoiceField(label=_("How given"), choices=HowGiven.choices)
    language = forms.ChoiceField(label=_("Language of the explanation"), choices=LANGUAGES)
    interpreter_used = forms.BooleanField(label=_("Interpreter used"), required=False)
    interpreter_name = forms.CharField(label=_("Interpreter"), required=False, max_length=200)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000)


class ReferralForm(forms.Form):
    service = forms.ChoiceField(label=_("Registered service"), choices=[])
    note = forms.CharField(
        label=_("Note for the service"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [
            (str(s.pk), f"{s.name} · {s.get_service_type_display()} · {s.country}")
            for s in services
        ]


class ReferralStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=ReferralStatus.choices)


class ServiceReceivedForm(forms.Form):
    kind = forms.ChoiceField(label=_("Service"), choices=[])
    started_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ended_on = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    satisfaction = forms.TypedChoiceField(
        label=_("The person's satisfaction"),
        choices=[("", "—"), *[(str(i), str(i)) for i in range(1, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    feedback = forms.CharField(
        label=_("The person's feedback"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(kinds)


class ClosureForm(forms.Form):
    closure_reason = forms.ChoiceField(label=_("Reason for closure"), choices=ClosureReason.choices)
    reason = forms.CharField(
        label=_("Explain"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class OverrideForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    recipient_country = forms.ChoiceField(label=_("Recipient country"), choices=COUNTRIES)
    data_categories = forms.MultipleChoiceField(
        label=_("Kinds of information"),
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    days = forms.IntegerField(label=_("For how many days"), min_value=1, max_value=30, initial=7)
    reason = forms.CharField(
        label=_("Legal basis and reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Caseworker"), choices=[])

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [(str(u.pk), u.username) for u in users]


class SealForm(forms.Form):
    reason = forms.CharField(label=_("Reason for sealing"), max_length=300)


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the legal hold"),
        help_text=_("A court order, a prosecution or a complaint that needs the record kept."),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for the legal hold.")},
    )

    def __init__(self, *args, **kwargs):
        # Its own ids: the case page has other forms with a "reason" field.
        kwargs.setdefault("auto_id", "hold_%s")
        super().__init__(*args, **kwargs)


class BreakGlassForm(forms.Form):
    case_reference = forms.CharField(label=_("Case reference"), max_length=24)
    hours = forms.IntegerField(label=_("Hours of access"), min_value=1, max_value=72, initial=4)
    reason = forms.CharField(
        label=_("Why you need access now"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class DecideForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Submissions file (CSV or JSON from ODK or KoboToolbox)"))
    dry_run = forms.BooleanField(label=_("Only check, do not import"), required=False, initial=True)


class TransferForm(forms.Form):
    to_agency = forms.ChoiceField(label=_("Receiving agency"), choices=[])
    reason = forms.CharField(label=_("Reason for the transfer"), max_length=500)
    keep_access = forms.MultipleChoiceField(
        label=_("Colleagues who keep access after the transfer"),
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, agencies=(), users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_agency"].choices = [(str(a.pk), a.name) for a in agencies]
        self.fields["keep_access"].choices = [(str(u.pk), u.username) for u in users]
