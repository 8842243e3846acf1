from django.urls import path

from ctip.cases import views

# Mounted under /persons/ (ctip/urls.py): persons, then screenings and cases of this area.
app_name = "cases"
urlpatterns = [
    path("", views.person_list, name="person_list"),
    path("new/", views.person_create, name="person_create"),
    path("<uuid:pk>/", views.person_detail, name="person_detail"),
    path("<uuid:person_pk>/screen/", views.screening_start, name="screening_start"),
    path("screenings/", views.screening_list, name="screening_list"),
    path("screenings/paper/", views.paper_form, name="paper_form"),
    path("screenings/import/", views.screening_import, name="screening_import"),
    path("screenings/<uuid:pk>/", views.screening_detail, name="screening_detail"),
    path("screenings/<uuid:pk>/draft/", views.screening_draft, name="screening_draft"),
    path("screenings/<uuid:pk>/submit/", views.screening_submit, name="screening_submit"),
    path("screenings/<uuid:screening_pk>/open-case/", views.case_open, name="case_open"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/overdue/", views.overdue_list, name="overdue_list"),
    path("cases/<uuid:pk>/", views.case_detail, name="case_detail"),
    path("cases/<uuid:pk>/advance/", views.case_advance, name="case_advance"),
    path("cases/<uuid:pk>/notes/", views.case_note, name="case_note"),
    path("cases/<uuid:pk>/documents/", views.case_document, name="case_document"),
    path(
        "cases/<uuid:pk>/documents/<uuid:document_pk>/",
        views.case_document_download,
        name="case_document_download",
    ),
    path("cases/<uuid:pk>/consents/", views.case_consent, name="case_consent"),
    path(
        "cases/<uuid:pk>/consents/<uuid:consent_pk>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("cases/<uuid:pk>/referrals/", views.case_referral, name="case_referral"),
    path("cases/<uuid:pk>/services/", views.case_service, name="case_service"),
    path("cases/<uuid:pk>/closure/", views.case_closure, name="case_closure"),
    path("cases/<uuid:pk>/override/", views.case_override, name="case_override"),
    path("cases/<uuid:pk>/assign/", views.case_assign, name="case_assign"),
    path("cases/<uuid:pk>/seal/", views.case_seal, name="case_seal"),
    path("cases/<uuid:pk>/transfer/", views.case_transfer, name="case_transfer"),
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/<uuid:pk>/decide/", views.transfer_decide, name="transfer_decide"),
    path("transfers/<uuid:pk>/cancel/", views.transfer_cancel, name="transfer_cancel"),
    path("reminders/", views.reminders, name="reminders"),
    path("referrals/", views.referrals_received, name="referrals_received"),
    path("referrals/<uuid:referral_pk>/status/", views.referral_status, name="referral_status"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<uuid:pk>/decide/", views.approval_decide, name="approval_decide"),
    path("approvals/<uuid:pk>/review/", views.approval_review, name="approval_review"),
    path("break-glass/", views.break_glass, name="break_glass"),
]
