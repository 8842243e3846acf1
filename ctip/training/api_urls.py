"""REST API routes of the training app, mounted under /api/v1/."""

urlpatterns: list = []
