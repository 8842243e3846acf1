"""REST API routes of the finance app, mounted under /api/v1/."""

urlpatterns: list = []
