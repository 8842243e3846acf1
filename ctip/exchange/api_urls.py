"""REST API routes of the exchange app, mounted under /api/v1/."""

from django.urls import path

from ctip.exchange import api

urlpatterns = [
    path("exchange/peers", api.peer_list, name="exchange_peers"),
    path("exchange/outbox", api.outbox_list, name="exchange_outbox"),
    path("exchange/inbox", api.inbox_list, name="exchange_inbox"),
]
