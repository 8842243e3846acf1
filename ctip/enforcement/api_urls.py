"""REST API routes of the enforcement app, mounted under /api/v1/."""

urlpatterns: list = []
