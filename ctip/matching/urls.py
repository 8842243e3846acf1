"""Web pages of the matching app (a view named "index" makes the area live in the menu)."""

from django.urls import path

from ctip.matching import views

app_name = "matching"
urlpatterns = [
    path("", views.index, name="index"),
    path("candidates/<uuid:pk>/", views.candidate_detail, name="candidate"),
    path("candidates/<uuid:pk>/decide/", views.candidate_decide, name="decide"),
    path("persons/<uuid:pk>/", views.person_history, name="person"),
    path("persons/<uuid:pk>/unmerge/", views.person_unmerge, name="unmerge"),
    path("persons/<uuid:pk>/query/", views.person_query, name="query"),
    path("persons/<uuid:pk>/identity/", views.person_identity, name="identity"),
]
