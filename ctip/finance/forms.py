"""Forms of the finance pages. They parse what the browser sent; the services decide what
is valid (amounts, currencies, rates, Parties), so that the pages and the API give the same
errors. Amounts are text fields on purpose: the core parses them as exact decimals."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from ctip.accounts.models import Country, User
from ctip.finance.messages import MESSAGES
from ctip.finance.models import (
    Category,
    Currency,
    DonorKind,
    EntryKind,
    MeetingKind,
    MeetingSource,
    MemberRole,
    SupportType,
    plan_activity_validator,
)

DATE = forms.DateInput(attrs={"type": "date"})
AMOUNT = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
CURRENCY_ERRORS = {"invalid_choice": MESSAGES["unknown_currency"]}
PARTY_ERRORS = {"invalid_choice": MESSAGES["unknown_party"]}
FOR_CHOICES = [("", _("The meeting as a whole")), *Country.choices]


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's field errors on the form (unknown fields become form-wide errors)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = field if field in form.fields else None
        if field == NON_FIELD_ERRORS:
            target = None
        for e in errors:
            form.add_error(target, e)


def item_choices(items) -> list[tuple[str, str]]:
    return [
        (str(i.pk), f"{i.get_category_display()} · {i.description} · {i.money()}") for i in items
    ]


def amount_field(label=None, required=True) -> forms.CharField:
    return forms.CharField(
        label=label or _("Amount"), max_length=40, required=required, widget=AMOUNT
    )


def currency_field(label=None) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label or _("Currency"), choices=Currency.choices, error_messages=CURRENCY_ERRORS
    )


class RateFields(forms.Form):
    rate = forms.CharField(
        label=_("Exchange rate"),
        required=False,
        max_length=40,
        widget=AMOUNT,
        help_text=_("Needed when the amount is in another currency: 1 unit of the first = rate."),
    )
    rate_base = forms.ChoiceField(
        label=_("Rate: one unit of"),
        choices=[("", "—"), *Currency.choices],
        required=False,
        error_messages=CURRENCY_ERRORS,
    )
    rate_date = forms.DateField(label=_("Rate date"), required=False, widget=DATE)


def clean_activity(value: str) -> str:
    value = (value or "").strip().upper()
    if value:
        plan_activity_validator(value)
    return value


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("Title (English)"), max_length=200)
    title_km = forms.CharField(label=_("Title (Khmer)"), max_length=200, required=False)
    title_zh_hans = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=MeetingKind.choices)
    plan_activity = forms.CharField(
        label=_("Plan activity"),
        max_length=8,
        required=False,
        help_text=_("By its number, e.g. VI.1"),
    )
    host_country = forms.ChoiceField(
        label=_("Host Party"), choices=Country.choices, error_messages=PARTY_ERRORS
    )
    place = forms.CharField(label=_("Place"), max_length=200)
    starts_on = forms.DateField(label=_("First day"), widget=DATE)
    ends_on = forms.DateField(label=_("Last day"), widget=DATE)
    reporting_currency = currency_field(_("Reporting currency"))

    def clean_plan_activity(self):
        return clean_activity(self.cleaned_data["plan_activity"])


class DelegationForm(forms.Form):
    country = forms.ChoiceField(
        label=_("Party"), choices=Country.choices, error_messages=PARTY_ERRORS
    )


class MemberForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    user = forms.ModelChoiceField(
        label=_("or a user of this node"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
    )
    position = forms.CharField(label=_("Position"), max_length=200, required=False)
    organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=MemberRole.choices, initial="member")
    contact = forms.CharField(label=_("Contact details"), max_length=300, required=False)


class ProgrammeForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=DATE)
    starts_at = forms.TimeField(
        label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    title = forms.CharField(label=_("Session"), max_length=300)


class CostItemForm(RateFields):
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    amount = amount_field()
    currency = currency_field()
    incurred_by = forms.ChoiceField(
        label=_("Incurred by (paid the bill)"), choices=Country.choices, error_messages=PARTY_ERRORS
    )
    for_party = forms.ChoiceField(
        label=_("For"), choices=FOR_CHOICES, required=False, error_messages=PARTY_ERRORS
    )
    incurred_on = forms.DateField(label=_("Date"), required=False, widget=DATE)

    field_order = [
        "category",
        "description",
        "amount",
        "currency",
        "incurred_by",
        "for_party",
        "incurred_on",
        "rate_base",
        "rate",
        "rate_date",
    ]


class ExceptionForm(forms.Form):
    cost_item = forms.ChoiceField(label=_("Cost item"), required=False)
    category = forms.ChoiceField(
        label=_("or every cost of the category"),
        choices=[("", "—"), *Category.choices],
        required=False,
    )
    for_party = forms.ChoiceField(
        label=_("for the delegation of"),
        choices=[("", "—"), *Country.choices],
        required=False,
        error_messages=PARTY_ERRORS,
    )
    share_kh = amount_field(_("Share of Cambodia (%)"))
    share_cn = amount_field(_("Share of China (%)"))
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    agreed_by = forms.CharField(label=_("Agreed by"), max_length=300)
    agreed_on = forms.DateField(label=_("Agreed on"), widget=DATE)
    document = forms.CharField(label=_("Written record"), max_length=200, required=False)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cost_item"].choices = [("", "—"), *item_choices(items)]


class CoverageForm(RateFields):
    cost_item = forms.ChoiceField(label=_("Cost item"))
    commitment = forms.ChoiceField(label=_("Donor commitment"))
    amount = amount_field(_("Amount covered (in the item's currency)"))

    field_order = ["cost_item", "commitment", "amount", "rate_base", "rate", "rate_date"]

    def __init__(self, *args, items=(), commitments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cost_item"].choices = item_choices(items)
        self.fields["commitment"].choices = [
            (str(c.pk), f"{c.donor.name} · {c.amount} {c.currency}") for c in commitments
        ]


class DonorForm(forms.Form):
    code = forms.SlugField(label=_("Short code"), max_length=40)
    name = forms.CharField(label=_("Name (English)"), max_length=200)
    name_km = forms.CharField(label=_("Name (Khmer)"), max_length=200, required=False)
    name_zh_hans = forms.CharField(label=_("Name (Chinese)"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=DonorKind.choices)


class CommitmentForm(forms.Form):
    meeting = forms.ChoiceField(label=_("To the meeting"), required=False)
    plan_activity = forms.CharField(
        label=_("or to the plan activity"),
        max_length=8,
        required=False,
    )
    amount = amount_field()
    currency = currency_field()
    committed_on = forms.DateField(label=_("Committed on"), widget=DATE)
    reference = forms.CharField(label=_("Agreement reference"), max_length=200, required=False)

    def clean_plan_activity(self):
        return clean_activity(self.cleaned_data["plan_activity"])

    def __init__(self, *args, meetings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].choices = [("", "—")] + [(str(m.pk), str(m)) for m in meetings]


class AllocationForm(forms.Form):
    country = forms.ChoiceField(
        label=_("Country"), choices=Country.choices, error_messages=PARTY_ERRORS
    )
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    amount = amount_field(_("Amount allocated"))
    currency = currency_field()
    alert_below = forms.DecimalField(
        label=_("Alert when less than this share remains"),
        max_digits=4,
        decimal_places=3,
        initial="0.100",
        help_text=_("0.100 means 10 %."),
    )
    reference = forms.CharField(label=_("Budget reference"), max_length=200, required=False)


class EntryForm(RateFields):
    kind = forms.ChoiceField(label=_("Kind"), choices=EntryKind.choices)
    case_reference = forms.CharField(label=_("Case reference"), max_length=40)
    support = forms.ChoiceField(
        label=_("Support"), choices=[("", "—"), *SupportType.choices], required=False
    )
    amount = amount_field()
    currency = currency_field()
    entry_date = forms.DateField(label=_("Date"), widget=DATE)
    against = forms.ChoiceField(label=_("Paid against commitment"), required=False)
    referral_reference = forms.CharField(
        label=_("Referral reference"), max_length=40, required=False
    )
    referral_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    service_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    field_order = [
        "kind",
        "case_reference",
        "support",
        "amount",
        "currency",
        "entry_date",
        "against",
        "referral_reference",
        "rate_base",
        "rate",
        "rate_date",
    ]

    def __init__(self, *args, commitments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["against"].choices = [("", "—")] + [
            (str(c.pk), f"{c.case_reference} · {c.amount} {c.currency} · {c.entry_date}")
            for c in commitments
        ]


class ConfirmForm(forms.Form):
    """A deletion is asked for twice: the button posts this box ticked."""

    confirm = forms.BooleanField(label=_("Yes, delete it"), required=True)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=300)


def member_initial(member) -> dict:
    return {
        "name": member.name,
        "user": member.user_id,
        "position": member.position,
        "organisation": member.organisation,
        "role": member.role,
        "contact": member.contact or "",
    }


def cost_initial(item) -> dict:
    return {
        "category": item.category,
        "description": item.description,
        "amount": f"{item.money().amount:f}",
        "currency": item.currency,
        "incurred_by": item.incurred_by,
        "for_party": item.for_party,
        "incurred_on": item.incurred_on,
        "rate_base": item.rate_base,
        "rate": f"{item.rate.normalize():f}" if item.rate is not None else "",
        "rate_date": item.rate_date,
    }


def meeting_initial(meeting) -> dict:
    return {f: getattr(meeting, f) for f in MeetingForm.base_fields}


class SourceForm(forms.Form):
    source_type = forms.ChoiceField(choices=MeetingSource.choices, widget=forms.HiddenInput)
    source_id = forms.CharField(max_length=64, widget=forms.HiddenInput)
    reporting_currency = currency_field(_("Reporting currency"))
