"""Web pages of the enforcement app (a view named "index" makes the area live in the menu)."""

from django.urls import path

from ctip.enforcement import views

app_name = "enforcement"
urlpatterns = [
    path("", views.index, name="index"),
    path("taskforce/", views.taskforce, name="taskforce"),
    path("taskforce/new/", views.member_add, name="member_add"),
    path("taskforce/<uuid:pk>/", views.member_edit, name="member_edit"),
    path("sop/new/", views.sop_edit, name="sop_create"),
    path("sop/<uuid:pk>/", views.sop_detail, name="sop"),
    path("sop/<uuid:pk>/edit/", views.sop_edit, name="sop_edit"),
    path("sop/<uuid:pk>/exchange/", views.sop_exchange, name="sop_exchange"),
    path("sop/<uuid:pk>/finalise/", views.sop_finalise, name="sop_finalise"),
    path("cases/", views.case_list, name="cases"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<uuid:pk>/", views.case_detail, name="case"),
    path("cases/<uuid:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<uuid:pk>/suspects/", views.suspect_add, name="suspect_add"),
    path("cases/<uuid:pk>/victims/", views.victim_add, name="victim_add"),
    path("cases/<uuid:pk>/operations/", views.operation_add, name="operation_add"),
    path("cases/<uuid:pk>/testimony/", views.testimony_add, name="testimony_add"),
    path("cases/<uuid:pk>/requests/", views.request_create, name="request_create"),
    path("requests/", views.request_list, name="requests"),
    path("requests/<uuid:pk>/", views.request_detail, name="request"),
    path("requests/<uuid:pk>/answer/", views.request_answer, name="request_answer"),
    path("meetings/", views.meeting_list, name="meetings"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<uuid:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<uuid:pk>/participants/", views.participant_add, name="participant_add"),
    path("meetings/<uuid:pk>/minutes/", views.meeting_minutes, name="minutes"),
    path("meetings/<uuid:pk>/actions/", views.action_add, name="action_add"),
    path("meetings/<uuid:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("actions/<uuid:pk>/done/", views.action_done, name="action_done"),
    path("indicators/", views.indicator_page, name="indicators"),
]
