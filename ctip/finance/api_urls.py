"""REST API routes of the finance app, mounted under /api/v1/."""

from django.urls import path

from ctip.finance import api

urlpatterns = [
    path("finance/meetings", api.meetings, name="finance_meetings"),
    path("finance/meetings/<uuid:pk>", api.meeting_detail, name="finance_meeting_detail"),
    path("finance/meeting-sources", api.meeting_sources, name="finance_meeting_sources"),
    path(
        "finance/meetings/from-source",
        api.meeting_from_source,
        name="finance_meeting_from_source",
    ),
    path("finance/meetings/<uuid:pk>/cancel", api.meeting_cancel, name="finance_meeting_cancel"),
    path("finance/meetings/<uuid:pk>/delegations", api.delegations, name="finance_delegations"),
    path("finance/delegations/<uuid:pk>", api.delegation_detail, name="finance_delegation_detail"),
    path("finance/delegations/<uuid:pk>/members", api.members, name="finance_members"),
    path("finance/members/<uuid:pk>", api.member_detail, name="finance_member_detail"),
    path("finance/cost-items/<uuid:pk>", api.cost_item_detail, name="finance_cost_item_detail"),
    path("finance/meetings/<uuid:pk>/cost-items", api.cost_items, name="finance_cost_items"),
    path("finance/meetings/<uuid:pk>/exceptions", api.exceptions, name="finance_exceptions"),
    path("finance/meetings/<uuid:pk>/coverage", api.coverage, name="finance_coverage"),
    path("finance/meetings/<uuid:pk>/statement", api.statement, name="finance_statement"),
    path("finance/donors", api.donors, name="finance_donors"),
    path("finance/donors/<uuid:pk>/commitments", api.commitments, name="finance_commitments"),
    path("finance/budgets", api.budgets, name="finance_budgets"),
    path("finance/budgets/<uuid:pk>", api.budget_detail, name="finance_budget_detail"),
    path("finance/budgets/<uuid:pk>/entries", api.budget_entries, name="finance_budget_entries"),
]
