"""Web pages of the matching app (a view named "index" makes the area live in the menu)."""

app_name = "matching"
urlpatterns: list = []
