from django.urls import path

from ctip.cases import api

# No trailing slashes, like the rest of /api/v1/.
urlpatterns = [
    path("persons", api.persons, name="persons"),
    path("persons/search", api.persons_search, name="persons_search"),
    path("persons/<uuid:pk>", api.person_detail, name="person_detail"),
    path("screenings", api.screenings, name="screenings"),
    path("screenings/form", api.screening_form, name="screening_form"),
    path("screenings/<uuid:pk>", api.screening_detail, name="screening_detail"),
    path("screenings/<uuid:pk>/submit", api.screening_submit, name="screening_submit"),
    path("cases", api.cases, name="cases"),
    path("cases/search", api.cases_search, name="cases_search"),
    path("cases/<uuid:pk>", api.case_detail, name="case_detail"),
    path("cases/<uuid:pk>/advance", api.case_advance, name="case_advance"),
    path("cases/<uuid:pk>/timeline", api.case_timeline, name="case_timeline"),
    path("cases/<uuid:pk>/consents", api.case_consents, name="case_consents"),
    path(
        "cases/<uuid:pk>/consents/<uuid:consent_pk>/withdraw",
        api.case_consent_withdraw,
        name="case_consent_withdraw",
    ),
    path("cases/<uuid:pk>/referrals", api.case_referrals, name="case_referrals"),
    path("cases/<uuid:pk>/transfer", api.case_transfer, name="case_transfer"),
    path("cases/<uuid:pk>/repatriation", api.case_repatriation, name="case_repatriation"),
    path(
        "cases/<uuid:pk>/repatriation/<slug:step>",
        api.case_repatriation_step,
        name="case_repatriation_step",
    ),
    path("repatriations", api.repatriations, name="repatriations"),
    path("transfers", api.transfers, name="transfers"),
    path("transfers/<uuid:pk>/decide", api.transfer_decide, name="transfer_decide"),
]
