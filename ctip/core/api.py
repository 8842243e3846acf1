"""One error shape for the whole API: {"error": {"code": ..., "message": ..., "fields": {...}}}."""

from __future__ import annotations

from django.http import Http404
from rest_framework import exceptions, serializers
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
        fields = {
            k: [str(m) for m in (v if isinstance(v, list) else [v])]
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


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
