from django.urls import path

from ctip.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.person_list, name="person_list"),
    path("new/", views.person_create, name="person_create"),
    path("<uuid:pk>/", views.person_detail, name="person_detail"),
]
