from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Country
from ctip.monitoring.models import NoteKind


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError(_("The end of the period is before its start."))
        if start and end and (end - start).days > 3 * 366:
            raise forms.ValidationError(_("Choose a period of at most three years."))
        return data


class StatisticsForm(forms.Form):
    month = forms.CharField(
        label=_("Month (YYYY-MM)"), max_length=7, widget=forms.TextInput(attrs={"type": "month"})
    )
    border_crossings = forms.IntegerField(
        label=_("Border crossings reported"), min_value=0, required=False
    )
    deportations = forms.IntegerField(label=_("Deportations"), min_value=0, required=False)
    returns = forms.IntegerField(label=_("Returns"), min_value=0, required=False)
    from_records = forms.BooleanField(
        label=_("Take identified victims and returns from this node's records"),
        required=False,
        initial=True,
    )

    def clean_month(self):
        value = self.cleaned_data["month"].strip()
        try:
            year, month = (int(x) for x in value.split("-"))
            return dt.date(year, month, 1)
        except (ValueError, TypeError):
            raise forms.ValidationError(_("Give the month as YYYY-MM.")) from None


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file (UTF-8)"))
    dry_run = forms.BooleanField(label=_("Check only, import nothing"), required=False)


class NoteForm(forms.Form):
    country = forms.ChoiceField(label=_("Side"), choices=Country.choices)
    kind = forms.ChoiceField(label=_("Kind"), choices=NoteKind.choices)
    text_en = forms.CharField(
        label=_("In English"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    text_second = forms.CharField(
        label=_("In Khmer or Chinese"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
