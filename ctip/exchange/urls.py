"""Web pages of the exchange app (a view named "index" makes the area live in the menu)."""

app_name = "exchange"
urlpatterns: list = []
