from django.urls import path

from ctip.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("area/<slug:slug>/", views.area, name="area"),
]
