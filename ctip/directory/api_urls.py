"""REST API routes of the directory app, mounted under /api/v1/."""

from django.urls import path

from ctip.directory import api

urlpatterns = [
    path("directory/public", api.public_directory, name="directory_public"),
    path("directory/services", api.service_collection, name="directory_services"),
    path("directory/services/<uuid:pk>", api.service_item, name="directory_service"),
    path(
        "directory/services/<uuid:pk>/assessments",
        api.shelter_assessments,
        name="directory_assessments",
    ),
    path("directory/focal-persons", api.focal_person_collection, name="directory_focal_persons"),
    path("directory/focal-persons/<uuid:pk>", api.focal_person_item, name="directory_focal_person"),
    path(
        "directory/assessments/<uuid:pk>/follow-ups",
        api.follow_up_create,
        name="directory_follow_ups",
    ),
    path(
        "directory/follow-ups/<uuid:pk>/close",
        api.follow_up_close,
        name="directory_follow_up_close",
    ),
]
