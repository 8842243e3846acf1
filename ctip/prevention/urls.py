"""Web pages of the prevention app (a view named "index" makes the area live in the menu)."""

app_name = "prevention"
urlpatterns: list = []
