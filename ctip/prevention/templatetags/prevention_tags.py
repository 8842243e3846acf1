"""``{% verify_path %}``: the public verification page (``/verify/`` once the project routes
it at the root, else the app's own ``/prevention/verify/``)."""

from django import template

register = template.Library()


@register.simple_tag
def verify_path() -> str:
    from ctip.prevention.views import verify_path as path

    return path()
