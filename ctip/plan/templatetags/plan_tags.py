"""Small template helpers for the plan pages."""

from django import template

from ctip.plan.models import Status

register = template.Library()


@register.filter
def status_value(update) -> str:
    return update.status if update else Status.NOT_STARTED.value


@register.filter
def status_label(update) -> str:
    return str(Status(status_value(update)).label)


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
