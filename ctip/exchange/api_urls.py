"""REST API routes of the exchange app, mounted under /api/v1/."""

urlpatterns: list = []
