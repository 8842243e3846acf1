"""REST API routes of the directory app, mounted under /api/v1/."""

urlpatterns: list = []
