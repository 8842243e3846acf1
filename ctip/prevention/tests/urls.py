"""The project's URLs with /verify/ at the root (as ctip/urls.py includes it)."""

from ctip.prevention.urls import verify_urlpatterns
from ctip.urls import urlpatterns as project

urlpatterns = [*project, *verify_urlpatterns]
