"""REST API routes of the matching app, mounted under /api/v1/."""

from django.urls import path

from ctip.matching import api

# No trailing slashes, like the rest of /api/v1/.
urlpatterns = [
    path("matching/candidates", api.candidates, name="matching_candidates"),
    path("matching/candidates/<uuid:pk>", api.candidate_detail, name="matching_candidate"),
    path(
        "matching/candidates/<uuid:pk>/decide",
        api.candidate_decide,
        name="matching_candidate_decide",
    ),
    path("matching/persons/<uuid:pk>/links", api.person_links, name="matching_person_links"),
    path(
        "matching/persons/<uuid:pk>/unmerge",
        api.person_unmerge,
        name="matching_person_unmerge",
    ),
    path("matching/persons/<uuid:pk>/queries", api.person_query, name="matching_person_query"),
    path("matching/queries", api.queries, name="matching_queries"),
    path("matching/identity-requests", api.identity_requests, name="matching_identity_requests"),
]
