"""Web pages of the directory app (a view named "index" makes the area live in the menu)."""

app_name = "directory"
urlpatterns: list = []
