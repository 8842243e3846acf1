from django import forms
from django.utils.translation import gettext_lazy as _

from ctip.cases.models import Sex


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
    document_number = forms.CharField(label=_("Document number"), required=False, max_length=60)
    contact = forms.CharField(label=_("Contact"), required=False, max_length=200)
    place_of_origin = forms.CharField(label=_("Place of origin"), required=False, max_length=200)
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
        return data
