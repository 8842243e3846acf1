"""Forms of the plan pages. They parse input only; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Country
from ctip.plan.models import Status
from ctip.plan.services import MAX_EVIDENCE_BYTES

DATE = forms.DateInput(attrs={"type": "date"})


class EvidenceMixin(forms.Form):
    evidence_url = forms.CharField(
        label=_("Evidence: link to a record in this system"), max_length=300, required=False
    )
    evidence_file = forms.FileField(
        label=_("or upload a document (PDF, DOCX, XLSX, ODT, ODS; at most 10 MB)"), required=False
    )

    def clean_evidence_file(self):
        upload = self.cleaned_data.get("evidence_file")
        if upload and upload.size > MAX_EVIDENCE_BYTES:
            raise forms.ValidationError(_("The document is larger than 10 MB."))
        return upload

    def evidence_bytes(self) -> bytes | None:
        upload = self.cleaned_data.get("evidence_file")
        return upload.read() if upload else None


class StatusForm(EvidenceMixin):
    country = forms.ChoiceField(label=_("Country"), choices=Country.choices)
    step = forms.TypedChoiceField(
        label=_("Activity or step"), coerce=int, required=False, empty_value=None
    )
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    as_of = forms.DateField(label=_("As of"), widget=DATE)
    note = forms.CharField(
        label=_("Progress"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )
    next_step = forms.CharField(label=_("Next step"), max_length=1000, required=False)
    next_step_due = forms.DateField(label=_("Next step due"), widget=DATE, required=False)

    def __init__(self, *args, steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].choices = [("", _("The whole activity"))] + [
            (s.position, f"{s.position + 1}. {s.text}") for s in steps
        ]


class IndicatorValueForm(EvidenceMixin):
    country = forms.ChoiceField(label=_("Country"), choices=Country.choices)
    as_of = forms.DateField(label=_("As of"), widget=DATE)
    value = forms.DecimalField(label=_("Value"), max_digits=14, decimal_places=2, min_value=0)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class EndorsementForm(forms.Form):
    party = forms.ChoiceField(label=_("Party"), choices=Country.choices)
    endorsed_by = forms.CharField(
        label=_("Endorsed by (office, e.g. Chair of the NCCT)"), max_length=200
    )
    endorsed_on = forms.DateField(label=_("Endorsed on"), widget=DATE)
    meeting = forms.CharField(label=_("At which meeting"), max_length=300)


class AmendmentMixin(forms.Form):
    reason = forms.CharField(label=_("Why (reason for the amendment)"), max_length=2000)
    meeting = forms.CharField(label=_("Meeting that decided it"), max_length=300, required=False)


class ResolveQuestionForm(AmendmentMixin):
    question = forms.ChoiceField(label=_("Open question"))
    resolution_en = forms.CharField(label=_("Resolution (English)"), max_length=2000)
    resolution_km = forms.CharField(label=_("Resolution (Khmer)"), max_length=2000, required=False)
    resolution_zh = forms.CharField(
        label=_("Resolution (Chinese)"), max_length=2000, required=False
    )

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["question"].choices = [(q.key, f"{q.key}: {q.text}") for q in questions]


class TimeframeForm(AmendmentMixin):
    activity = forms.ChoiceField(label=_("Activity"))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    note_en = forms.CharField(label=_("Note (English)"), max_length=500, required=False)
    remove = forms.BooleanField(label=_("Remove this year from the timeframe"), required=False)

    def __init__(self, *args, activities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activity"].choices = [(a.number, f"{a.number} {a.text}") for a in activities]


class AddActivityForm(AmendmentMixin):
    area = forms.ChoiceField(label=_("Area"))
    text_en = forms.CharField(label=_("Activity (English)"), max_length=1000)
    text_km = forms.CharField(label=_("Activity (Khmer)"), max_length=1000, required=False)
    text_zh = forms.CharField(label=_("Activity (Chinese)"), max_length=1000, required=False)
    result_en = forms.CharField(
        label=_("Expected result (English)"), max_length=1000, required=False
    )
    agencies = forms.MultipleChoiceField(label=_("Responsible agencies"), required=False)

    def __init__(self, *args, areas=(), agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [(a.code, f"{a.code}. {a.title}") for a in areas]
        self.fields["agencies"].choices = [(a.key, a.name) for a in agencies]


class CompareForm(forms.Form):
    a = forms.IntegerField(label=_("Version"), min_value=1)
    b = forms.IntegerField(label=_("with version"), min_value=1)


class ReportForm(forms.Form):
    period_start = forms.DateField(label=_("From"), widget=DATE)
    period_end = forms.DateField(label=_("To"), widget=DATE)
    language = forms.ChoiceField(
        label=_("Second language"), choices=[("km", _("Khmer")), ("zh-hans", _("Chinese"))]
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=DATE, required=False)
    end = forms.DateField(label=_("To"), widget=DATE, required=False)
