"""REST API routes of the plan app, mounted under /api/v1/."""

from django.urls import path

from ctip.plan import api

urlpatterns = [
    path("plan", api.plan, name="plan"),
    path("plan/activities", api.activities, name="plan_activities"),
    path("plan/activities/<str:number>/status", api.activity_status, name="plan_activity_status"),
]
