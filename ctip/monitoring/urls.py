"""Web pages of the monitoring app (a view named "index" makes the area live in the menu)."""

app_name = "monitoring"
urlpatterns: list = []
