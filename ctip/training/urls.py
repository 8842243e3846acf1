"""Web pages of the training app (a view named "index" makes the area live in the menu)."""

app_name = "training"
urlpatterns: list = []
