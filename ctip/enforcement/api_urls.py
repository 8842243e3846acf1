"""REST API routes of the enforcement app, mounted under /api/v1/ (no trailing slashes)."""

from django.urls import path

from ctip.enforcement import api

urlpatterns = [
    path("enforcement/taskforce", api.taskforce, name="enforcement_taskforce"),
    path("enforcement/cases", api.cases, name="enforcement_cases"),
    path("enforcement/cases/<uuid:pk>", api.case_detail, name="enforcement_case"),
    path("enforcement/cases/<uuid:pk>/suspects", api.suspects, name="enforcement_suspects"),
    path("enforcement/cases/<uuid:pk>/victims", api.victims, name="enforcement_victims"),
    path("enforcement/cases/<uuid:pk>/requests", api.request_send, name="enforcement_request_send"),
    path("enforcement/requests", api.requests, name="enforcement_requests"),
    path("enforcement/requests/<uuid:pk>", api.request_detail, name="enforcement_request"),
    path(
        "enforcement/requests/<uuid:pk>/answer",
        api.request_answer,
        name="enforcement_request_answer",
    ),
    path("enforcement/meetings", api.meetings, name="enforcement_meetings"),
    path("enforcement/meetings/<uuid:pk>", api.meeting_detail, name="enforcement_meeting"),
    path(
        "enforcement/meetings/<uuid:pk>/participants",
        api.meeting_participants,
        name="enforcement_meeting_participants",
    ),
    path(
        "enforcement/meetings/<uuid:pk>/minutes",
        api.meeting_minutes,
        name="enforcement_meeting_minutes",
    ),
    path(
        "enforcement/meetings/<uuid:pk>/action-items",
        api.meeting_action_items,
        name="enforcement_meeting_action_items",
    ),
    path("enforcement/indicators", api.indicator_values, name="enforcement_indicators"),
]
