"""Web pages of the directory app (a view named "index" makes the area live in the menu)."""

from django.urls import path

from ctip.directory import views

app_name = "directory"
urlpatterns = [
    path("", views.index, name="index"),
    path("directory.csv", views.export_csv, name="export_csv"),
    path("directory.vcf", views.export_vcard, name="export_vcard"),
    path("focal/<uuid:pk>.vcf", views.focal_person_vcard, name="focal_person_vcard"),
    path("services/", views.service_list, name="service_list"),
    path("services/new/", views.service_create, name="service_create"),
    path("services/<uuid:pk>/", views.service_detail, name="service_detail"),
    path("services/<uuid:pk>/edit/", views.service_edit, name="service_edit"),
    path("services/<uuid:pk>/assess/", views.assessment_create, name="assessment_create"),
    path("focal-persons/", views.focal_person_list, name="focal_person_list"),
    path("focal-persons/new/", views.focal_person_create, name="focal_person_create"),
    path("focal-persons/<uuid:pk>/", views.focal_person_detail, name="focal_person_detail"),
    path("focal-persons/<uuid:pk>/edit/", views.focal_person_edit, name="focal_person_edit"),
    path("assessments/<uuid:pk>/", views.assessment_detail, name="assessment_detail"),
    path("assessments/<uuid:pk>/follow-ups/", views.follow_up_create, name="follow_up_create"),
    path("follow-ups/", views.follow_up_list, name="follow_up_list"),
    path("follow-ups/<uuid:pk>/close/", views.follow_up_close, name="follow_up_close"),
]
