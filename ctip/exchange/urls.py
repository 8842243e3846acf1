"""Web pages of the exchange app, and the two endpoints the peer node calls."""

from django.urls import path

from ctip.exchange import views

app_name = "exchange"
urlpatterns = [
    path("", views.index, name="index"),
    path("keys", views.keys, name="keys"),
    path("inbox", views.inbox, name="inbox"),
    path("outbox/", views.outbox, name="outbox"),
    path("received/", views.inbox_page, name="inbox_page"),
    path("refused/", views.refusal_list, name="refusals"),
    path("peers/<str:node_id>/retry", views.peer_retry, name="peer_retry"),
    path("peers/<str:node_id>/ping", views.peer_ping, name="peer_ping"),
]
