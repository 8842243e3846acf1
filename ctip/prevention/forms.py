"""Forms of the prevention pages: input parsing only; the rules are in services.py."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Agency
from ctip.prevention.models import (
    AudienceGroup,
    DisseminationEvent,
    DocType,
    ItemKind,
    PackageItem,
    RevocationReason,
    StepKind,
    ToolPackage,
)
from ctip.prevention.services import DISSEMINATION_FIELDS, ITEM_FIELDS, PACKAGE_FIELDS

DATE = forms.DateInput(attrs={"type": "date"})


class StrategyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)


class SectionForm(forms.Form):
    number = forms.IntegerField(label=_("Number"), min_value=1, max_value=999)
    heading = forms.CharField(label=_("Heading"), max_length=200)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}))


class StepForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Step"),
        choices=[
            (StepKind.REVIEWED, StepKind.REVIEWED.label),
            (StepKind.APPROVED, StepKind.APPROVED.label),
        ],
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class PackageForm(forms.ModelForm):
    class Meta:
        model = ToolPackage
        fields = PACKAGE_FIELDS


class ItemForm(forms.ModelForm):
    class Meta:
        model = PackageItem
        fields = ITEM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from ctip.directory.models import FocalPerson

        self.fields["kind"].choices = ItemKind.choices
        self.fields["authority"].queryset = Agency.objects.filter(country=settings.CTIP_NODE)
        self.fields["contact"].queryset = FocalPerson.objects.filter(
            published=True, country=settings.CTIP_NODE
        )
        self.fields["contact"].label_from_instance = lambda p: f"{p.name_en} · {p.agency.name}"


class DisseminationForm(forms.ModelForm):
    audiences = forms.MultipleChoiceField(
        label=_("Target groups"),
        choices=AudienceGroup.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = DisseminationEvent
        fields = DISSEMINATION_FIELDS
        widgets = {"date": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package"].queryset = ToolPackage.objects.filter(country=settings.CTIP_NODE)


class CertificateForm(forms.Form):
    doc_type = forms.ChoiceField(label=_("Document"), choices=DocType.choices)
    authority = forms.ModelChoiceField(label=_("Issuing authority"), queryset=Agency.objects.none())
    number = forms.CharField(label=_("Certificate number"), max_length=60)
    holder_name = forms.CharField(label=_("Holder's name"), max_length=200)
    partner_name = forms.CharField(
        label=_("Spouse's name (marriage certificate)"), max_length=200, required=False
    )
    issued_on = forms.DateField(label=_("Date of issue"), widget=DATE)
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DATE)

    def __init__(self, *args, authorities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["authority"].queryset = Agency.objects.filter(
            pk__in=[a.pk for a in authorities]
        )


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=RevocationReason.choices)


class VerifyForm(forms.Form):
    c = forms.CharField(label=_("Verification code"), max_length=600)
