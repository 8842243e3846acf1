"""Every URL of the product, plus ``/bench/hello``: the baseline each endpoint is compared to
(the same server, middleware and process; a view that does nothing)."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from ctip.accounts.permissions import public
from ctip.urls import urlpatterns as product_urlpatterns


@public
@require_GET
def hello(request):
    return HttpResponse(b"hello", content_type="text/plain")


urlpatterns = [path("bench/hello", hello, name="bench_hello"), *product_urlpatterns]
