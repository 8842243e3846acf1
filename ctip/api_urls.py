"""REST API, version 1."""

from django.urls import path

from ctip.accounts import api as accounts_api
from ctip.audit import api as audit_api
from ctip.cases import api as cases_api

urlpatterns = [
    path("me", accounts_api.me, name="me"),
    path("agencies", accounts_api.agency_list, name="agency_list"),
    path("persons", cases_api.persons, name="persons"),
    path("persons/<uuid:pk>", cases_api.person_detail, name="person_detail"),
    path("audit/events", audit_api.event_list, name="audit_events"),
]
