"""Web pages of the enforcement app (a view named "index" makes the area live in the menu)."""

app_name = "enforcement"
urlpatterns: list = []
