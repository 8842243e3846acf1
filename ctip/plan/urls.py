"""Web pages of the plan app (a view named "index" makes the area live in the menu)."""

from django.urls import path

from ctip.plan import views

app_name = "plan"
urlpatterns = [
    path("", views.index, name="index"),
    path("activities/<str:number>/", views.activity_detail, name="activity"),
    path("activities/<str:number>/status/", views.status_add, name="status_add"),
    path("timeline/", views.timeline_view, name="timeline"),
    path("questions/", views.questions, name="questions"),
    path("indicators/", views.indicator_list, name="indicators"),
    path("indicators/<str:code>/value/", views.indicator_value_add, name="indicator_value_add"),
    path("versions/", views.version_list, name="versions"),
    path("versions/compare/", views.version_compare, name="compare"),
    path("versions/amend/", views.version_amend, name="amend"),
    path("versions/<int:number>/", views.version_detail, name="version"),
    path("versions/<int:number>/endorse/", views.version_endorse, name="endorse"),
    path("reports/", views.report_list, name="reports"),
    path("reports/new/", views.report_create, name="report_create"),
    path("reports/<uuid:pk>/", views.report_detail, name="report"),
    path("reports/<uuid:pk>/send/", views.report_send, name="report_send"),
    path("reports/<uuid:pk>/report.docx", views.report_docx, name="report_docx"),
    path("evidence/<uuid:pk>/", views.evidence_download, name="evidence"),
]
