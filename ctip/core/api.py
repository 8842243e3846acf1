"""One error shape for the whole API: {"error": {"code": ..., "message": ..., "fields": {...}}}."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions, serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    fields = {}
    message = ""
    if isinstance(exc, exceptions.ValidationError) and isinstance(response.data, dict):
        submitted = _submitted(context.get("request"))
        fields = {
            k: [_scrub(str(m), submitted) for m in (v if isinstance(v, list) else [v])]
            for k, v in response.data.items()
        }
        message = "The request has invalid fields."
    else:
        detail = (
            response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        )
        message = str(detail)
    response.data = {"error": {"code": str(code), "message": message, "fields": fields}}
    return response


def _submitted(request) -> set[str]:
    """Every value the client sent (body and query string)."""
    values: set[str] = set()

    def walk(item):
        if isinstance(item, dict):
            for value in item.values():  # values only: field names are not personal data
                walk(value)
        elif isinstance(item, list | tuple):
            for value in item:
                walk(value)
        elif item is not None and len(str(item).strip()) >= 2:
            values.add(str(item).strip())

    if request is not None:
        for source in (getattr(request, "data", None), getattr(request, "query_params", None)):
            if hasattr(source, "lists"):
                source = dict(source.lists())
            walk(source)
    return values


def _scrub(message: str, submitted: set[str]) -> str:
    """A field error that repeats what was sent (DRF's '"X" is not a valid choice.') would
    carry personal data into clients' logs and error reports (DP-6): say it without it."""
    for value in submitted:
        if any(f"{a}{value}{b}" in message for a, b in ECHO_MARKS):
            return gettext("Enter a valid value.")
    return message


# How validation messages quote the value they refuse: '"X" is not a valid choice.',
# "Value 'X' is not a valid choice.", "Object with code=X does not exist."
ECHO_MARKS = [('"', '"'), ("'", "'"), ("=", " "), ("=", "."), ("“", "”")]


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def not_found(request, exception=None):
    """Django's 404 handler: under /api/ the API's error shape (a malformed id in the path
    matches no URL pattern and never reaches a DRF view), elsewhere the default page."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": {"code": "not_found", "message": gettext("Not found."), "fields": {}}},
            status=404,
        )
    return page_not_found(request, exception)


class Pagination(LimitOffsetPagination):
    """DRF's limit/offset pages, but a ``limit`` or ``offset`` that is not a whole number
    (or is negative) is a 400 naming the parameter, not silently the default page."""

    max_limit = 500

    def get_limit(self, request):
        return self._whole(request, self.limit_query_param, super().get_limit(request))

    def get_offset(self, request):
        return self._whole(request, self.offset_query_param, super().get_offset(request))

    @staticmethod
    def _whole(request, name: str, value: int) -> int:
        raw = request.query_params.get(name)
        if raw is not None and not (raw.isascii() and raw.isdigit()):
            raise serializers.ValidationError({name: [gettext("Enter a whole number.")]})
        return value


def paginated(view):
    """Mark a function API view whose GET answers one ``Pagination`` page, so the schema
    says so (``count``, ``next``, ``previous``, ``results``; ``limit`` and ``offset``
    parameters). Put it between ``@extend_schema`` and ``@api_view``."""
    view.cls.pagination_class = Pagination
    return view


def validation_error(exc) -> exceptions.ValidationError:
    """A Django ValidationError raised by a service, as the API's 400 (field errors by field,
    the rest under ``non_field_errors``)."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        )
    return exceptions.ValidationError({"non_field_errors": [str(m) for m in exc.messages]})
