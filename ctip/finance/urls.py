"""Web pages of the finance app (a view named "index" makes the area live in the menu)."""

app_name = "finance"
urlpatterns: list = []
