"""REST API routes of the monitoring app, mounted under /api/v1/ (no trailing slashes)."""

from django.urls import path

from ctip.monitoring import api

urlpatterns = [
    path("monitoring/indicators", api.indicator_list, name="monitoring_indicators"),
    path("monitoring/indicators/<str:code>", api.indicator_table, name="monitoring_indicator"),
    path("monitoring/statistics", api.statistics_list, name="monitoring_statistics"),
]
