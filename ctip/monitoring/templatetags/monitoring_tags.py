from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def shown(value):
    """A figure, "withheld" for a cell the sender suppressed, "—" for not reported."""
    if value is None:
        return "—"
    return value


@register.filter
def victims_rows(table):
    from ctip.monitoring.selectors import victims_display

    return victims_display(table or {})


@register.simple_tag
def withheld_label():
    return _("withheld")
