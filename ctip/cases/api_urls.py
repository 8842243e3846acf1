from django.urls import path

from ctip.cases import api

urlpatterns = [
    path("persons", api.persons, name="persons"),
    path("persons/<uuid:pk>", api.person_detail, name="person_detail"),
]
