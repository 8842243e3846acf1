"""REST API routes of the plan app, mounted under /api/v1/."""

from django.urls import path

from ctip.plan import api

urlpatterns = [
    path("plan", api.plan, name="plan"),
    path("plan/activities", api.activities, name="plan_activities"),
    path("plan/activities/<str:number>/status", api.activity_status, name="plan_activity_status"),
    path("plan/versions/<int:number>", api.version, name="plan_version"),
    path(
        "plan/versions/<int:number>/endorsements",
        api.version_endorse,
        name="plan_version_endorse",
    ),
    path("plan/reports", api.reports, name="plan_reports"),
    path("plan/reports/<uuid:pk>/send", api.report_send, name="plan_report_send"),
]
