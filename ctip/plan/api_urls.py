"""REST API routes of the plan app, mounted under /api/v1/."""

urlpatterns: list = []
