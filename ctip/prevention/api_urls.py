"""REST API routes of the prevention app, mounted under /api/v1/ (no trailing slashes)."""

from django.urls import path

from ctip.prevention import api

urlpatterns = [
    path("prevention/verify", api.verify, name="prevention_verify"),
    path("prevention/certificates", api.certificate_issue, name="prevention_certificates"),
    path(
        "prevention/certificates/<uuid:pk>/revoke",
        api.certificate_revoke,
        name="prevention_certificate_revoke",
    ),
    path("prevention/indicators", api.indicator_values, name="prevention_indicators"),
]
