"""Forms of the matching pages. They parse input only; the rules (who may ask, consent,
rate limits) are in xborder.py."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class QueryForm(forms.Form):
    """Send a match query about the page's person to one of the peers we share a key with."""

    to = forms.ChoiceField(label=_("Country to ask"))

    def __init__(self, *args, peers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(p, p) for p in peers]


class IdentityForm(forms.Form):
    """Ask the node that issued ``handle`` who is behind it, for one of ``purposes``."""

    # A handle is 24 URL-safe characters; the service and the peer check the rest.
    handle = forms.CharField(max_length=40, widget=forms.HiddenInput)
    purpose = forms.ChoiceField(label=_("Purpose"))

    def __init__(self, *args, purposes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = list(purposes)
