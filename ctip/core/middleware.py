"""Responses for signed-in users may show personal data: no browser or proxy may keep them."""

from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/api/"):
            add_never_cache_headers(
                response
            )  # Cache-Control: no-cache, no-store, must-revalidate, private
        return response
