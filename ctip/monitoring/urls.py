"""Web pages of the monitoring app (a view named "index" makes the area live in the menu)."""

from django.urls import path

from ctip.monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("", views.index, name="index"),
    path("panels/<str:code>/<str:by>.csv", views.panel_csv, name="panel_csv"),
    path("statistics/", views.statistics, name="statistics"),
    path("statistics/record/", views.statistics_record, name="statistics_record"),
    path("statistics/import/", views.statistics_import_view, name="statistics_import"),
    path("statistics/<uuid:pk>/send/", views.statistics_send, name="statistics_send"),
    path("reports/", views.reports, name="reports"),
    path("review/", views.review, name="review"),
    path("review/notes/", views.note_add, name="note_add"),
    path("review/pack/", views.review_pack, name="review_pack"),
    path("review/pack.docx", views.review_docx, name="review_docx"),
    path("export/htcds.csv", views.htcds_export, name="htcds"),
]
