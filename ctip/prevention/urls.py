"""Web pages of the prevention app (a view named "index" makes the area live in the menu).

``verify_urlpatterns`` is the public verification page at the root (``/verify/``), included
by the project's urls.py."""

from django.urls import path

from ctip.prevention import views

app_name = "prevention"
urlpatterns = [
    path("", views.index, name="index"),
    path("strategy/new/", views.strategy_create, name="strategy_create"),
    path("strategy/documents/<uuid:pk>/new-version/", views.version_new, name="version_new"),
    path("strategy/<uuid:pk>/", views.version_detail, name="version"),
    path("strategy/<uuid:pk>/sections/", views.section_save, name="section_save"),
    path("strategy/<uuid:pk>/submit/", views.version_submit, name="version_submit"),
    path("strategy/<uuid:pk>/step/", views.version_step, name="version_step"),
    path("strategy/<uuid:pk>/plan/", views.plan_report, name="plan_report"),
    path("strategy/sections/<uuid:pk>/comments/", views.comment_add, name="comment_add"),
    path("packages/", views.package_list_public, name="packages"),
    path("packages/manage/", views.package_manage, name="package_manage"),
    path("packages/new/", views.package_create, name="package_create"),
    path("packages/<uuid:pk>/", views.package_public, name="package"),
    path("packages/<uuid:pk>/leaflet/", views.package_leaflet, name="leaflet"),
    path("packages/<uuid:pk>/edit/", views.package_edit, name="package_edit"),
    path("packages/<uuid:pk>/items/", views.item_add, name="item_add"),
    path("packages/<uuid:pk>/publish/", views.package_publish, name="package_publish"),
    path("packages/items/<uuid:pk>/", views.item_edit, name="item_edit"),
    path("dissemination/", views.dissemination_list, name="dissemination"),
    path("dissemination/new/", views.dissemination_create, name="dissemination_create"),
    path("certificates/", views.certificate_list, name="certificates"),
    path("certificates/new/", views.certificate_create, name="certificate_create"),
    path("certificates/<uuid:pk>/", views.certificate_print, name="certificate"),
    path("certificates/<uuid:pk>/revoke/", views.certificate_revoke, name="certificate_revoke"),
    # The same public page as /verify/, reachable before the root route exists.
    path("verify/", views.verify, name="verify"),
]

verify_urlpatterns = [path("verify/", views.verify, name="verify")]
