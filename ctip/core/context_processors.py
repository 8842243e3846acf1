from django.conf import settings

from ctip.accounts import permissions
from ctip.core.areas import built_areas


def node(request):
    user = getattr(request, "user", None)
    return {
        # Each language named in itself, so that anyone can find their own.
        "ctip_languages": [("en", "English"), ("km", "ខ្មែរ"), ("zh-hans", "简体中文")],
        "ctip_node": settings.CTIP_NODE,
        "ctip_version": settings.CTIP_VERSION,
        "ctip_areas": built_areas(),
        "can_view_audit": bool(user) and permissions.can(user, "audit", permissions.VIEW),
        "can_view_users": bool(user) and permissions.can(user, "user", permissions.VIEW),
    }
