"""REST API routes of the training app, mounted under /api/v1/ (no trailing slashes)."""

from django.urls import path

from ctip.training import api

urlpatterns = [
    path("trainings", api.trainings, name="trainings"),
    path("trainings/<uuid:pk>", api.training_detail, name="training_detail"),
    path("trainings/<uuid:pk>/participants", api.participants, name="training_participants"),
    path("training/certificates", api.my_certificates, name="training_my_certificates"),
    path("training/indicators", api.indicator_values, name="training_indicators"),
]
