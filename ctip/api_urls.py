"""REST API, version 1: each app contributes its routes in its own ``api_urls.py``."""

from django.urls import include, path

from ctip.accounts import api as accounts_api
from ctip.audit import api as audit_api

DOMAIN_APPS = [
    "cases",
    "plan",
    "prevention",
    "directory",
    "enforcement",
    "training",
    "monitoring",
    "finance",
    "exchange",
    "matching",
]

urlpatterns = [
    path("me", accounts_api.me, name="me"),
    path("agencies", accounts_api.agency_list, name="agency_list"),
    path("audit/events", audit_api.event_list, name="audit_events"),
    *[path("", include(f"ctip.{app}.api_urls")) for app in DOMAIN_APPS],
]
