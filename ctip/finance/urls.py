"""Web pages of the finance app (a view named "index" makes the area live in the menu)."""

from django.urls import path

from ctip.finance import views

app_name = "finance"
urlpatterns = [
    path("", views.index, name="index"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/from/", views.meeting_from_source, name="meeting_from_source"),
    path("meetings/<uuid:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<uuid:pk>/delegations/", views.delegation_add, name="delegation_add"),
    path("meetings/<uuid:pk>/programme/", views.programme_add, name="programme_add"),
    path("meetings/<uuid:pk>/costs/", views.cost_item_add, name="cost_item_add"),
    path("meetings/<uuid:pk>/exceptions/", views.exception_add, name="exception_add"),
    path("meetings/<uuid:pk>/coverage/", views.coverage_add, name="coverage_add"),
    path(
        "meetings/<uuid:pk>/statement/<str:party>/",
        views.meeting_statement,
        name="meeting_statement",
    ),
    path(
        "meetings/<uuid:pk>/statement/<str:party>.<str:fmt>",
        views.meeting_statement_export,
        name="meeting_statement_export",
    ),
    path("meetings/<uuid:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<uuid:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("meetings/<uuid:pk>/delete/", views.meeting_delete, name="meeting_delete"),
    path("delegations/<uuid:pk>/members/", views.member_add, name="member_add"),
    path("delegations/<uuid:pk>/delete/", views.delegation_delete, name="delegation_delete"),
    path("members/<uuid:pk>/edit/", views.member_edit, name="member_edit"),
    path("members/<uuid:pk>/delete/", views.member_delete, name="member_delete"),
    path("costs/<uuid:pk>/edit/", views.cost_item_edit, name="cost_item_edit"),
    path("costs/<uuid:pk>/delete/", views.cost_item_delete, name="cost_item_delete"),
    path("statements/<int:year>/<str:party>/", views.year_statement, name="year_statement"),
    path(
        "statements/<int:year>/<str:party>.<str:fmt>",
        views.year_statement_export,
        name="year_statement_export",
    ),
    path("donors/", views.donor_list, name="donor_list"),
    path("donors/<uuid:pk>/", views.donor_detail, name="donor_detail"),
    path("donors/<uuid:pk>/commitments/", views.commitment_add, name="commitment_add"),
    path("budget/", views.budget_list, name="budget_list"),
    path("budget/<uuid:pk>/", views.budget_detail, name="budget_detail"),
    path("budget/<uuid:pk>/entries/", views.budget_entry_add, name="budget_entry_add"),
]
