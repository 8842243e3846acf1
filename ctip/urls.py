from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView

from ctip.accounts.permissions import public
from ctip.core import views as core_views
from ctip.prevention.urls import verify_urlpatterns

urlpatterns = [
    path("", include("ctip.core.urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("ctip.accounts.urls")),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("persons/", include("ctip.cases.urls")),
    path("audit/", include("ctip.audit.urls")),
    path("plan/", include("ctip.plan.urls")),
    path("prevention/", include("ctip.prevention.urls")),
    path("directory/", include("ctip.directory.urls")),
    path("enforcement/", include("ctip.enforcement.urls")),
    path("training/", include("ctip.training.urls")),
    path("monitoring/", include("ctip.monitoring.urls")),
    path("finance/", include("ctip.finance.urls")),
    path("exchange/", include("ctip.exchange.urls")),
    path("matching/", include("ctip.matching.urls")),
    path("api/v1/", include(("ctip.api_urls", "api"))),
    path("api/schema/", public(SpectacularAPIView.as_view()), name="schema"),
    *verify_urlpatterns,  # /verify/: the public check of a certificate's code (prevention)
]

handler404 = "ctip.core.api.not_found"
