"""Web pages of the plan app (a view named "index" makes the area live in the menu)."""

app_name = "plan"
urlpatterns: list = []
