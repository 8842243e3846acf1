"""Web pages of the training app (a view named "index" makes the area live in the menu)."""

from django.urls import path

from ctip.training import views

app_name = "training"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.training_create, name="create"),
    path("<uuid:pk>/", views.training_detail, name="detail"),
    path("<uuid:pk>/edit/", views.training_edit, name="edit"),
    path("<uuid:pk>/status/", views.training_status, name="status"),
    path("<uuid:pk>/sessions/", views.session_add, name="session_add"),
    path("<uuid:pk>/materials/", views.material_add, name="material_add"),
    path("<uuid:pk>/participants/new/", views.participant_add, name="participant_add"),
    path("<uuid:pk>/participants/import/", views.participant_import, name="import"),
    path("<uuid:pk>/certificates/", views.certificates_issue_all, name="issue_all"),
    path("sessions/<uuid:pk>/attendance/", views.session_attendance, name="attendance"),
    path("participants/<uuid:pk>/", views.participant_detail, name="participant_detail"),
    path("participants/<uuid:pk>/scores/", views.participant_scores, name="scores"),
    path("participants/<uuid:pk>/certificate/", views.certificate_issue, name="issue"),
    path("certificates/", views.my_certificates, name="my_certificates"),
    path("certificates/<uuid:pk>/", views.certificate_print, name="certificate"),
    path("certificates/<uuid:pk>/revoke/", views.certificate_revoke, name="revoke"),
    path("verify/", views.verify, name="verify"),
    path("manual/", views.manual_list, name="manual_list"),
    path("manual/new/", views.manual_create, name="manual_create"),
    path("manual/<uuid:pk>/", views.manual_detail, name="manual_detail"),
    path("manual/<uuid:pk>/edit/", views.manual_edit, name="manual_edit"),
    path("manual/<uuid:pk>/chapters/new/", views.chapter_add, name="chapter_add"),
    path("manual/<uuid:pk>/review/", views.manual_review, name="manual_review"),
    path("manual/<uuid:pk>/publish/", views.manual_publish, name="manual_publish"),
    path("manual/<uuid:pk>/new-version/", views.manual_new_version, name="manual_new_version"),
    path("manual/chapters/<uuid:pk>/", views.chapter_edit, name="chapter_edit"),
    path("indicators/", views.indicator_page, name="indicators"),
]
